#pragma once
// Group keys in the order sinks write one window's rows (bytewise, as row_before compares
// sort keys), so a pane merger can fire a window without sorting its rows: each pane's
// entries are put in key order once, and a window, which HOP and CUMULATE make of several
// panes, is a merge of those sorted lists. Sorting the rows of every window instead sorted
// each pane once per window it belongs to (five times for Nexmark q5's HOP), and combining
// the panes went through a hash table.
//
// Not thread-safe; owned with its panes by one WindowMerger.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "agg_table.h"

namespace freshet::query {

// An entry of a table with its key's first 16 bytes, zero-padded, as big-endian words: most
// keys are told apart by these alone.
struct KeyHead {
  uint64_t h0 = 0, h1 = 0;
  uint32_t entry = 0;
};

inline KeyHead key_head(std::string_view key, uint32_t entry) {
  char head[16] = {};
  key.copy(head, sizeof head);
  KeyHead h;
  std::memcpy(&h.h0, head, 8);
  std::memcpy(&h.h1, head + 8, 8);
  h.h0 = __builtin_bswap64(h.h0);
  h.h1 = __builtin_bswap64(h.h1);
  h.entry = entry;
  return h;
}

// Whether a's key (an entry of ta) sorts before b's (of tb).
inline bool key_before(const KeyHead& a, const AggTable& ta, const KeyHead& b, const AggTable& tb) {
  if (a.h0 != b.h0) return a.h0 < b.h0;
  if (a.h1 != b.h1) return a.h1 < b.h1;
  return ta.key(ta.entries()[a.entry]) < tb.key(tb.entries()[b.entry]);
}

// The entries of a table in key order. Entries are only ever added, so a table that grew
// since (late data into a fired pane) is sorted again.
class KeyOrder {
 public:
  const std::vector<KeyHead>& of(const AggTable& t);

 private:
  std::vector<KeyHead> heads_;
};

// Merges the key orders of several tables: every key once, ascending, with the entries that
// hold it. Views stay valid while the tables are unchanged.
class KeyMerge {
 public:
  struct Holder {
    const AggTable* table;
    uint32_t entry;
  };

  void clear() {
    cursors_.clear();
    heap_.clear();
  }
  void add(const AggTable& t, const std::vector<KeyHead>& order);
  // The next key and its holders (in the order the tables were added); false when done.
  bool next(std::string_view& key, std::vector<Holder>& holders);

 private:
  struct Cursor {
    const AggTable* table;
    const std::vector<KeyHead>* order;
    size_t next;
    size_t rank;  // the order of add()
  };
  bool after(uint32_t x, uint32_t y) const;

  std::vector<Cursor> cursors_;
  std::vector<uint32_t> heap_;  // cursors with keys left, the one with the least key on top
};

}  // namespace freshet::query
