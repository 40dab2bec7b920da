#pragma once
// Turns an io_uring_setup failure into an Error that names the cause and the fix. The
// messages depend only on the RingSetupContext, so they are unit-tested without a kernel
// that fails. Thread-safe (pure functions; probe reads /proc).

#include <cstdint>
#include <string>

#include "freshet/base/result.h"

namespace freshet::io {

// What the system looked like when io_uring_setup failed.
struct RingSetupContext {
  unsigned entries = 0;
  int io_uring_disabled = -1;  // /proc/sys/kernel/io_uring_disabled; -1 = absent (< 6.6)
  int seccomp_mode = -1;       // "Seccomp:" in /proc/self/status; 2 = filter; -1 = unknown
  bool in_container = false;   // /.dockerenv, /run/.containerenv or container= in environ
  uint64_t memlock_soft = 0;   // RLIMIT_MEMLOCK in bytes; UINT64_MAX = unlimited
  uint64_t memlock_hard = 0;
};

// Reads the context of the running process.
RingSetupContext probe_ring_setup_context(unsigned entries);
// The user-facing explanation for io_uring_setup failing with `err`.
std::string ring_setup_message(int err, const RingSetupContext& ctx);
// The same as an Error: code kUnavailable, sys_errno = err.
Error ring_setup_error(int err, const RingSetupContext& ctx);

}  // namespace freshet::io
