#include "freshet/io/ring.h"

#include <cerrno>

#include "freshet/base/assert.h"
#include "freshet/io/ring_error.h"

namespace freshet::io {
namespace {

// Dispatch in batches: copying CQEs out before running handlers lets a handler queue new
// SQEs (and even flush the CQ, see stash_completions) without invalidating the batch.
constexpr unsigned kReapBatch = 64;

}  // namespace

Result<std::unique_ptr<Ring>> Ring::create(const RingOptions& options) {
  std::unique_ptr<Ring> ring(new Ring());
  io_uring_params params{};
  params.flags = options.flags | IORING_SETUP_CQSIZE;
  params.cq_entries = options.entries * 2;
  int r = io_uring_queue_init_params(options.entries, &ring->ring_, &params);
  if (r < 0) return tl::unexpected(ring_setup_error(-r, probe_ring_setup_context(options.entries)));
  ring->initialised_ = true;
  ring->deferred_.reserve(kReapBatch);
  return ring;
}

Ring::~Ring() {
  if (initialised_) io_uring_queue_exit(&ring_);
}

io_uring_sqe* Ring::get_sqe() {
  // Fast path: a free SQE. Otherwise the SQ is full of queued work: hand it to the kernel
  // and retry. submit() can only fail on a busy CQ, which stash_completions() clears.
  for (;;) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
    submit();
  }
}

void Ring::prep_done(io_uring_sqe* sqe, Completion* c) {
  io_uring_sqe_set_data(sqe, c);
  ++in_flight_;
}

void Ring::submit() {
  for (;;) {
    int r = io_uring_submit(&ring_);
    if (r >= 0) return;
    if (r == -EINTR) continue;
    // EBUSY/EAGAIN: the kernel refuses new work until the CQ has room.
    FRESHET_ASSERT(r == -EBUSY || r == -EAGAIN, "io_uring_submit failed: errno {}", -r);
    stash_completions();
  }
}

void Ring::stash_completions() {
  io_uring_cqe* cqe = nullptr;
  unsigned head = 0;
  unsigned n = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    deferred_.push_back(Cqe{cqe->user_data, cqe->res, cqe->flags});
    ++n;
  }
  io_uring_cq_advance(&ring_, n);
}

void Ring::read(int fd, void* buf, unsigned len, uint64_t offset, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_read(sqe, fd, buf, len, offset);
  prep_done(sqe, c);
}

void Ring::write(int fd, const void* buf, unsigned len, uint64_t offset, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_write(sqe, fd, buf, len, offset);
  prep_done(sqe, c);
}

void Ring::fsync(int fd, bool datasync, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_fsync(sqe, fd, datasync ? IORING_FSYNC_DATASYNC : 0);
  prep_done(sqe, c);
}

void Ring::timeout(__kernel_timespec* ts, unsigned count, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_timeout(sqe, ts, count, 0);
  prep_done(sqe, c);
}

void Ring::accept(int fd, sockaddr* addr, socklen_t* addrlen, int flags, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_accept(sqe, fd, addr, addrlen, flags);
  prep_done(sqe, c);
}

void Ring::recv(int fd, void* buf, size_t len, int flags, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_recv(sqe, fd, buf, len, flags);
  prep_done(sqe, c);
}

void Ring::send(int fd, const void* buf, size_t len, int flags, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_send(sqe, fd, buf, len, flags);
  prep_done(sqe, c);
}

void Ring::poll_add(int fd, unsigned poll_mask, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_poll_add(sqe, fd, poll_mask);
  prep_done(sqe, c);
}

void Ring::cancel(Completion* target, Completion* c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_cancel(sqe, target, 0);
  prep_done(sqe, c);
}

size_t Ring::dispatch(const Cqe* cqes, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    // liburing's own timeout SQE (only on kernels without EXT_ARG, before 5.11).
    if (cqes[i].user_data == LIBURING_UDATA_TIMEOUT) continue;
    // A multishot operation stays in flight while the kernel sets F_MORE.
    if ((cqes[i].flags & IORING_CQE_F_MORE) == 0) --in_flight_;
    auto* c = reinterpret_cast<Completion*>(static_cast<uintptr_t>(cqes[i].user_data));
    if (c != nullptr) c->complete(cqes[i].res, cqes[i].flags);
  }
  return n;
}

size_t Ring::reap(bool wait, int64_t timeout_ns) {
  size_t dispatched = 0;
  if (!deferred_.empty()) {
    std::vector<Cqe> batch;
    batch.swap(deferred_);
    dispatched += dispatch(batch.data(), batch.size());
    wait = false;  // we did work; do not sleep this turn
  }
  if (wait && io_uring_cq_ready(&ring_) == 0) {
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{};
    __kernel_timespec* tsp = nullptr;
    if (timeout_ns >= 0) {
      ts.tv_sec = timeout_ns / 1'000'000'000;
      ts.tv_nsec = timeout_ns % 1'000'000'000;
      tsp = &ts;
    }
    // Submits and waits in one io_uring_enter (EXT_ARG timeout: no timeout SQE needed).
    int r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, tsp, nullptr);
    FRESHET_ASSERT(r >= 0 || r == -ETIME || r == -EINTR || r == -EBUSY || r == -EAGAIN,
                   "io_uring wait failed: errno {}", -r);
  } else if (io_uring_sq_ready(&ring_) > 0) {
    submit();
  }
  // CQEs that did not fit the CQ wait in the kernel's overflow list until we enter it.
  if ((IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_CQ_OVERFLOW) != 0) {
    io_uring_get_events(&ring_);
  }
  Cqe batch[kReapBatch];
  for (;;) {
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned n = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      batch[n++] = Cqe{cqe->user_data, cqe->res, cqe->flags};
      if (n == kReapBatch) break;
    }
    if (n == 0) break;
    io_uring_cq_advance(&ring_, n);
    dispatched += dispatch(batch, n);
    if (n < kReapBatch) break;
  }
  return dispatched;
}

}  // namespace freshet::io
