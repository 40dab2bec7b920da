#pragma once
// UniqueFd: sole owner of a file descriptor, closed on destruction. Move-only. Not
// thread-safe; it lives on whichever shard (or thread) created it and moves with ownership.

#include <utility>

namespace freshet::io {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  // Gives up ownership without closing; the caller must close the returned fd.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  // Closes the current fd (if any) and takes ownership of `fd`. close() errors are ignored:
  // POSIX leaves the fd state unspecified after EINTR, and durability comes from fsync.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

}  // namespace freshet::io
