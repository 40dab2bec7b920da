#pragma once
// FaultInjectingFileSystem: a FileSystem that forwards to another one and, on request, fails
// chosen calls with a chosen errno or tears a pwrite, while counting calls per operation. It
// is the test seam for durability and recovery code (LevelDB's fault_injection_test).
//
// Thread-safe: shards may share one instance; a mutex guards the fault table (tests only).
// The wrapped FileSystem is borrowed and must outlive this object.

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>

#include "freshet/io/file_system.h"

namespace freshet::io {

enum class FsOp : uint8_t {
  kOpen,
  kPwrite,
  kPread,
  kFsync,
  kFdatasync,
  kFtruncate,
  kFallocate,
  kFileSize,
  kRename,
  kUnlink,
  kRemoveAll,
  kMkdirs,
  kFsyncDir,
  kListDir,
  kExists,
  kMap,
  kLockFile,
};
inline constexpr size_t kFsOpCount = 17;
std::string_view to_string(FsOp op);

class FaultInjectingFileSystem final : public FileSystem {
 public:
  explicit FaultInjectingFileSystem(FileSystem& base) : base_(base) {}

  // The `n`-th call of `op` from now (1 = the next one) fails with `err` and does nothing.
  void fail_nth(FsOp op, uint64_t n, int err);
  // Every call of `op` from now on fails with `err` (a full or read-only disk).
  void fail_always(FsOp op, int err);
  // The `n`-th pwrite from now writes only its first `keep_bytes` bytes, then reports
  // success as if all were written (err == 0: a crash after the ack) or fails with `err`.
  void tear_nth_pwrite(uint64_t n, size_t keep_bytes, int err = 0);
  // Removes every pending fault; counters are kept.
  void clear_faults();
  // Calls of `op` so far, failed ones included.
  uint64_t calls(FsOp op) const;

  Result<UniqueFd> open(const std::string& path, int flags, mode_t mode = 0644) override;
  Result<size_t> pwrite(int fd, const void* data, size_t len, uint64_t offset) override;
  Result<size_t> pread(int fd, void* data, size_t len, uint64_t offset) override;
  Status fsync(int fd) override;
  Status fdatasync(int fd) override;
  Status ftruncate(int fd, uint64_t length) override;
  Status fallocate(int fd, uint64_t offset, uint64_t len) override;
  Status reserve(int fd, uint64_t len) override;
  Result<uint64_t> file_size(int fd) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status unlink(const std::string& path) override;
  Status remove_all(const std::string& path) override;
  Status mkdirs(const std::string& path) override;
  Status fsync_dir(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;
  Result<bool> exists(const std::string& path) override;
  Result<MappedRegion> map(int fd, size_t len, bool writable) override;
  Result<UniqueFd> lock_file(const std::string& path) override;

 private:
  struct Fault {
    uint64_t at_call = 0;  // absolute call number that fails; 0 = none
    bool always = false;
    int err = 0;
    std::optional<size_t> tear_keep;  // pwrite only
  };
  // Counts the call and returns the fault to inject for it, if any (consuming one-shots).
  std::optional<Fault> next_call(FsOp op);

  FileSystem& base_;
  mutable std::mutex mu_;
  std::array<uint64_t, kFsOpCount> calls_{};  // guarded by mu_
  std::array<Fault, kFsOpCount> faults_{};    // guarded by mu_
};

}  // namespace freshet::io
