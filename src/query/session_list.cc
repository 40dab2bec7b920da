#include "session_list.h"

#include <algorithm>

#include "freshet/base/assert.h"

namespace freshet::query {

namespace {

void absorb(Session& dst, Session& src, const std::vector<AggSpec>& aggs) {
  for (size_t a = 0; a < aggs.size(); ++a)
    agg_merge(aggs[a].kind, dst.states[a], dst.store, src.states[a], src.store.data(),
              &src.store.ext);
  dst.start = std::min(dst.start, src.start);
  dst.end = std::max(dst.end, src.end);
  dst.version = std::max(dst.version, src.version);
  dst.dirty = dst.dirty || src.dirty || src.version >= 0;
  dst.early_changed = dst.early_changed || src.early_changed;
  dst.emitted.insert(dst.emitted.end(), src.emitted.begin(), src.emitted.end());
}

}  // namespace

Session& session_add(std::vector<Session>& list, TimestampMs start, TimestampMs end,
                     const std::vector<AggSpec>& aggs) {
  // First session that ends at or after `start` (touching counts), then every one that
  // starts at or before `end`.
  auto first = std::lower_bound(list.begin(), list.end(), start,
                                [](const Session& s, TimestampMs t) { return s.end < t; });
  auto last = first;
  while (last != list.end() && last->start <= end) ++last;
  if (first == last) {
    Session s;
    s.start = start;
    s.end = end;
    s.states.resize(aggs.size());
    return *list.insert(first, std::move(s));
  }
  Session& keep = *first;
  if (keep.version >= 0 && (start < keep.start || end > keep.end)) keep.dirty = true;
  keep.start = std::min(keep.start, start);
  keep.end = std::max(keep.end, end);
  for (auto it = first + 1; it != last; ++it) absorb(keep, *it, aggs);
  size_t index = static_cast<size_t>(first - list.begin());
  list.erase(first + 1, last);
  return list[index];
}

size_t SessionTable::slot_of(std::string_view key, uint64_t hash) const {
  // Indexed by the hash's top bits, as AggTable: the low ones pick the owner shard.
  size_t i = hash >> shift_;
  for (;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.entry == kEmpty || (s.hash == hash && entries_[s.entry].key == key)) return i;
  }
}

std::vector<Session>& SessionTable::get(std::string_view key, uint64_t hash) {
  const size_t i = slot_of(key, hash);
  if (slots_[i].entry != kEmpty) return entries_[slots_[i].entry].list;
  slots_[i] = {hash, static_cast<uint32_t>(entries_.size())};
  entries_.push_back({hash, std::string(key), {}});
  if (entries_.size() * 2 > slots_.size()) rehash(slots_.size() * 2);
  return entries_.back().list;
}

SessionTable::Entry* SessionTable::find(std::string_view key, uint64_t hash) {
  const size_t i = slot_of(key, hash);
  return slots_[i].entry == kEmpty ? nullptr : &entries_[slots_[i].entry];
}

void SessionTable::erase(const Entry& e) {
  size_t i = slot_of(e.key, e.hash);
  const uint32_t gone = slots_[i].entry;
  FRESHET_ASSERT(gone != kEmpty, "erasing a key that is not in the table");
  // Backward-shift deletion: pull later members of the probe run into the hole, so lookups
  // never need tombstones.
  for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    if (slots_[j].entry == kEmpty) break;
    const size_t home = slots_[j].hash >> shift_;
    // Slot j may move to i if its home is not in (i, j] (cyclically).
    if (((j - home) & mask_) >= ((j - i) & mask_)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
  // Keep the entries dense: the last one takes the erased one's place.
  const auto last = static_cast<uint32_t>(entries_.size() - 1);
  if (gone != last) {
    entries_[gone] = std::move(entries_[last]);
    const Entry& moved = entries_[gone];
    for (size_t j = moved.hash >> shift_;; j = (j + 1) & mask_)
      if (slots_[j].entry == last) {
        slots_[j].entry = gone;
        break;
      }
  }
  entries_.pop_back();
}

void SessionTable::rehash(size_t capacity) {
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
