#pragma once
// Output rows of a query, in batches: what WindowMerger::fire and StatelessOperator::process
// append, what travels to the sink's shard, and what the sink releases in order.
//
// A batch keeps every row's key and JSON text in one buffer and a small fixed-size record per
// row, so a fire of 40 k rows costs two growing buffers instead of 40 k string allocations,
// and ordering rows sorts 72-byte records instead of moving strings.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "freshet/base/hash.h"
#include "freshet/base/ids.h"

namespace freshet::query {

// One row, as a view into the FiredRows that holds it (valid while that batch is unchanged).
struct FiredRow {
  enum class Kind : uint8_t {
    kFinal,       // the window's main firing (version 0)
    kLateUpdate,  // a re-fire after late-but-allowed data; upsert on (key, window)
    kEarly,       // fire_early(): the current value of a window that has not closed yet
  };
  using Bounds = std::pair<TimestampMs, TimestampMs>;
  TimestampMs window_start = 0;
  TimestampMs window_end = 0;
  std::string_view sort_key;  // group key encoding, bytewise comparable
  std::string_view line;      // one JSON object, no newline, columns in SELECT order
  // Per (window, key): 0 for the first row, +1 for each late update. Plans with allowed
  // lateness also print it as a trailing column, `_version`. Early rows do not use up a
  // version: they carry 0, like the main firing that follows them.
  uint32_t version = 0;
  Kind kind = Kind::kFinal;
  // Sessions only: earlier rows of this key, by (window_start, window_end), that this row
  // supersedes because late data merged their sessions into this one.
  std::span<const Bounds> replaces;
};

// The order rows are written in: by row time (window_end), then window_start, key, version
// and text. The text breaks ties between rows without a key (stateless queries, windows
// without GROUP BY), so a file does not depend on which shard delivered first. It goes by a
// hash of the text first: any fixed order would do, and rows of one query share long
// prefixes (`{"auction":`), which made comparing texts most of a stateless query's cost.
inline bool row_before(const FiredRow& a, const FiredRow& b) {
  if (a.window_end != b.window_end) return a.window_end < b.window_end;
  if (a.window_start != b.window_start) return a.window_start < b.window_start;
  if (a.sort_key != b.sort_key) return a.sort_key < b.sort_key;
  if (a.version != b.version) return a.version < b.version;
  const uint64_t ha = hash64(a.line), hb = hash64(b.line);
  if (ha != hb) return ha < hb;
  return a.line < b.line;
}

// A batch of rows. Owned by one shard at a time; moved, never shared, across shards.
class FiredRows {
 public:
  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  FiredRow operator[](size_t i) const { return view(rows_[i]); }
  void clear() {
    rows_.clear();
    text_.clear();
    replaces_.clear();
  }

  // Appending a row: start_row() with its metadata returns the buffer to append the JSON line
  // to (nothing else), then finish_row() closes it.
  std::string& start_row(TimestampMs window_start, TimestampMs window_end, std::string_view key,
                         uint32_t version, FiredRow::Kind kind) {
    Row r;
    r.window_start = window_start;
    r.window_end = window_end;
    r.text = text_.size();
    r.key_len = static_cast<uint32_t>(key.size());
    r.version = version;
    r.kind = kind;
    r.replaces = static_cast<uint32_t>(replaces_.size());
    char head[16] = {};
    key.copy(head, sizeof head);
    r.key_head[0] = load_be64(head);
    r.key_head[1] = load_be64(head + 8);
    text_.append(key);
    rows_.push_back(r);
    return text_;
  }
  void finish_row() {
    Row& r = rows_.back();
    r.line_len = static_cast<uint32_t>(text_.size() - r.text - r.key_len);
    // Rows without a key are told apart by their text: keep its hash at hand for sorting.
    if (r.key_len == 0) r.line_hash = hash64(std::string_view(text_).substr(r.text, r.line_len));
  }
  // Adds to the row begun last.
  void add_replaced(FiredRow::Bounds b) {
    replaces_.push_back(b);
    ++rows_.back().n_replaces;
  }
  // Copies a row of any batch (its replaced bounds too).
  void push(const FiredRow& r) {
    start_row(r.window_start, r.window_end, r.sort_key, r.version, r.kind).append(r.line);
    finish_row();
    for (const auto& b : r.replaces) add_replaced(b);
  }

