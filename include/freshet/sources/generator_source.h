#pragma once
// The built-in generator source: writes a deterministic event stream into a topic's
// partitions. One instance per (source, shard), owned by that shard; it generates the events
// whose partition the shard owns, so with N shards each event is produced exactly once and
// the contents of every partition do not depend on N.
//
// Exactly once across crashes: every batch carries the stream's position after its last event
// (source_position.h), so a restarted source, given each partition's last position, appends
// each event that a partition does not hold yet, once, with the same content and timestamps.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "freshet/base/result.h"
#include "freshet/log/partition_log.h"
#include "freshet/sources/payments_profile.h"

namespace freshet::sources {

struct GeneratorOptions {
  // The source's name: the key of its position header. Empty writes no position (tests,
  // benches), and such a source cannot resume.
  std::string name;
  PaymentsOptions profile;
  std::optional<uint64_t> count;  // bounded when set
  std::string key_field;          // the topic's `key`; "" spreads events round-robin
  int32_t partitions = 1;
  // The wall-clock time of the constructor's `start_ns`. It goes into every position, so a
  // restarted source paces from the same origin and catches up on its downtime. Unset: read
  // from the clocks at construction.
  std::optional<TimestampMs> start_wall_ms;
};

class GeneratorSource {
 public:
  // `owned[p]` is the log of partition p if this shard owns it, else nullptr. `start_ns` is
  // the monotonic time that paces event n at start_ns + n / rate.
  GeneratorSource(GeneratorOptions options, std::vector<log::PartitionLog*> owned,
                  int64_t start_ns);

  // Continues the stream from what the partitions already hold. `positions[p]` is
  // last_source_position(partition p, options.name) for every partition p of the topic
  // (nullopt: none), gathered from their owner shards; call once, before the first step().
  // With no position at all this is a fresh start and changes nothing. Otherwise the stream's
  // start_time and pacing origin come from the positions (options.profile.start_time is
  // ignored), this slice restarts at the lowest `next` of its owned partitions (0 if one has
  // none) and skips the events a partition already holds, and event n is due at
  // paced + n / rate of the positions: after downtime it catches up at full speed. Positions
  // that do not decode or disagree on the stream are kCorruption.
  Status resume(const std::vector<std::optional<std::string>>& positions);

  // Appends the events due by `now_ns` (at most `max_events` of the stream), one batch per
  // partition. Returns how many events this shard appended.
  Result<uint64_t> step(int64_t now_ns, uint64_t max_events);
  bool finished() const { return options_.count && next_ >= *options_.count; }
  uint64_t appended() const { return appended_; }
  // The stream's start_time (the recovered one after resume()).
  TimestampMs start_time() const { return options_.profile.start_time; }

 private:
  int32_t partition_of(uint64_t n, const std::string& key) const;
  // Writes the position after event `last` into the batch and finishes it.
  void seal(log::BatchBuilder& builder, uint64_t last) const;

  GeneratorOptions options_;
  PaymentsProfile profile_;
  std::vector<log::PartitionLog*> owned_;
  int64_t start_ns_;        // event n is due at start_ns_ + n / rate
  TimestampMs paced_from_;  // the wall time of start_ns_, stored in positions
  std::string header_key_;  // empty: no positions
  uint64_t next_ = 0;       // next event number of the whole stream
  // After resume(): per partition, the first event it does not hold yet; events below
  // skip_below_ are checked against it.
  std::vector<uint64_t> holds_until_;
  uint64_t skip_below_ = 0;
  uint64_t appended_ = 0;
  // Reused across steps: no allocation per event.
  std::vector<std::string> batch_bytes_;
  std::string json_, key_;
};

}  // namespace freshet::sources
