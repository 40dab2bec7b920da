#include "agg_table.h"

namespace freshet::query {

uint32_t AggTable::insert_at(size_t slot, std::string_view key, uint64_t hash) {
  FRESHET_ASSERT(bytes_.size() + key.size() < UINT32_MAX, "window state over 4 GiB");
  auto e = static_cast<uint32_t>(entries_.size());
  entries_.push_back(
      {hash, static_cast<uint32_t>(bytes_.size()), static_cast<uint32_t>(key.size())});
  bytes_.insert(bytes_.end(), key.begin(), key.end());
  states_.resize(states_.size() + aggs_);
  if ((entries_.size()) * 2 > slots_.size()) {
    rehash(slots_.size() * 2);
  } else {
    slots_[slot] = {hash, e};
  }
  return e;
}

void AggTable::rehash(size_t capacity) {
  // Slots are indexed by the hash's top bits: owner shards are chosen by hash % shard_count,
  // so the low bits of every key a merger sees can be alike.
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  shift_ = 64 - __builtin_ctzll(capacity);
  for (uint32_t e = 0; e < entries_.size(); ++e) {
    size_t i = entries_[e].hash >> shift_;
    while (slots_[i].entry != kEmpty) i = (i + 1) & mask_;
    slots_[i] = {entries_[e].hash, e};
  }
}

}  // namespace freshet::query
