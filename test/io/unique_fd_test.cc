#include "freshet/io/unique_fd.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

using freshet::io::UniqueFd;

namespace {
bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }
}  // namespace

TEST_CASE("UniqueFd closes its fd when destroyed") {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(raw >= 0);
  {
    UniqueFd fd(raw);
    CHECK(static_cast<bool>(fd));
    CHECK(is_open(raw));
  }
  CHECK_FALSE(is_open(raw));
}

TEST_CASE("UniqueFd moves ownership and release gives it up without closing") {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(raw >= 0);
  UniqueFd a(raw);
  UniqueFd b(std::move(a));
  CHECK_FALSE(
      static_cast<bool>(a));  // NOLINT(bugprone-use-after-move): checks the moved-from state
  CHECK(b.get() == raw);
  int released = b.release();
  CHECK(released == raw);
  CHECK_FALSE(static_cast<bool>(b));
  CHECK(is_open(raw));
  ::close(raw);
}

TEST_CASE("UniqueFd reset closes the old fd and move-assignment closes the target's fd") {
  int first = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int second = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE((first >= 0 && second >= 0));
  UniqueFd fd(first);
  fd.reset(second);
  CHECK_FALSE(is_open(first));
  CHECK(fd.get() == second);
  UniqueFd other;
  fd = std::move(other);
  CHECK_FALSE(is_open(second));
  CHECK(fd.get() == -1);
}
