#include "freshet/io/ring_error.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <limits>

using namespace freshet;
using namespace freshet::io;

namespace {
bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("ENOSYS says the kernel lacks io_uring") {
  RingSetupContext ctx;
  ctx.entries = 256;
  Error e = ring_setup_error(ENOSYS, ctx);
  CHECK(e.code == ErrorCode::kUnavailable);
  CHECK(e.sys_errno == ENOSYS);
  CHECK(contains(e.message, "256 entries"));
  CHECK(contains(e.message, "no io_uring"));
  CHECK(contains(e.message, "upgrade the kernel"));
}

TEST_CASE("EPERM names the sysctl, the group or the seccomp profile that blocks io_uring") {
  RingSetupContext ctx;
  SUBCASE("sysctl io_uring_disabled=2") {
    ctx.io_uring_disabled = 2;
    std::string m = ring_setup_message(EPERM, ctx);
    CHECK(contains(m, "kernel.io_uring_disabled=2"));
    CHECK(contains(m, "sysctl -w kernel.io_uring_disabled=0"));
  }
  SUBCASE("sysctl io_uring_disabled=1 limits it to io_uring_group") {
    ctx.io_uring_disabled = 1;
    std::string m = ring_setup_message(EPERM, ctx);
    CHECK(contains(m, "io_uring_group"));
    CHECK(contains(m, "sysctl -w kernel.io_uring_disabled=0"));
  }
  SUBCASE("a seccomp filter in a container") {
    ctx.io_uring_disabled = 0;
    ctx.seccomp_mode = 2;
    ctx.in_container = true;
    std::string m = ring_setup_message(EPERM, ctx);
    CHECK(contains(m, "container's seccomp filter"));
    CHECK(contains(m, "--security-opt seccomp="));
  }
  SUBCASE("unknown cause lists every candidate") {
    std::string m = ring_setup_message(EPERM, ctx);
    CHECK(contains(m, "seccomp"));
    CHECK(contains(m, "sysctl -w kernel.io_uring_disabled=0"));
  }
}

TEST_CASE("ENOMEM names the memlock limit and LimitMEMLOCK=infinity") {
  RingSetupContext ctx;
  ctx.memlock_soft = 64 * 1024;
  ctx.memlock_hard = std::numeric_limits<uint64_t>::max();
  std::string m = ring_setup_message(ENOMEM, ctx);
  CHECK(contains(m, "RLIMIT_MEMLOCK is 64 KiB (soft) / unlimited (hard)"));
  CHECK(contains(m, "LimitMEMLOCK=infinity"));
}

TEST_CASE("other errnos keep the errno text") {
  std::string m = ring_setup_message(EBADF, RingSetupContext{});
  CHECK(contains(m, "errno 9"));
}

TEST_CASE("the probe reads the running process's limits") {
  RingSetupContext ctx = probe_ring_setup_context(8);
  CHECK(ctx.entries == 8);
  CHECK(ctx.memlock_hard >= ctx.memlock_soft);
}
