#include "freshet/shard/timer_set.h"

#include <vector>

namespace freshet::shard {

TimerId TimerSet::add(Clock::time_point when, Clock::duration period, Task fn) {
  const uint64_t id = next_id_++;
  by_deadline_.emplace(Key{when, id}, Entry{period, std::move(fn)});
  deadline_of_.emplace(id, when);
  return TimerId(id);
}

bool TimerSet::cancel(TimerId id) {
  if (id.value() == firing_ && firing_ != 0) {
    // The callback is running (it was taken out of the map); stop it from re-arming.
    bool was_live = !firing_cancelled_;
    firing_cancelled_ = true;
    return was_live;
  }
  auto it = deadline_of_.find(id.value());
  if (it == deadline_of_.end()) return false;
  by_deadline_.erase(Key{it->second, id.value()});
  deadline_of_.erase(it);
  return true;
}

size_t TimerSet::run_due(Clock::time_point now) {
  // Timers created by callbacks during this call wait for the next turn, so a callback that
  // schedules a zero-delay timer cannot keep the loop here forever.
  const uint64_t limit = next_id_;
  size_t ran = 0;
  for (auto it = by_deadline_.begin(); it != by_deadline_.end() && it->first.when <= now;) {
    if (it->first.id >= limit) {
      ++it;
      continue;
    }
    auto node = by_deadline_.extract(it);
    const uint64_t id = node.key().id;
    firing_ = id;
    firing_cancelled_ = false;
    node.mapped().fn();
    ++ran;
    firing_ = 0;
    const Clock::duration period = node.mapped().period;
    if (period > Clock::duration::zero() && !firing_cancelled_) {
      Clock::time_point next = node.key().when + period;
      if (next <= now) next = now + period;  // fell behind: skip missed ticks
      node.key() = Key{next, id};
      deadline_of_[id] = next;
      by_deadline_.insert(std::move(node));
    } else {
      deadline_of_.erase(id);
    }
    it = by_deadline_.begin();  // callbacks may have inserted or erased anything
  }
  return ran;
}

std::optional<TimerSet::Clock::time_point> TimerSet::next_deadline() const {
  if (by_deadline_.empty()) return std::nullopt;
  return by_deadline_.begin()->first.when;
}

void TimerSet::clear() {
  by_deadline_.clear();
  deadline_of_.clear();
  firing_cancelled_ = true;
}

}  // namespace freshet::shard
