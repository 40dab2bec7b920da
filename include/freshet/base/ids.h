#pragma once
// The identifiers that cross module boundaries.

#include <cstdint>
#include <limits>

#include "freshet/base/strong_id.h"

namespace freshet {

struct ShardIdTag {};
struct PartitionIdTag {};
struct OffsetTag {};

using ShardId = StrongId<uint32_t, ShardIdTag>;
using PartitionId = StrongId<int32_t, PartitionIdTag>;  // int32 as in the Kafka protocol
using Offset = StrongId<int64_t, OffsetTag>;            // position of a record in a partition

// Event time and watermarks are int64 milliseconds since the Unix epoch, as in Kafka and
// Flink. They stay plain integers because window arithmetic mixes them with durations.
using TimestampMs = int64_t;
using DurationMs = int64_t;
inline constexpr TimestampMs kMinTimestamp = std::numeric_limits<int64_t>::min();
inline constexpr TimestampMs kMaxTimestamp = std::numeric_limits<int64_t>::max();

}  // namespace freshet
