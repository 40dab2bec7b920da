#include "agg_table.h"

namespace freshet::query {

uint32_t AggTable::insert_at(size_t slot, std::string_view key, uint64_t hash) {
  FRESHET_ASSERT(bytes_.size() + key.size() < UINT32_MAX, "window state over 4 GiB");
  auto e = static_cast<uint32_t>(entries_.size());
  entries_.push_back(
      {hash, static_cast<uint32_t>(bytes_.size()), static_cast<uint32_t>(key.size())});
  bytes_.insert(bytes_.end(), key.begin(), key.end());
  states_.resize(states_.size() + aggs_);
  if (entries_.size() * 2 > slots_.capacity()) {
    slots_.rebuild(slots_.capacity() * 2, static_cast<uint32_t>(entries_.size()),
                   [this](uint32_t i) { return entries_[i].hash; });
  } else {
    slots_[slot] = {hash, e};
  }
  return e;
}

}  // namespace freshet::query
