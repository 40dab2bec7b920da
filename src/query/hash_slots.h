#pragma once
// The slots of an open-addressing hash table over a dense array of entries (AggTable,
// SessionTable): each slot holds an entry's 64-bit hash and index, so probes rarely touch the
// entries. Linear probing from the hash's top bits: owner shards are chosen by
// hash % shard_count, so the low bits of every key one shard sees can be alike. The table
// keeps the load factor at most 1/2.
//
// Not thread-safe; owned with its table.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace freshet::query {

class HashSlots {
 public:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    uint64_t hash = 0;
    uint32_t entry = kEmpty;
  };

  HashSlots() { reset(16); }

  size_t capacity() const { return slots_.size(); }
  size_t home(uint64_t hash) const { return hash >> shift_; }
  size_t next(size_t i) const { return (i + 1) & mask_; }
  Slot& operator[](size_t i) { return slots_[i]; }
  const Slot& operator[](size_t i) const { return slots_[i]; }
  // Every slot empty, the capacity kept.
  void clear() { std::fill(slots_.begin(), slots_.end(), Slot{}); }

  // `capacity` slots (a power of two), holding entries [0, entries) with hashes hash_of(e).
  template <class HashOf>
  void rebuild(size_t capacity, uint32_t entries, HashOf hash_of) {
    reset(capacity);
    for (uint32_t e = 0; e < entries; ++e) {
      const uint64_t h = hash_of(e);
      size_t i = home(h);
      while (slots_[i].entry != kEmpty) i = next(i);
      slots_[i] = {h, e};
    }
  }

  // Empties slot i, pulling later members of its probe run back into the hole, so lookups
  // never need tombstones.
  void erase_at(size_t i) {
    for (size_t j = next(i); slots_[j].entry != kEmpty; j = next(j)) {
      // Slot j may move to i if its home is not in (i, j], cyclically.
      if (((j - home(slots_[j].hash)) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
  }

  // The slot holding entry `e`, whose hash is `hash` (it must be there).
  size_t slot_of_entry(uint64_t hash, uint32_t e) const {
    size_t i = home(hash);
    while (slots_[i].entry != e) i = next(i);
    return i;
  }

 private:
  void reset(size_t capacity) {
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 64 - __builtin_ctzll(capacity);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
};

}  // namespace freshet::query
