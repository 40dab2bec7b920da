#pragma once
// Session windows of one group key: disjoint, non-touching intervals [start, end) sorted by
// start, each with its aggregate states. Adding an interval merges every session it overlaps
// or touches (semantics §3.4: the end is the last event plus the gap), carrying the state
// along, so the same code serves the shard-local pieces (LocalAggregator) and the owner's
// exact sessions (WindowMerger), where pieces from different shards can bridge two sessions.
//
// Not thread-safe; owned by one operator.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "aggregate.h"
#include "hash_slots.h"

namespace freshet::query {

struct Session {
  TimestampMs start = 0, end = 0;
  std::vector<AggState> states;
  ByteStore store;
  int64_t version = -1;  // last emitted version; -1: never emitted (owner only)
  bool dirty = false;    // changed since it was last emitted (owner only)
  // Changed since its last early row (owner only, plans with emit_early).
  bool early_changed = false;
  // Bounds this session's data was emitted under before (owner only): a merged session's
  // late update replaces these rows.
  std::vector<std::pair<TimestampMs, TimestampMs>> emitted;
};

using SessionMap =
    std::unordered_map<std::string, std::vector<Session>, StringViewHash, StringViewEq>;

// Group key -> its open sessions, for the per-record lookup of a shard's LocalAggregator:
// open addressing (hash_slots.h), the keys and their lists in one dense array. A std::unordered_map
// there (a prime modulo and a node to chase per record) was an eighth of a Nexmark q11 replay.
// References stay valid until the next insertion or erasure.
class SessionTable {
 public:
  struct Entry {
    uint64_t hash;
    std::string key;
    std::vector<Session> list;
  };

  SessionTable() = default;
  // The sessions of `key` (hash = hash64(key)), an empty list if it had none.
  std::vector<Session>& get(std::string_view key, uint64_t hash);
  // The entry of `key`, or nullptr.
  Entry* find(std::string_view key, uint64_t hash);
  void erase(const Entry& e);
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  size_t slot_of(std::string_view key, uint64_t hash) const;  // its slot, or an empty one

  HashSlots slots_;
  std::vector<Entry> entries_;
};

// Adds [start, end) to the sessions of one key, merging what it overlaps or touches; returns
// the session that now covers it (valid until the list changes).
Session& session_add(std::vector<Session>& list, TimestampMs start, TimestampMs end,
                     const std::vector<AggSpec>& aggs);

// Group keys by the time each next needs work (a piece to ship, a session to fire), so that a
// watermark step visits the keys that are due rather than every key with open sessions: with
// many keys, scanning them all at each step cost more than reading the records. A min-heap
// with lazy deletion: a key may stand in it several times and at times that no longer hold.
// The user keeps the invariant that each key with sessions stands in it at or before the
// time it is next due; on popping a key it checks the key's sessions and pushes it again with
// its next time.
class DueQueue {
 public:
  void push(TimestampMs at, std::string_view key) {
    heap_.emplace_back(at, std::string(key));
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  // Whether a key is queued at or before `t`.
  bool due(TimestampMs t) const { return !heap_.empty() && heap_.front().first <= t; }
  // When the earliest key is queued; the queue must not be empty.
  TimestampMs next_at() const { return heap_.front().first; }
  // The key queued earliest.
  std::string pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    std::string key = std::move(heap_.back().second);
    heap_.pop_back();
    return key;
  }

 private:
  static bool later(const std::pair<TimestampMs, std::string>& a,
                    const std::pair<TimestampMs, std::string>& b) {
    return a.first > b.first;
  }
  std::vector<std::pair<TimestampMs, std::string>> heap_;
};

}  // namespace freshet::query
