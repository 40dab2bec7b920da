#pragma once
// The first half of a windowed aggregation: reads record values, filters them, assigns them
// to tumbling windows and keeps partial aggregates per (window, group key) until the
// watermark passes the window; then drain() hands the partials to the shards that own their
// keys, where a WindowMerger combines them.

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
  size_t index = 0;         // position in the batch passed to add_batch
  std::string_view reason;  // static text such as "invalid JSON"; valid until the next call
  TimestampMs event_time = kMinTimestamp;  // when it was read
};

// One per (query, shard): owned by the shard that reads the query's partitions and used by
// that shard's thread only (no locks; not thread-safe). Holds the plan shared, read-only.
class LocalAggregator {
 public:
  struct BatchStats {
    uint64_t records = 0;       // values in the batch = filtered_out + malformed + late + kept
    uint64_t filtered_out = 0;  // failed WHERE
    uint64_t malformed = 0;     // bad JSON, missing/invalid ts, non-numeric SUM/AVG field, ...
    uint64_t late = 0;          // window already drained; dropped
    TimestampMs max_event_time = kMinTimestamp;  // over every record with a valid ts
  };
  using RejectFn = std::function<void(const RejectedRecord&)>;

  explicit LocalAggregator(std::shared_ptr<const Plan> plan);
  ~LocalAggregator();
  LocalAggregator(const LocalAggregator&) = delete;
  LocalAggregator& operator=(const LocalAggregator&) = delete;

  // Adds a batch of record values (JSON text) from ONE partition. The caller guarantees
  // `readable_padding` readable bytes after each value (values in an mmap'd log); with less
  // than SIMDJSON_PADDING (64) a value is first copied into an internal padded buffer. Views
  // are not kept past the call.
  BatchStats add_batch(std::span<const std::string_view> values, size_t readable_padding);

  // Moves out every partial for windows with end - 1 <= watermark into out[owner], where
  // owner = hash64(group key encoding) % shard_count; `out` is resized to shard_count and
  // appended to. Afterwards records for those windows count as late.
  void drain(TimestampMs watermark, uint32_t shard_count, std::vector<PartialBatch>& out);

  // Called for each malformed or late record (optional; default none).
  void set_reject_callback(RejectFn fn);
  // Why the last malformed record was rejected ("" if none yet).
  std::string_view last_error() const;
  TimestampMs drained_watermark() const;
  size_t open_windows() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet::query
