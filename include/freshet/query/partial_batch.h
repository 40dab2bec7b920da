#pragma once
// Partial aggregates on their way from the shard that read the records (LocalAggregator) to
// the shard that owns their group keys (WindowMerger). A PartialBatch is a self-contained
// value: it owns its key and string bytes and holds no pointer into the log or into either
// operator, so it can be moved across threads (the move is three vector moves).
//
// The representation is internal to the query module; other modules only move batches and
// ask size()/empty().

#include <cstdint>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/query/int128.h"

namespace freshet::query {

// The running state of one aggregate for one (window, group). Plain data; strings (MIN/MAX of
// strings, FIRST/LAST values) and serialized sketches live in the byte store of whatever holds
// the state, at str_off (see src/query/aggregate.h for the layout per aggregate).
struct AggState {
  Int128 sum = 0;     // SUM/AVG: exact part at `scale`; MIN/MAX: decimal mantissa
  double dbl = 0;     // SUM/AVG: inexact (double) part; MIN/MAX: a double value
  int64_t count = 0;  // COUNT(*): rows; other aggregates: non-null values seen
  uint32_t str_off = 0;
  uint32_t str_len = 0;
  uint32_t str_cap = 0;
  uint8_t scale = 0;  // decimal scale of `sum`
  uint8_t flags = 0;  // kAggInexact | MIN/MAX value type
};

class PartialBatch {
 public:
  // A pane [window_start, window_end) of TUMBLE/HOP/CUMULATE, or a session piece.
  struct Entry {
    TimestampMs window_start = 0;
    TimestampMs window_end = 0;
    uint64_t hash = 0;  // hash64 of the key bytes
    uint32_t key_off = 0;
    uint32_t key_len = 0;
  };

  size_t size() const { return entries.size(); }
  bool empty() const { return entries.empty(); }
  void clear() {
    entries.clear();
    states.clear();
    bytes.clear();
  }

  uint32_t aggs_per_entry = 0;
  std::vector<Entry> entries;
  std::vector<AggState> states;  // entries.size() * aggs_per_entry, entry-major
  std::vector<char> bytes;       // keys, strings and serialized sketches
};

}  // namespace freshet::query