  // Orders the rows from index `from` on by row_before.
  // Pane mergers fire rows in order already: checking costs one comparison a row, sorting
  // sorted input still n log n. Stateless rows come as a few runs in time order (each
  // partition's batches in read order): each run's rows of equal time are sorted, and the
  // runs merged. Sorting such batches whole was a quarter of a Nexmark q0 replay.
  void sort_from(size_t from) {
    const auto first = rows_.begin() + static_cast<ptrdiff_t>(from);
    const auto last = rows_.end();
    auto less = [this](const Row& a, const Row& b) { return before(*this, a, *this, b); };
    if (std::is_sorted(first, last, less)) return;
    std::vector<decltype(rows_)::iterator> runs{first};
    for (auto it = first + 1; it < last; ++it)
      if (it->window_end < (it - 1)->window_end) runs.push_back(it);
    if (runs.size() > static_cast<size_t>(last - first) / 16) {  // hardly in time order
      std::sort(first, last, less);
      return;
    }
    for (auto it = first; it != last;) {
      auto same = it + 1;
      while (same != last && same->window_end == it->window_end) ++same;
      if (same - it > 1) std::sort(it, same, less);
      it = same;
    }
    runs.push_back(last);
    while (runs.size() > 2) {  // merge neighbouring runs pairwise: log2(runs) passes
      size_t kept = 0;
      for (size_t k = 0; k + 1 < runs.size(); k += 2) {
        if (k + 2 < runs.size()) std::inplace_merge(runs[k], runs[k + 1], runs[k + 2], less);
        runs[kept++] = runs[k];
      }
      runs[kept++] = runs.back();
      runs.resize(kept);
    }
  }
  // row_before(a[i], b[j]), for rows of two batches.
  static bool before(const FiredRows& a, size_t i, const FiredRows& b, size_t j) {
    return before(a, a.rows_[i], b, b.rows_[j]);
  }
  TimestampMs window_end(size_t i) const { return rows_[i].window_end; }

  class Iterator {
   public:
    Iterator(const FiredRows* rows, size_t i) : rows_(rows), i_(i) {}
    FiredRow operator*() const { return (*rows_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }

   private:
    const FiredRows* rows_;
    size_t i_;
  };
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, rows_.size()}; }

 private:
  struct Row {
    TimestampMs window_start = 0;
    TimestampMs window_end = 0;
    uint64_t key_head[2] = {};  // the key's first 16 bytes, zero-padded, as big-endian words
    uint64_t line_hash = 0;     // hash64 of the line, for rows without a key
    size_t text = 0;            // the key, then the line, in text_
    uint32_t key_len = 0;
    uint32_t line_len = 0;
    uint32_t version = 0;
    uint32_t replaces = 0;  // first index into replaces_
    uint32_t n_replaces = 0;
    FiredRow::Kind kind = FiredRow::Kind::kFinal;
  };
  static bool before(const FiredRows& as, const Row& a, const FiredRows& bs, const Row& b) {
    // Most rows differ in time or in their key's first 16 bytes: decide those from the
    // records, without reaching into the text buffers.
    if (a.window_end != b.window_end) return a.window_end < b.window_end;
    if (a.window_start != b.window_start) return a.window_start < b.window_start;
    if (a.key_head[0] != b.key_head[0]) return a.key_head[0] < b.key_head[0];
    if (a.key_head[1] != b.key_head[1]) return a.key_head[1] < b.key_head[1];
    if (a.key_len == 0 && b.key_len == 0) {  // equal keys: row_before's version, then hash
      if (a.version != b.version) return a.version < b.version;
      if (a.line_hash != b.line_hash) return a.line_hash < b.line_hash;
    }
    return row_before(as.view(a), bs.view(b));
  }
  static uint64_t load_be64(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return __builtin_bswap64(v);
  }
  FiredRow view(const Row& r) const {
    FiredRow v;
    v.window_start = r.window_start;
    v.window_end = r.window_end;
    v.sort_key = std::string_view(text_).substr(r.text, r.key_len);
    v.line = std::string_view(text_).substr(r.text + r.key_len, r.line_len);
    v.version = r.version;
    v.kind = r.kind;
    v.replaces = std::span<const FiredRow::Bounds>(replaces_).subspan(r.replaces, r.n_replaces);
    return v;
  }

  std::vector<Row> rows_;
  std::string text_;
  std::vector<FiredRow::Bounds> replaces_;
};

}  // namespace freshet::query
