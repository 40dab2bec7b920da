#pragma once
// The first half of a windowed aggregation: reads record values, filters them, assigns them
// to windows and keeps partial aggregates until the watermark passes them; then drain() hands
// the partials to the shards that own their keys, where a WindowMerger combines them.
//
// TUMBLE, HOP and CUMULATE partials are kept per (pane, group key), where a pane is the
// tumble size / hop slide / cumulate step (see src/query/windows.h): one update per record
// whatever the window overlap. SESSION partials are per-key local session pieces; the owner
// merges pieces from every shard into exact sessions.
//
// Lateness (semantics §3.5-3.6), with W = drained_watermark() and L = the plan's allowed
// lateness: a record whose every window has W >= end - 1 + L is rejected as kLate with reason
// "past_lateness" (or "after_idle_resume" for a batch the caller marks so); any other record is
// kept, and if its pane was already drained it starts a new partial that the next drain() ships as
// an increment (the owner merges it and re-fires the windows that already fired).

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/query/partial_batch.h"
#include "freshet/query/plan.h"

namespace freshet::query {

// A record that add_batch did not aggregate, for dead-letter and late outputs.
struct RejectedRecord {
  enum class Kind { kMalformed, kLate };
  Kind kind = Kind::kMalformed;
  size_t index = 0;  // position in the batch passed to add_batch
  // "invalid JSON", ..., "past_lateness" for kLate: static text, or a schema mismatch such as
  // "field `status` must be int, found a string" owned by the plan (valid while it lives).
  std::string_view reason;
  TimestampMs event_time = kMinTimestamp;  // when it was read
  TimestampMs watermark = kMinTimestamp;   // the operator's watermark when it arrived
};

// Why a batch's late records are late (semantics §3.6). kAfterIdleResume: the batch comes
// from a partition that was idle and is back but not yet caught up with the watermark the
// others moved on (§3.2 rule 4), so its lateness is the idleness decision's doing, not the
// producer's; it is reported and counted apart.
enum class LateCause { kPastLateness, kAfterIdleResume };

// One per (query, shard): owned by the shard that reads the query's partitions and used by
// that shard's thread only (no locks; not thread-safe). Holds the plan shared, read-only.
class LocalAggregator {
 public:
  struct BatchStats {
    uint64_t records = 0;       // values in the batch = filtered_out + malformed + late + kept
    uint64_t filtered_out = 0;  // failed WHERE
    uint64_t malformed = 0;     // bad JSON, missing/invalid ts, non-numeric SUM/AVG field, ...
    uint64_t late = 0;          // every window past allowed lateness; dropped
    uint64_t late_after_idle_resume = 0;         // of `late`, those of a kAfterIdleResume batch
    TimestampMs max_event_time = kMinTimestamp;  // over every record with a valid ts at or
                                                 // below the future bound
    uint64_t future_clamped = 0;  // records above the bound: kept, but not in max_event_time
  };
  using RejectFn = std::function<void(const RejectedRecord&)>;

  explicit LocalAggregator(std::shared_ptr<const Plan> plan);
  ~LocalAggregator();
  LocalAggregator(const LocalAggregator&) = delete;
  LocalAggregator& operator=(const LocalAggregator&) = delete;

  // Adds a batch of record values (JSON text) from ONE partition. The caller guarantees
  // `readable_padding` readable bytes after each value (values in an mmap'd log); with less
  // than SIMDJSON_PADDING (64) a value is first copied into an internal padded buffer. Views
  // are not kept past the call. `cause` names why the batch's late records are late.
  BatchStats add_batch(std::span<const std::string_view> values, size_t readable_padding,
                       LateCause cause = LateCause::kPastLateness);

  // Moves out every partial that the owner needs to fire windows up to `watermark` into
  // out[owner], where owner = hash64(group key encoding) % shard_count; `out` is resized to
  // shard_count and appended to. Panes go once pane_end - 1 <= watermark (late increments
  // at the next drain); session pieces go once start <= watermark + 1, so that no piece that
  // could touch a session the owner fires is held back. Calling it again with the same
  // watermark ships increments added since.
  void drain(TimestampMs watermark, uint32_t shard_count, std::vector<PartialBatch>& out);
  // At a checkpoint barrier (semantics §3.7): moves out EVERY partial held, whatever its
  // window, into out[owner] as drain() does, so that the owners' snapshots hold all the
  // state. Does not change drained_watermark(), so lateness is judged as before; records for
  // a pane or session piece shipped here start increments, exactly as after drain(). The
  // owner merges a not-yet-fired window's increments as they come.
  void drain_all(uint32_t shard_count, std::vector<PartialBatch>& out);
  // After a restart, on a freshly constructed aggregator: judge lateness as before the crash,
  // as if drain(watermark) had run with nothing held (the watermark never goes back).
  void restore_watermark(TimestampMs watermark);

  // Called for each malformed or late record (optional; default none).
  void set_reject_callback(RejectFn fn);
  // Records stamped after `bound` still flow into their windows but do not raise
  // BatchStats::max_event_time, so one bad clock cannot push the watermark past every honest
  // record (semantics §3.1). kMaxTimestamp (the default) turns the guard off.
  void set_future_bound(TimestampMs bound);
  // Why the last malformed record was rejected ("" if none yet).
  std::string_view last_error() const;
  TimestampMs drained_watermark() const;
  size_t open_windows() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet::query
