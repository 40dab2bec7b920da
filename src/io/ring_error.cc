#include "freshet/io/ring_error.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>

namespace freshet::io {
namespace {

std::string format_limit(uint64_t bytes) {
  if (bytes == std::numeric_limits<uint64_t>::max()) return "unlimited";
  return fmt::format("{} KiB", bytes / 1024);
}

int read_int_file(const char* path) {
  std::ifstream in(path);
  int v = -1;
  if (!(in >> v)) return -1;
  return v;
}

int read_seccomp_mode() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Seccomp:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return -1;
}

std::string seccomp_fix(const RingSetupContext& ctx) {
  std::string where = ctx.in_container ? "this container's" : "the process's";
  return fmt::format(
      "{} seccomp filter blocks io_uring_setup (the default profiles of Docker and containerd "
      "do). Run the container with a profile that allows io_uring_setup, io_uring_enter and "
      "io_uring_register: `docker run --security-opt seccomp=/path/to/profile.json ...` "
      "(`--security-opt seccomp=unconfined` to test); under systemd, add `SystemCallFilter=` "
      "entries for io_uring_setup io_uring_enter io_uring_register",
      where);
}

}  // namespace

RingSetupContext probe_ring_setup_context(unsigned entries) {
  RingSetupContext ctx;
  ctx.entries = entries;
  ctx.io_uring_disabled = read_int_file("/proc/sys/kernel/io_uring_disabled");
  ctx.seccomp_mode = read_seccomp_mode();
  ctx.in_container = ::access("/.dockerenv", F_OK) == 0 ||
                     ::access("/run/.containerenv", F_OK) == 0 ||
                     std::getenv("container") != nullptr;
  rlimit rl{};
  if (::getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
    auto conv = [](rlim_t v) {
      return v == RLIM_INFINITY ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(v);
    };
    ctx.memlock_soft = conv(rl.rlim_cur);
    ctx.memlock_hard = conv(rl.rlim_max);
  }
  return ctx;
}

std::string ring_setup_message(int err, const RingSetupContext& ctx) {
  const std::string head = fmt::format("cannot create an io_uring ({} entries): {} (errno {})",
                                       ctx.entries, std::strerror(err), err);
  switch (err) {
    case ENOSYS:
      return head +
             ". This kernel has no io_uring (built without CONFIG_IO_URING, older than 5.1, or a "
             "sandbox such as gVisor that does not implement it). freshet needs Linux 6.1 or "
             "newer with io_uring enabled: upgrade the kernel or run on a host that has it";
    case EPERM:
    case EACCES:
      if (ctx.io_uring_disabled == 2) {
        return head +
               ". io_uring is disabled system-wide by sysctl kernel.io_uring_disabled=2. Enable "
               "it with `sysctl -w kernel.io_uring_disabled=0` (persist it in /etc/sysctl.d/)";
      }
      if (ctx.io_uring_disabled == 1) {
        return head +
               ". sysctl kernel.io_uring_disabled=1 allows io_uring only to members of the group "
               "in kernel.io_uring_group. Add the service user to that group, or run "
               "`sysctl -w kernel.io_uring_disabled=0`";
      }
      if (ctx.seccomp_mode == 2) return head + ". " + seccomp_fix(ctx);
      return head +
             ". Something forbids io_uring: a seccomp filter (Docker/containerd default "
             "profiles; use `--security-opt seccomp=<profile allowing io_uring_*>`), an LSM "
             "policy, or sysctl kernel.io_uring_disabled (fix: `sysctl -w "
             "kernel.io_uring_disabled=0`)";
    case ENOMEM:
      return head +
             fmt::format(
                 ". The ring's memory could not be locked: RLIMIT_MEMLOCK is {} (soft) / {} "
                 "(hard). Raise it: `LimitMEMLOCK=infinity` in the systemd unit, `ulimit -l "
                 "unlimited` in a shell, `--ulimit memlock=-1` for Docker; or use fewer ring "
                 "entries or shards",
                 format_limit(ctx.memlock_soft), format_limit(ctx.memlock_hard));
    case EINVAL:
      return head +
             ". The kernel rejected the ring parameters: the entry count may be too large or "
             "a requested setup flag is too new for this kernel";
    case EMFILE:
    case ENFILE:
      return head + ". Out of file descriptors: raise `LimitNOFILE=` (or `ulimit -n`)";
    default:
      return head;
  }
}

Error ring_setup_error(int err, const RingSetupContext& ctx) {
  return Error{ErrorCode::kUnavailable, ring_setup_message(err, ctx), err};
}

}  // namespace freshet::io
