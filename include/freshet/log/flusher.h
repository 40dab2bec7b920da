#pragma once
// Flusher: makes appended data durable according to each partition's flush policy, through
// the shard's io_uring, and moves the partition's durable end when the fsyncs complete.
//
//   kNever     data counts as durable when appended (the log's durable_on_append)
//   kInterval  every `interval`, one fsync covers whatever was appended since the last one
//   kAlways    an fsync starts on the loop turn after an append (acks=all): every append made
//              while one is in flight shares the next one (group commit)
//
// At most one fsync is in flight per partition. A failed fsync fails the partition for good
// (PostgreSQL's fsyncgate: after a failed fsync the kernel may have dropped the dirty pages,
// so a retry that succeeds proves nothing): the durable end never moves again, every waiter
// gets the error, and the on_failure callback runs once.
//
// One per shard, owned by it (its state lives with the shard's other per-shard state); every
// call must come from that shard's thread. The partitions are borrowed and must outlive the
// Flusher or be removed first. Destroy it when no fsync is in flight if you can; if not, the
// in-flight completions free themselves when the ring delivers them.

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "freshet/base/result.h"
#include "freshet/log/partition_log.h"
#include "freshet/shard/shard.h"

namespace freshet::log {

enum class FlushMode : uint8_t { kNever, kInterval, kAlways };

struct FlushPolicy {
  FlushMode mode = FlushMode::kNever;
  std::chrono::milliseconds interval{10};  // kInterval only
};

class Flusher {
 public:
  explicit Flusher(shard::Shard& shard);
  ~Flusher();
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  // Starts driving `log` with `policy` (and sets the log's durable_on_append to match).
  void add(PartitionLog& log, FlushPolicy policy);
  // Stops driving `log`; an fsync in flight still completes into it, so remove a log only
  // when it is idle or about to outlive the Flusher anyway.
  void remove(PartitionLog& log);

  // Calls done(ok) once `last` is durable (log.durable_end() > last): at once under kNever or
  // if it already is; after the next fsync that covers it otherwise. done(error) if the
  // partition fails. Runs on this shard.
  void when_durable(PartitionLog& log, Offset last, shard::UniqueFunction<void(Status)> done);
  // Starts an fsync of `log` now if it has unsynced data and none is in flight.
  void flush(PartitionLog& log);
  // Called once per partition whose fsync failed, after its waiters got the error.
  void on_failure(shard::UniqueFunction<void(PartitionLog&, const Error&)> callback) {
    on_failure_ = std::move(callback);
  }

  uint64_t fsyncs_completed() const { return fsyncs_completed_; }

 private:
  struct Partition;
  Partition* find(PartitionLog& log);
  void start(Partition& p);
  void finish(Partition& p);
  bool poll();

  shard::Shard& shard_;
  std::vector<Partition*> partitions_;  // owned; see ~Flusher for in-flight ones
  std::map<std::chrono::milliseconds, shard::TimerId> timers_;  // one per distinct interval
  shard::PollerId poller_{0};
  bool has_poller_ = false;
  shard::UniqueFunction<void(PartitionLog&, const Error&)> on_failure_;
  uint64_t fsyncs_completed_ = 0;
};

}  // namespace freshet::log
