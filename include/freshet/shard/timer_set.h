#pragma once
// TimerSet: the one-shot and periodic timers of one shard, ordered by deadline and then by
// creation (so timers with equal deadlines fire in the order they were scheduled). The shard
// loop runs the due ones each turn and sleeps until next_deadline().
//
// Owned by one shard; not thread-safe. Callbacks may schedule and cancel timers, including
// cancelling themselves.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>

#include "freshet/base/strong_id.h"
#include "freshet/shard/task.h"

namespace freshet::shard {

struct TimerIdTag {};
using TimerId = StrongId<uint64_t, TimerIdTag>;

class TimerSet {
 public:
  using Clock = std::chrono::steady_clock;

  // `period` zero: fires once at `when`. Otherwise fires at `when` and then every `period`;
  // a periodic timer that falls behind skips the missed ticks rather than firing in a burst.
  TimerId add(Clock::time_point when, Clock::duration period, Task fn);
  // Returns false if the timer already fired (one-shot) or was cancelled.
  bool cancel(TimerId id);
  // Runs every timer due at `now` that existed when the call began; returns how many ran.
  size_t run_due(Clock::time_point now);
  std::optional<Clock::time_point> next_deadline() const;
  bool empty() const { return by_deadline_.empty(); }
  size_t size() const { return by_deadline_.size(); }
  // Drops every timer without running it.
  void clear();

 private:
  struct Key {
    Clock::time_point when;
    uint64_t id;
    auto operator<=>(const Key&) const = default;
  };
  struct Entry {
    Clock::duration period;
    Task fn;
  };

  std::map<Key, Entry> by_deadline_;
  std::unordered_map<uint64_t, Clock::time_point> deadline_of_;
  uint64_t next_id_ = 1;
  uint64_t firing_ = 0;  // id of the callback running now, 0 if none
  bool firing_cancelled_ = false;
};

}  // namespace freshet::shard
