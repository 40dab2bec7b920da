#include "freshet/shard/timer_set.h"

#include <doctest/doctest.h>

#include <vector>

using namespace std::chrono_literals;
using freshet::shard::TimerId;
using freshet::shard::TimerSet;

TEST_CASE("TimerSet runs due timers by deadline, then by creation order") {
  TimerSet timers;
  const auto t0 = TimerSet::Clock::time_point{} + 1h;
  std::vector<int> order;
  timers.add(t0 + 30ms, {}, [&] { order.push_back(30); });
  timers.add(t0 + 10ms, {}, [&] { order.push_back(10); });
  timers.add(t0 + 10ms, {}, [&] { order.push_back(11); });
  TimerId cancelled = timers.add(t0 + 20ms, {}, [&] { order.push_back(20); });
  CHECK(timers.cancel(cancelled));
  CHECK_FALSE(timers.cancel(cancelled));
  CHECK(timers.next_deadline() == t0 + 10ms);
  CHECK(timers.run_due(t0 + 15ms) == 2);
  CHECK(timers.run_due(t0 + 40ms) == 1);
  CHECK(order == std::vector<int>{10, 11, 30});
  CHECK(timers.empty());
}

TEST_CASE("a periodic timer re-arms, skips missed ticks, and can cancel itself") {
  TimerSet timers;
  const auto t0 = TimerSet::Clock::time_point{} + 1h;
  int ticks = 0;
  TimerId id{};
  id = timers.add(t0 + 10ms, 10ms, [&] {
    if (++ticks == 3) timers.cancel(id);
  });
  CHECK(timers.run_due(t0 + 10ms) == 1);
  CHECK(timers.next_deadline() == t0 + 20ms);
  CHECK(timers.run_due(t0 + 55ms) == 1);  // behind: one tick, not three
  CHECK(timers.next_deadline() == t0 + 65ms);
  CHECK(timers.run_due(t0 + 65ms) == 1);
  CHECK(ticks == 3);
  CHECK(timers.empty());
}

TEST_CASE("a timer scheduled by a callback for now waits for the next run") {
  TimerSet timers;
  const auto t0 = TimerSet::Clock::time_point{} + 1h;
  int runs = 0;
  timers.add(t0, {}, [&] {
    ++runs;
    timers.add(t0, {}, [&] { ++runs; });
  });
  CHECK(timers.run_due(t0) == 1);
  CHECK(timers.run_due(t0) == 1);
  CHECK(runs == 2);
}
