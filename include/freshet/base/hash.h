#pragma once
// Hashes with fixed definitions, because their values reach disk and the wire.

#include <cstdint>
#include <string_view>

namespace freshet {

// Kafka's default partitioner hash (murmur2, seed 0x9747b28c), as the Java client computes it.
// A key's partition is (murmur2(key) & 0x7fffffff) % partitions, as in Kafka.
uint32_t murmur2(std::string_view key);
inline int32_t kafka_partition(std::string_view key, int32_t partitions) {
  return static_cast<int32_t>((murmur2(key) & 0x7fffffffu) % static_cast<uint32_t>(partitions));
}

// Fast 64-bit hash for in-memory tables (XXH3). Stable across runs: used to pick the shard
// that owns a group key, so results do not depend on the process.
uint64_t hash64(std::string_view bytes);
uint64_t hash64(const void* data, size_t len, uint64_t seed);

}  // namespace freshet
