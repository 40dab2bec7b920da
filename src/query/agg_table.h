#pragma once
// The aggregate state of one window: a flat open-addressing hash table (hash_slots.h) from
// group key encoding to the key's aggregate states. Keys and MIN/MAX strings live in one byte
// store referenced by offset (so it can grow); states live in one array, entry-major. No
// deletion (a whole window is dropped at once).
//
// Not thread-safe; owned by one LocalAggregator or WindowMerger.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "aggregate.h"
#include "freshet/base/assert.h"
#include "freshet/query/partial_batch.h"
#include "hash_slots.h"

namespace freshet::query {

class AggTable {
 public:
  struct Entry {
    uint64_t hash;
    uint32_t key_off;
    uint32_t key_len;
  };

  explicit AggTable(uint32_t aggs_per_entry) : aggs_(aggs_per_entry) {}

  // Empties the table for reuse, keeping every buffer's capacity: a merger combines the panes
  // of each window into one scratch table, and fresh tables per window cost page faults.
  void clear() {
    slots_.clear();
    entries_.clear();
    states_.clear();
    bytes_.clear();
    bytes_.ext.clear();
  }

  // The states of `key` (hash = hash64(key)), inserted zeroed if absent. The pointer is valid
  // until the next insertion.
  AggState* find_or_insert(std::string_view key, uint64_t hash) {
    return states(find_or_insert_entry(key, hash));
  }
  // The same, as the index into entries() (stable: entries are never removed).
  uint32_t find_or_insert_entry(std::string_view key, uint64_t hash) {
    size_t i = slots_.home(hash);
    for (;;) {
      uint32_t e = slots_[i].entry;
      if (e == HashSlots::kEmpty) break;
      if (slots_[i].hash == hash) {
        const Entry& en = entries_[e];
        if (en.key_len == key.size() && same_bytes(bytes_.data() + en.key_off, key)) return e;
      }
      i = slots_.next(i);
    }
    return insert_at(i, key, hash);
  }

  // The states of `key`, or nullptr.
  const AggState* find(std::string_view key, uint64_t hash) const {
    size_t i = slots_.home(hash);
    for (;;) {
      uint32_t e = slots_[i].entry;
      if (e == HashSlots::kEmpty) return nullptr;
      if (slots_[i].hash == hash) {
        const Entry& en = entries_[e];
        if (en.key_len == key.size() && same_bytes(bytes_.data() + en.key_off, key))
          return states_.data() + static_cast<size_t>(e) * aggs_;
      }
      i = slots_.next(i);
    }
  }

  size_t size() const { return entries_.size(); }
  const std::vector<Entry>& entries() const { return entries_; }
  std::string_view key(const Entry& e) const { return {bytes_.data() + e.key_off, e.key_len}; }
  AggState* states(size_t entry) { return states_.data() + entry * aggs_; }
  const AggState* states(size_t entry) const { return states_.data() + entry * aggs_; }
  ByteStore& bytes() { return bytes_; }
  const ByteStore& bytes() const { return bytes_; }
  uint32_t aggs_per_entry() const { return aggs_; }

 private:
  // Whether the key.size() bytes at `a` are `key`. Group keys are mostly short (10 bytes for
  // one integer column), where word compares beat a call to memcmp.
  static bool same_bytes(const char* a, std::string_view key) {
    const char* b = key.data();
    size_t n = key.size();
    if (n > 32) return std::memcmp(a, b, n) == 0;
    for (; n >= 8; n -= 8, a += 8, b += 8) {
      uint64_t x, y;
      std::memcpy(&x, a, 8);
      std::memcpy(&y, b, 8);
      if (x != y) return false;
    }
    for (; n > 0; --n, ++a, ++b)
      if (*a != *b) return false;
    return true;
  }
  uint32_t insert_at(size_t slot, std::string_view key, uint64_t hash);

  uint32_t aggs_;
  HashSlots slots_;
  std::vector<Entry> entries_;
  std::vector<AggState> states_;
  ByteStore bytes_;
};

}  // namespace freshet::query
