#pragma once
// FileSystem: every blocking file-system call freshet makes, behind one interface (LevelDB's
// Env), so tests can substitute FaultInjectingFileSystem and fail or tear any call.
//
// Calls block. The shard hot path does its data I/O through io::Ring; these are for opening,
// preallocating, recovery and metadata, which run ahead of need or off the hot path.
// posix_file_system() is stateless and thread-safe. Errors are Result errors whose message
// names the operation, the path (for fd calls, the path the fd refers to) and errno.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "freshet/base/result.h"
#include "freshet/io/mapped_region.h"
#include "freshet/io/unique_fd.h"

namespace freshet::io {

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // open(2) with O_CLOEXEC added.
  virtual Result<UniqueFd> open(const std::string& path, int flags, mode_t mode = 0644) = 0;
  // Writes all `len` bytes at `offset` (retrying short writes and EINTR); returns `len`.
  // On return the bytes are in the page cache, not durable: call fdatasync.
  virtual Result<size_t> pwrite(int fd, const void* data, size_t len, uint64_t offset) = 0;
  // Reads up to `len` bytes at `offset`; returns fewer only at end of file.
  virtual Result<size_t> pread(int fd, void* data, size_t len, uint64_t offset) = 0;
  virtual Status fsync(int fd) = 0;
  virtual Status fdatasync(int fd) = 0;
  virtual Status ftruncate(int fd, uint64_t length) = 0;
  // Reserves [offset, offset + len) so later writes cannot fail with ENOSPC.
  virtual Status fallocate(int fd, uint64_t offset, uint64_t len) = 0;
  // Allocates disk blocks for [0, len) without changing the file's size (FALLOC_FL_KEEP_SIZE),
  // so appends up to `len` stay contiguous. A filesystem that cannot is not an error. Blocks
  // past the end are released by ftruncate to the file's size.
  virtual Status reserve(int fd, uint64_t len) = 0;
  virtual Result<uint64_t> file_size(int fd) = 0;
  // rename(2). Durable only after fsync_dir() of the parent directory.
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status unlink(const std::string& path) = 0;
  // Removes a file or a directory tree; a missing path is not an error.
  virtual Status remove_all(const std::string& path) = 0;
  // mkdir -p; existing directories are not an error.
  virtual Status mkdirs(const std::string& path) = 0;
  // fsyncs a directory, making creates, renames and unlinks inside it durable.
  virtual Status fsync_dir(const std::string& path) = 0;
  // Entry names (not paths) in `path`, without "." and "..", sorted.
  virtual Result<std::vector<std::string>> list_dir(const std::string& path) = 0;
  virtual Result<bool> exists(const std::string& path) = 0;
  // mmap(MAP_SHARED) of the first `len` bytes of `fd`.
  virtual Result<MappedRegion> map(int fd, size_t len, bool writable) = 0;
  // Takes an exclusive flock on `path` (created if missing) without waiting. The lock is held
  // while the returned fd is open. kUnavailable if another process holds it.
  virtual Result<UniqueFd> lock_file(const std::string& path) = 0;
};

// The real file system. Never null; lives for the whole process.
FileSystem& posix_file_system();

// The path an fd refers to (from /proc/self/fd), or "fd N". For error messages only.
std::string fd_path(int fd);

}  // namespace freshet::io
