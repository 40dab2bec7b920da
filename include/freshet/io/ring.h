#pragma once
// Ring: a typed wrapper over one io_uring. Each operation takes a Completion* that the kernel
// hands back as user_data; reap() calls Completion::complete with the result (Seastar's
// typed request -> SQE path). Operations only queue SQEs; reap() submits them in one syscall
// together with the wait, so a loop turn costs at most one io_uring_enter.
//
// Ownership and threads: one Ring per shard, used only by the shard thread that owns it
// (it may be created on another thread before that thread starts). Not thread-safe. The
// Completion objects and every buffer, iovec, timespec or sockaddr passed in are borrowed
// and must stay alive until their completion has run (or the ring is destroyed).

#include <liburing.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "freshet/base/result.h"

namespace freshet::io {

// Receives the result of one ring operation. `res` is the syscall-style result (bytes, fd,
// or -errno); `cqe_flags` carries IORING_CQE_F_MORE for multishot operations.
class Completion {
 public:
  virtual void complete(int32_t res, uint32_t cqe_flags) = 0;

 protected:
  Completion() = default;
  Completion(const Completion&) = default;
  Completion& operator=(const Completion&) = default;
  // Not deleted through a Completion*: the owner destroys the concrete object.
  virtual ~Completion() = default;
};

struct RingOptions {
  unsigned entries = 256;  // SQ size; the CQ is twice that
  unsigned flags = 0;      // extra IORING_SETUP_* flags
};

class Ring {
 public:
  // Sets up an io_uring. Failures are kUnavailable errors that name the cause and the fix
  // (see ring_setup_error in ring_error.h).
  static Result<std::unique_ptr<Ring>> create(const RingOptions& options = {});
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Queue one operation each. If the SQ is full they submit and retry; they never fail.
  void read(int fd, void* buf, unsigned len, uint64_t offset, Completion* c);
  void write(int fd, const void* buf, unsigned len, uint64_t offset, Completion* c);
  void fsync(int fd, bool datasync, Completion* c);
  // Completes with -ETIME when `ts` elapses (relative), or 0 after `count` other CQEs.
  void timeout(__kernel_timespec* ts, unsigned count, Completion* c);
  void accept(int fd, sockaddr* addr, socklen_t* addrlen, int flags, Completion* c);
  void recv(int fd, void* buf, size_t len, int flags, Completion* c);
  void send(int fd, const void* buf, size_t len, int flags, Completion* c);
  void poll_add(int fd, unsigned poll_mask, Completion* c);
  // Asks the kernel to cancel the operation whose completion is `target`; `target` still
  // completes (usually with -ECANCELED). `c` (may be null) receives the cancel's own result.
  void cancel(Completion* target, Completion* c);

  // Submits queued SQEs and dispatches ready completions. If `wait` is set and none is ready,
  // blocks until one arrives or `timeout_ns` passes (negative: no timeout). Returns how
  // many completions were dispatched. Completion handlers may queue new operations.
  size_t reap(bool wait, int64_t timeout_ns);
  // Submits queued SQEs without waiting.
  void submit();
  // Operations queued or in the kernel whose final completion has not been dispatched.
  uint64_t in_flight() const { return in_flight_; }
  int fd() const { return ring_.ring_fd; }

 private:
  struct Cqe {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
  };
  Ring() = default;
  io_uring_sqe* get_sqe();
  void prep_done(io_uring_sqe* sqe, Completion* c);
  // Moves ready CQEs into deferred_ so a busy CQ cannot stop submission.
  void stash_completions();
  size_t dispatch(const Cqe* cqes, size_t n);

  io_uring ring_{};
  bool initialised_ = false;
  uint64_t in_flight_ = 0;
  std::vector<Cqe> deferred_;
};

}  // namespace freshet::io
