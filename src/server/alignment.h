#pragma once
// Watermark alignment (Flink's withWatermarkAlignment; semantics §3.10 conformance 11): the
// readers of a query do not read further into a partition whose watermark is more than
// max_drift ahead of the lowest watermark of the topic's active partitions, on every shard.
// A backlog read fast then keeps its partitions' watermarks within max_drift (plus what one
// batch spans) of each other, so state for the windows of the fastest partition does not pile
// up while the slowest holds the watermark back. Alignment changes the read order only.
//
// Each shard keeps one WatermarkAlignment per query; shards exchange their local low mark
// in-band, on the same FIFO channels as their data (never through shared memory). Owned by
// the shard; not thread-safe.
//
// It cannot deadlock: the partition holding the group's low mark is never paused (its
// watermark is the low mark, within any drift), a paused partition still has unread data so
// it is never idle, and finished or idle partitions leave the group. A shard's view of the
// others lags by the messages in flight. Watermarks rise, so a stale value is lower and only
// makes it wait for the next report; a partition back from idleness rejoins the group only
// once it has caught up with its shard's watermark, so it hardly lowers the low mark.

#include <optional>
#include <span>
#include <vector>

#include "freshet/base/ids.h"

namespace freshet::server {

// One partition as alignment sees it.
struct PartitionMark {
  TimestampMs wm = kMinTimestamp;  // kMinTimestamp before its first record
  bool active = true;              // neither finished nor idle
};

// The low and high watermarks of the active partitions of a set. An active partition without
// a watermark yet holds the low mark at kMinTimestamp, as it holds the event-time watermark
// (semantics §3.3: until it has data or goes idle), so alignment never holds back reads
// that the output could use.
struct Marks {
  TimestampMs low = kMaxTimestamp;   // kMaxTimestamp: no active partition
  TimestampMs high = kMinTimestamp;  // over partitions with a watermark
};
Marks marks_of(std::span<const PartitionMark> partitions);

class WatermarkAlignment {
 public:
  // `max_drift` unset: nothing is paused, but the spread is still measured.
  void reset(uint32_t shards, ShardId self, std::optional<DurationMs> max_drift);
  bool pausing() const { return max_drift_.has_value(); }
  // Another shard's low mark, as it last reported it. Shards not heard from yet count as
  // kMinTimestamp, so nothing reads ahead before every shard has spoken.
  void on_report(ShardId from, TimestampMs low);
  // The group's low mark as this shard knows it, with `local_low` for itself.
  TimestampMs group_low(TimestampMs local_low) const;
  // Whether a partition at watermark `wm` may read its next batch.
  bool may_read(TimestampMs wm, TimestampMs local_low) const;
  // Records the spread between this shard's highest partition watermark and the group's low
  // mark (an upper bound on the true spread, as reports only lag behind).
  void observe(const Marks& local);
  // The largest spread observed so far; -1 before any was.
  DurationMs max_spread() const { return max_spread_; }

 private:
  std::optional<DurationMs> max_drift_;
  std::vector<TimestampMs> lows_;  // per shard, as last reported; lows_[self] unused
  size_t self_ = 0;
  DurationMs max_spread_ = -1;
};

}  // namespace freshet::server
