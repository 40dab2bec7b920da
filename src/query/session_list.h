#pragma once
// Session windows of one group key: disjoint, non-touching intervals [start, end) sorted by
// start, each with its aggregate states. Adding an interval merges every session it overlaps
// or touches (semantics §3.4: the end is the last event plus the gap), carrying the state
// along, so the same code serves the shard-local pieces (LocalAggregator) and the owner's
// exact sessions (WindowMerger), where pieces from different shards can bridge two sessions.
//
// Not thread-safe; owned by one operator.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "aggregate.h"

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

// Adds [start, end) to the sessions of one key, merging what it overlaps or touches; returns
// the session that now covers it (valid until the list changes).
Session& session_add(std::vector<Session>& list, TimestampMs start, TimestampMs end,
                     const std::vector<AggSpec>& aggs);

}  // namespace freshet::query
