// The real FileSystem: thin syscall wrappers that turn errno into Errors naming the path.

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "freshet/io/file_system.h"

namespace freshet::io {
namespace {

tl::unexpected<Error> path_error(int err, std::string_view op, const std::string& path) {
  return errno_error(err, fmt::format("{} {}", op, path));
}

tl::unexpected<Error> fd_error(int err, std::string_view op, int fd) {
  return errno_error(err, fmt::format("{} {}", op, fd_path(fd)));
}

Status remove_tree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return ok();
    return path_error(errno, "stat", path);
  }
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return path_error(errno, "open directory", path);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(dir)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        names.emplace_back(e->d_name);
      }
    }
    ::closedir(dir);
    for (const auto& name : names) FRESHET_TRY(remove_tree(path + "/" + name));
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return path_error(errno, "rmdir", path);
    return ok();
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return path_error(errno, "unlink", path);
  return ok();
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<UniqueFd> open(const std::string& path, int flags, mode_t mode) override {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) return path_error(errno, "open", path);
    return UniqueFd(fd);
  }

  Result<size_t> pwrite(int fd, const void* data, size_t len, uint64_t offset) override {
    const auto* p = static_cast<const char*>(data);
    size_t done = 0;
    while (done < len) {
      ssize_t n = ::pwrite(fd, p + done, len - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return fd_error(errno, fmt::format("write {} bytes at offset {} to", len, offset), fd);
      }
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Result<size_t> pread(int fd, void* data, size_t len, uint64_t offset) override {
    auto* p = static_cast<char*>(data);
    size_t done = 0;
    while (done < len) {
      ssize_t n = ::pread(fd, p + done, len - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return fd_error(errno, fmt::format("read {} bytes at offset {} from", len, offset), fd);
      }
      if (n == 0) break;  // end of file
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status fsync(int fd) override {
    if (::fsync(fd) != 0) return fd_error(errno, "fsync", fd);
    return ok();
  }

  Status fdatasync(int fd) override {
    if (::fdatasync(fd) != 0) return fd_error(errno, "fdatasync", fd);
    return ok();
  }

  Status ftruncate(int fd, uint64_t length) override {
    if (::ftruncate(fd, static_cast<off_t>(length)) != 0) {
      return fd_error(errno, fmt::format("truncate to {} bytes", length), fd);
    }
    return ok();
  }

  Status fallocate(int fd, uint64_t offset, uint64_t len) override {
    int r = ::posix_fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(len));
    if (r != 0) return fd_error(r, fmt::format("preallocate {} bytes at {} in", len, offset), fd);
    return ok();
  }

  Status reserve(int fd, uint64_t len) override {
    if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(len)) == 0) return ok();
    if (errno == EOPNOTSUPP) return ok();
    return fd_error(errno, fmt::format("reserve {} bytes in", len), fd);
  }

  Result<uint64_t> file_size(int fd) override {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fd_error(errno, "stat", fd);
    return static_cast<uint64_t>(st.st_size);
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return path_error(errno, "rename", fmt::format("{} to {}", from, to));
    }
    return ok();
  }

  Status unlink(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return path_error(errno, "unlink", path);
    return ok();
  }

  Status remove_all(const std::string& path) override { return remove_tree(path); }

  Status mkdirs(const std::string& path) override {
    if (path.empty()) return make_error(ErrorCode::kInvalidArgument, "mkdirs: empty path");
    // Create each prefix in turn; EEXIST on a prefix is fine if it is a directory.
    for (size_t pos = 1; pos <= path.size(); ++pos) {
      if (pos != path.size() && path[pos] != '/') continue;
      std::string prefix = path.substr(0, pos);
      if (::mkdir(prefix.c_str(), 0755) == 0) continue;
      int err = errno;
      struct stat st {};
      if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
      return path_error(err, "create directory", prefix);
    }
    return ok();
  }

  Status fsync_dir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return path_error(errno, "open directory", path);
    UniqueFd dir(fd);
    if (::fsync(dir.get()) != 0) return path_error(errno, "fsync directory", path);
    return ok();
  }

  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return path_error(errno, "list directory", path);
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(dir)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        names.emplace_back(e->d_name);
      }
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0) return path_error(err, "list directory", path);
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<bool> exists(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return path_error(errno, "stat", path);
  }

  Result<MappedRegion> map(int fd, size_t len, bool writable) override {
    if (len == 0)
      return make_error(ErrorCode::kInvalidArgument, "map {}: zero length", fd_path(fd));
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void* p = ::mmap(nullptr, len, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return fd_error(errno, fmt::format("map {} bytes of", len), fd);
    return MappedRegion(p, len, writable);
  }

  Result<UniqueFd> lock_file(const std::string& path) override {
    FRESHET_ASSIGN_OR_RETURN(UniqueFd fd, open(path, O_RDWR | O_CREAT, 0644));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      if (err == EWOULDBLOCK) {
        Error e{ErrorCode::kUnavailable,
                fmt::format("lock {}: held by another process (is another freshet running on "
                            "this data directory?)",
                            path),
                err};
        return tl::unexpected<Error>(std::move(e));
      }
      return path_error(err, "lock", path);
    }
    return fd;
  }
};

}  // namespace

FileSystem& posix_file_system() {
  static PosixFileSystem fs;
  return fs;
}

std::string fd_path(int fd) {
  char buf[512];
  std::string link = fmt::format("/proc/self/fd/{}", fd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n <= 0) return fmt::format("fd {}", fd);
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace freshet::io
