#include "session_list.h"

#include <algorithm>

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

}  // namespace freshet::query
