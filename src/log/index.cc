// The sparse offset and time indexes of a segment (format in segment_format.h): appending
// entries in place in the preallocated mappings, and the two binary searches.

#include <algorithm>
#include <cstring>

#include "freshet/log/segment_format.h"
#include "segment.h"
#include "varint.h"

namespace freshet::log {

using detail::load_be;
using detail::store_be;

size_t Segment::index_capacity() const {
  if (!index || !timeindex) return 0;
  return std::min(index->map.size() / kOffsetIndexEntrySize,
                  timeindex->map.size() / kTimeIndexEntrySize);
}

IndexEntry Segment::entry(size_t i) const {
  const char* p = reinterpret_cast<const char*>(index->map.data()) + i * kOffsetIndexEntrySize;
  return {load_be<uint32_t>(p), load_be<uint32_t>(p + 4)};
}

TimestampMs Segment::entry_time(size_t i) const {
  const char* p = reinterpret_cast<const char*>(timeindex->map.data()) + i * kTimeIndexEntrySize;
  return load_be<int64_t>(p);
}

bool Segment::add_entry(uint32_t rel, uint32_t pos, TimestampMs max_before) {
  if (entries >= index_capacity()) return false;
  char* o = reinterpret_cast<char*>(index->map.data()) + entries * kOffsetIndexEntrySize;
  store_be<uint32_t>(o, rel);
  store_be<uint32_t>(o + 4, pos);
  char* t = reinterpret_cast<char*>(timeindex->map.data()) + entries * kTimeIndexEntrySize;
  store_be<int64_t>(t, max_before);
  store_be<uint32_t>(t + 8, rel);
  ++entries;
  last_indexed_pos = pos;
  return true;
}

void Segment::drop_entries_from(size_t from) {
  if (from >= entries) return;
  std::memset(reinterpret_cast<char*>(index->map.data()) + from * kOffsetIndexEntrySize, 0,
              (entries - from) * kOffsetIndexEntrySize);
  std::memset(reinterpret_cast<char*>(timeindex->map.data()) + from * kTimeIndexEntrySize, 0,
              (entries - from) * kTimeIndexEntrySize);
  entries = from;
  last_indexed_pos = from == 0 ? 0 : entry(from - 1).pos;
}

IndexEntry Segment::floor_entry(uint32_t rel) const {
  // Entries strictly increase in rel: binary search for the last one <= rel.
  size_t lo = 0, hi = entries;  // answer in [lo, hi): the count of entries with rel <= target
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (entry(mid).rel <= rel)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo == 0 ? IndexEntry{} : entry(lo - 1);
}

IndexEntry Segment::last_entry_before_time(TimestampMs t) const {
  // Timestamps never decrease: the entries with timestamp < t are a prefix. Every batch before
  // the last of them has maxTimestamp < t, so a search for t may start at its batch.
  size_t lo = 0, hi = entries;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (entry_time(mid) < t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo == 0 ? IndexEntry{} : entry(lo - 1);
}

}  // namespace freshet::log
