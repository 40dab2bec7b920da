#pragma once
// The built-in generator source: writes a deterministic event stream into a topic's
// partitions. One instance per (source, shard), owned by that shard; it generates the events
// whose partition the shard owns, so with N shards each event is produced exactly once and
// the contents of every partition do not depend on N.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "freshet/base/result.h"
#include "freshet/log/partition_log.h"
#include "freshet/sources/payments_profile.h"

namespace freshet::sources {

struct GeneratorOptions {
  PaymentsOptions profile;
  std::optional<uint64_t> count;  // bounded when set
  std::string key_field;          // the topic's `key`; "" spreads events round-robin
  int32_t partitions = 1;
};

class GeneratorSource {
 public:
  // `owned[p]` is the log of partition p if this shard owns it, else nullptr. `start_ns` is
  // the monotonic time that paces event n at start_ns + n / rate.
  GeneratorSource(GeneratorOptions options, std::vector<log::PartitionLog*> owned,
                  int64_t start_ns);

  // Appends the events due by `now_ns` (at most `max_events` of the stream), one batch per
  // partition. Returns how many events this shard appended.
  Result<uint64_t> step(int64_t now_ns, uint64_t max_events);
  bool finished() const { return options_.count && next_ >= *options_.count; }
  uint64_t appended() const { return appended_; }

 private:
  int32_t partition_of(uint64_t n, const std::string& key) const;

  GeneratorOptions options_;
  PaymentsProfile profile_;
  std::vector<log::PartitionLog*> owned_;
  int64_t start_ns_;
  uint64_t next_ = 0;  // next event number of the whole stream
  uint64_t appended_ = 0;
  // Reused across steps: no allocation per event.
  std::vector<std::string> batch_bytes_;
  std::string json_, key_;
};

}  // namespace freshet::sources
