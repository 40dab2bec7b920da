#include "freshet/log/flusher.h"

#include <algorithm>
#include <cstring>

#include "freshet/base/log.h"

namespace freshet::log {

// One partition's flush state; also the completion of its fsyncs (one SQE per fd of a sync
// request, all sharing this object, so `outstanding` counts them down).
struct Flusher::Partition final : io::Completion {
  Flusher* owner = nullptr;  // null once the Flusher is gone (the object then frees itself)
  PartitionLog* log = nullptr;
  FlushPolicy policy;
  int outstanding = 0;
  int32_t first_error = 0;
  PartitionLog::SyncRequest request;

  void complete(int32_t res, uint32_t) override {
    if (res < 0 && first_error == 0) first_error = res;
    if (--outstanding > 0) return;
    if (owner == nullptr) {
      delete this;
      return;
    }
    owner->finish(*this);
  }
};

Flusher::Flusher(shard::Shard& shard) : shard_(shard) {}

Flusher::~Flusher() {
  // Off the shard's thread (the owner destroyed after the runtime stopped) its loop has
  // exited: the poller and timers never run again, and the shard may be gone.
  if (shard::on_shard_thread() && &shard::this_shard() == &shard_) {
    if (has_poller_) shard_.remove_poller(poller_);
    for (const auto& [interval, id] : timers_) shard_.cancel_timer(id);
  }
  for (Partition* p : partitions_) {
    if (p->outstanding > 0)
      p->owner = nullptr;  // the ring still holds it: it frees itself on completion
    else
      delete p;
  }
}

Flusher::Partition* Flusher::find(PartitionLog& log) {
  for (Partition* p : partitions_)
    if (p->log == &log) return p;
  return nullptr;
}

void Flusher::add(PartitionLog& log, FlushPolicy policy) {
  FRESHET_ASSERT(find(log) == nullptr, "partition added twice");
  auto* p = new Partition();
  p->owner = this;
  p->log = &log;
  p->policy = policy;
  partitions_.push_back(p);
  log.set_durable_on_append(policy.mode == FlushMode::kNever);
  if (policy.mode == FlushMode::kAlways && !has_poller_) {
    // Group commit: the poller runs once per loop turn, so every append made in that turn
    // (or while the previous fsync was in flight) shares the next fsync.
    poller_ = shard_.add_poller([this] { return poll(); });
    has_poller_ = true;
  }
  if (policy.mode == FlushMode::kInterval && !timers_.contains(policy.interval)) {
    const auto interval = std::max(policy.interval, std::chrono::milliseconds(1));
    timers_[policy.interval] = shard_.schedule_every(interval, [this, key = policy.interval] {
      for (Partition* q : partitions_)
        if (q->policy.mode == FlushMode::kInterval && q->policy.interval == key) start(*q);
    });
  }
}

void Flusher::remove(PartitionLog& log) {
  auto it = std::find_if(partitions_.begin(), partitions_.end(),
                         [&](Partition* p) { return p->log == &log; });
  if (it == partitions_.end()) return;
  Partition* p = *it;
  partitions_.erase(it);
  if (p->outstanding > 0) {
    p->owner = nullptr;
  } else {
    delete p;
  }
}

void Flusher::when_durable(PartitionLog& log, Offset last,
                           shard::UniqueFunction<void(Status)> done) {
  // The log keeps the waiters and completes them when the durable end passes `last` or the
  // partition fails; the policy decides when the fsync that gets it there starts.
  log.when_durable(last, std::move(done));
}

void Flusher::flush(PartitionLog& log) {
  if (Partition* p = find(log)) start(*p);
}

bool Flusher::poll() {
  bool started = false;
  for (Partition* p : partitions_) {
    if (p->policy.mode != FlushMode::kAlways || p->outstanding > 0 || p->log->failed() ||
        !p->log->has_unsynced())
      continue;
    start(*p);
    started = true;
  }
  return started;
}

void Flusher::start(Partition& p) {
  if (p.outstanding > 0 || p.log->failed() || !p.log->has_unsynced()) return;
  p.request = p.log->prepare_sync();
  p.first_error = 0;
  p.outstanding = static_cast<int>(p.request.fds.size());
  for (size_t i = 0; i < p.request.fds.size(); ++i)
    shard_.ring().fsync(p.request.fds[i], p.request.datasync[i], &p);
}

void Flusher::finish(Partition& p) {
  ++fsyncs_completed_;
  const Offset end = p.request.end;
  p.request = {};  // releases the sealed segments it kept open
  if (p.first_error != 0) {
    // Never advance, never retry: the partition is failed for good (see the class comment).
    Error e{ErrorCode::kIo,
            fmt::format("fsync of {} failed: {}; stopping so that nothing unsynced is ever "
                        "served",
                        p.log->dir(), std::strerror(-p.first_error)),
            0};
    p.log->fail(e);
    if (on_failure_) on_failure_(*p.log, e);
    return;
  }
  p.log->complete_sync(end);
}

}  // namespace freshet::log
