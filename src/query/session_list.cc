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
  for (size_t i = slots_.home(hash);; i = slots_.next(i)) {
    const HashSlots::Slot& s = slots_[i];
    if (s.entry == HashSlots::kEmpty || (s.hash == hash && entries_[s.entry].key == key)) return i;
  }
}

std::vector<Session>& SessionTable::get(std::string_view key, uint64_t hash) {
  const size_t i = slot_of(key, hash);
  if (slots_[i].entry != HashSlots::kEmpty) return entries_[slots_[i].entry].list;
  slots_[i] = {hash, static_cast<uint32_t>(entries_.size())};
  entries_.push_back({hash, std::string(key), {}});
  if (entries_.size() * 2 > slots_.capacity())
    slots_.rebuild(slots_.capacity() * 2, static_cast<uint32_t>(entries_.size()),
                   [this](uint32_t e) { return entries_[e].hash; });
  return entries_.back().list;
}

SessionTable::Entry* SessionTable::find(std::string_view key, uint64_t hash) {
  const size_t i = slot_of(key, hash);
  return slots_[i].entry == HashSlots::kEmpty ? nullptr : &entries_[slots_[i].entry];
}

void SessionTable::erase(const Entry& e) {
  const size_t i = slot_of(e.key, e.hash);
  const uint32_t gone = slots_[i].entry;
  FRESHET_ASSERT(gone != HashSlots::kEmpty, "erasing a key that is not in the table");
  slots_.erase_at(i);
  // Keep the entries dense: the last one takes the erased one's place.
  const auto last = static_cast<uint32_t>(entries_.size() - 1);
  if (gone != last) {
    entries_[gone] = std::move(entries_[last]);
    slots_[slots_.slot_of_entry(entries_[gone].hash, last)].entry = gone;
  }
  entries_.pop_back();
}

}  // namespace freshet::query
