#pragma once
// Aligned checkpoint barriers for an operator with several upstream channels (semantics §3.7
// step 1): once a channel's barrier for epoch n has arrived, whatever that channel sends next
// belongs to epoch n+1, so it waits here until every channel's barrier is in and the operator
// has taken its snapshot. Channels are FIFO (one shard's tasks to another run in order), so
// what arrived before a barrier is exactly what the upstream sent before it.
//
// Owned by the shard of the operator it guards; not thread-safe.

#include <cstddef>
#include <vector>

#include "freshet/base/assert.h"
#include "freshet/shard/task.h"

namespace freshet::server {

class BarrierAligner {
 public:
  void reset(size_t channels) {
    seen_.assign(channels, false);
    held_.clear();
    held_.resize(channels);
    arrived_ = 0;
  }
  // Whether a message from `channel` must wait (its barrier is in, others are not).
  bool holds(size_t channel) const { return arrived_ > 0 && seen_[channel]; }
  void hold(size_t channel, shard::Task task) { held_[channel].push_back(std::move(task)); }
  // Records the barrier of `channel`; true when it was the last one.
  bool arrive(size_t channel) {
    FRESHET_ASSERT(!seen_[channel]);
    seen_[channel] = true;
    return ++arrived_ == seen_.size();
  }
  // Ends the epoch: every channel flows again. Returns what waited, channel by channel in
  // arrival order, for the caller to run after its snapshot.
  std::vector<shard::Task> release() {
    std::vector<shard::Task> out;
    for (auto& h : held_) {
      for (auto& t : h) out.push_back(std::move(t));
      h.clear();
    }
    seen_.assign(seen_.size(), false);
    arrived_ = 0;
    return out;
  }

 private:
  std::vector<bool> seen_;
  std::vector<std::vector<shard::Task>> held_;
  size_t arrived_ = 0;
};

}  // namespace freshet::server
