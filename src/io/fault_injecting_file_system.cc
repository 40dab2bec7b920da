#include "freshet/io/fault_injecting_file_system.h"

#include <algorithm>

namespace freshet::io {
namespace {

size_t index(FsOp op) { return static_cast<size_t>(op); }

tl::unexpected<Error> injected(int err, FsOp op, const std::string& what) {
  return errno_error(err, fmt::format("{} {} (injected fault)", to_string(op), what));
}

}  // namespace

std::string_view to_string(FsOp op) {
  static constexpr std::array<std::string_view, kFsOpCount> kNames = {
      "open",      "pwrite",    "pread",  "fsync",  "fdatasync",  "ftruncate",
      "fallocate", "file_size", "rename", "unlink", "remove_all", "mkdirs",
      "fsync_dir", "list_dir",  "exists", "map",    "lock_file"};
  return kNames[index(op)];
}

void FaultInjectingFileSystem::fail_nth(FsOp op, uint64_t n, int err) {
  std::lock_guard lock(mu_);
  faults_[index(op)] = Fault{calls_[index(op)] + n, false, err, std::nullopt};
}

void FaultInjectingFileSystem::fail_always(FsOp op, int err) {
  std::lock_guard lock(mu_);
  faults_[index(op)] = Fault{0, true, err, std::nullopt};
}

void FaultInjectingFileSystem::tear_nth_pwrite(uint64_t n, size_t keep_bytes, int err) {
  std::lock_guard lock(mu_);
  faults_[index(FsOp::kPwrite)] = Fault{calls_[index(FsOp::kPwrite)] + n, false, err, keep_bytes};
}

void FaultInjectingFileSystem::clear_faults() {
  std::lock_guard lock(mu_);
  faults_ = {};
}

uint64_t FaultInjectingFileSystem::calls(FsOp op) const {
  std::lock_guard lock(mu_);
  return calls_[index(op)];
}

std::optional<FaultInjectingFileSystem::Fault> FaultInjectingFileSystem::next_call(FsOp op) {
  std::lock_guard lock(mu_);
  uint64_t call = ++calls_[index(op)];
  Fault& f = faults_[index(op)];
  if (f.always) return f;
  if (f.at_call != 0 && f.at_call == call) return std::exchange(f, Fault{});
  return std::nullopt;
}

// Every forwarding method has the same shape: count, maybe fail, else forward. `what` is
// only evaluated for an injected fault, so fd_path's readlink stays off the normal path.
#define FRESHET_FAULT_POINT(op, what) \
  if (auto fault = next_call(op); fault.has_value()) return injected(fault->err, op, what)

Result<UniqueFd> FaultInjectingFileSystem::open(const std::string& path, int flags, mode_t mode) {
  FRESHET_FAULT_POINT(FsOp::kOpen, path);
  return base_.open(path, flags, mode);
}

Result<size_t> FaultInjectingFileSystem::pwrite(int fd, const void* data, size_t len,
                                                uint64_t offset) {
  auto fault = next_call(FsOp::kPwrite);
  if (!fault.has_value()) return base_.pwrite(fd, data, len, offset);
  if (fault->tear_keep.has_value()) {
    size_t keep = std::min(*fault->tear_keep, len);
    FRESHET_TRY(base_.pwrite(fd, data, keep, offset));
    if (fault->err == 0) return len;  // the caller believes everything was written
  }
  return injected(fault->err, FsOp::kPwrite, fd_path(fd));
}

Result<size_t> FaultInjectingFileSystem::pread(int fd, void* data, size_t len, uint64_t offset) {
  FRESHET_FAULT_POINT(FsOp::kPread, fd_path(fd));
  return base_.pread(fd, data, len, offset);
}

Status FaultInjectingFileSystem::fsync(int fd) {
  FRESHET_FAULT_POINT(FsOp::kFsync, fd_path(fd));
  return base_.fsync(fd);
}

Status FaultInjectingFileSystem::fdatasync(int fd) {
  FRESHET_FAULT_POINT(FsOp::kFdatasync, fd_path(fd));
  return base_.fdatasync(fd);
}

Status FaultInjectingFileSystem::ftruncate(int fd, uint64_t length) {
  FRESHET_FAULT_POINT(FsOp::kFtruncate, fd_path(fd));
  return base_.ftruncate(fd, length);
}

Status FaultInjectingFileSystem::fallocate(int fd, uint64_t offset, uint64_t len) {
  FRESHET_FAULT_POINT(FsOp::kFallocate, fd_path(fd));
  return base_.fallocate(fd, offset, len);
}

Status FaultInjectingFileSystem::reserve(int fd, uint64_t len) {
  FRESHET_FAULT_POINT(FsOp::kFallocate, fd_path(fd));
  return base_.reserve(fd, len);
}

Result<uint64_t> FaultInjectingFileSystem::file_size(int fd) {
  FRESHET_FAULT_POINT(FsOp::kFileSize, fd_path(fd));
  return base_.file_size(fd);
}

Status FaultInjectingFileSystem::rename(const std::string& from, const std::string& to) {
  FRESHET_FAULT_POINT(FsOp::kRename, from);
  return base_.rename(from, to);
}

Status FaultInjectingFileSystem::unlink(const std::string& path) {
  FRESHET_FAULT_POINT(FsOp::kUnlink, path);
  return base_.unlink(path);
}

Status FaultInjectingFileSystem::remove_all(const std::string& path) {
  FRESHET_FAULT_POINT(FsOp::kRemoveAll, path);
  return base_.remove_all(path);
}

Status FaultInjectingFileSystem::mkdirs(const std::string& path) {
  FRESHET_FAULT_POINT(FsOp::kMkdirs, path);
  return base_.mkdirs(path);
}

Status FaultInjectingFileSystem::fsync_dir(const std::string& path) {
  FRESHET_FAULT_POINT(FsOp::kFsyncDir, path);
  return base_.fsync_dir(path);
}

Result<std::vector<std::string>> FaultInjectingFileSystem::list_dir(const std::string& path) {
  FRESHET_FAULT_POINT(FsOp::kListDir, path);
  return base_.list_dir(path);
}

Result<bool> FaultInjectingFileSystem::exists(const std::string& path) {
  FRESHET_FAULT_POINT(FsOp::kExists, path);
  return base_.exists(path);
}

Result<MappedRegion> FaultInjectingFileSystem::map(int fd, size_t len, bool writable) {
  FRESHET_FAULT_POINT(FsOp::kMap, fd_path(fd));
  return base_.map(fd, len, writable);
}

Result<UniqueFd> FaultInjectingFileSystem::lock_file(const std::string& path) {
  FRESHET_FAULT_POINT(FsOp::kLockFile, path);
  return base_.lock_file(path);
}

#undef FRESHET_FAULT_POINT

}  // namespace freshet::io
