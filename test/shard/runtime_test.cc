#include "freshet/shard/runtime.h"

#include <doctest/doctest.h>
#include <sched.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "freshet/shard/sharded.h"

using namespace freshet;
using namespace freshet::shard;
using namespace std::chrono_literals;

namespace {

// Two shards unless io_uring is unavailable, in which case the test case skips.
std::unique_ptr<Runtime> make_runtime(uint32_t queue_capacity = 1024) {
  RuntimeOptions options;
  options.shards = 2;
  options.queue_capacity = queue_capacity;
  auto rt = Runtime::create(options);
  if (!rt) {
    MESSAGE("skipping: " << rt.error().message);
    return nullptr;
  }
  return std::move(*rt);
}

// Sends `count` numbered tasks from each shard to the other (and to itself); each receiver
// records the numbers it sees, per source, on its own shard.
struct Flood {
  explicit Flood(uint64_t n) : count(n) {}
  uint64_t count;
  std::vector<uint64_t> seen[2][2];  // [target][source], written only on target
  std::atomic<int> finished{0};
};

void run_flood(Runtime& rt, Flood& flood) {
  REQUIRE(rt.start([&flood](Shard& shard) {
              const uint32_t self = shard.id().value();
              for (uint64_t i = 0; i < flood.count; ++i) {
                for (uint32_t target = 0; target < 2; ++target) {
                  shard.submit_to(ShardId(target), [&flood, self, target, i] {
                    flood.seen[target][self].push_back(i);
                    // Each target expects 2 * count tasks; the last one on each ends it.
                    if (flood.seen[target][0].size() + flood.seen[target][1].size() ==
                            2 * flood.count &&
                        flood.finished.fetch_add(1) == 1) {
                      this_shard().runtime().request_stop();
                    }
                  });
                }
              }
            }).has_value());
  rt.join();
}

void check_fifo(const Flood& flood) {
  for (int target = 0; target < 2; ++target) {
    for (int source = 0; source < 2; ++source) {
      const auto& seen = flood.seen[target][source];
      REQUIRE(seen.size() == flood.count);
      uint64_t out_of_order = 0;
      for (uint64_t i = 0; i < seen.size(); ++i) out_of_order += seen[i] != i;
      CHECK_MESSAGE(out_of_order == 0, "target " << target << " source " << source);
    }
  }
}

}  // namespace

TEST_CASE("submit_to runs tasks on the target shard in FIFO order per pair, self included") {
  auto rt = make_runtime();
  if (!rt) return;
  Flood flood(200);
  run_flood(*rt, flood);
  check_fifo(flood);
}

TEST_CASE("a flood larger than the queue capacity overflows locally and keeps FIFO order") {
  auto rt = make_runtime(/*queue_capacity=*/64);
  if (!rt) return;
  Flood flood(100'000);
  run_flood(*rt, flood);
  check_fifo(flood);
}

TEST_CASE("submit_to with a reply runs fn on the target and done back on the caller") {
  auto rt = make_runtime();
  if (!rt) return;
  constexpr int kCalls = 1000;
  std::vector<int> results;  // written on shard 0 only
  int void_replies = 0;      // shard 0 only
  std::atomic<int> wrong_shard{0};
  REQUIRE(rt->start([&](Shard& shard) {
              if (shard.id() != ShardId(0)) return;
              for (int i = 0; i < kCalls; ++i) {
                shard.submit_to(
                    ShardId(1),
                    [i, &wrong_shard] {
                      if (this_shard().id() != ShardId(1)) wrong_shard.fetch_add(1);
                      return std::make_unique<int>(i * 2);  // move-only result
                    },
                    [&, i](std::unique_ptr<int> r) {
                      if (this_shard().id() != ShardId(0)) wrong_shard.fetch_add(1);
                      results.push_back(*r - i);
                      if (results.size() == kCalls && void_replies == kCalls) {
                        this_shard().runtime().request_stop();
                      }
                    });
                shard.submit_to(
                    ShardId(1), [] {},
                    [&] {
                      if (++void_replies == kCalls && results.size() == kCalls) {
                        this_shard().runtime().request_stop();
                      }
                    });
              }
            }).has_value());
  rt->join();
  CHECK(wrong_shard.load() == 0);
  REQUIRE(results.size() == kCalls);
  for (int i = 0; i < kCalls; ++i) CHECK(results[i] == i);  // replies keep FIFO order too
  CHECK(void_replies == kCalls);
}

TEST_CASE("timers fire in deadline order, periodic timers repeat, cancelled ones never fire") {
  auto rt = make_runtime();
  if (!rt) return;
  std::vector<int> order;  // shard 1 only
  int ticks = 0;
  std::chrono::steady_clock::time_point started;
  std::chrono::nanoseconds first_delay{};
  REQUIRE(rt->start([&](Shard& shard) {
              if (shard.id() != ShardId(1)) return;
              started = std::chrono::steady_clock::now();
              shard.schedule_after(30ms, [&] {
                order.push_back(30);
                this_shard().runtime().request_stop();
              });
              shard.schedule_after(10ms, [&] {
                order.push_back(10);
                first_delay = std::chrono::steady_clock::now() - started;
              });
              TimerId never = shard.schedule_after(15ms, [&] { order.push_back(15); });
              shard.schedule_after(20ms, [&] { order.push_back(20); });
              shard.cancel_timer(never);
              auto periodic = std::make_shared<TimerId>();
              *periodic = shard.schedule_every(2ms, [&ticks, periodic] {
                if (++ticks == 5) this_shard().cancel_timer(*periodic);
              });
            }).has_value());
  rt->join();
  CHECK(order == std::vector<int>{10, 20, 30});
  CHECK(first_delay >= 10ms);
  CHECK(ticks == 5);
}

TEST_CASE("pollers run every turn until removed and keep the shard awake while busy") {
  auto rt = make_runtime();
  if (!rt) return;
  int busy_calls = 0;
  int idle_calls = 0;
  REQUIRE(rt->start([&](Shard& shard) {
              if (shard.id() != ShardId(0)) return;
              // An idle poller (returns false) still runs whenever the loop turns.
              shard.add_poller([&idle_calls] {
                ++idle_calls;
                return false;
              });
              auto id = std::make_shared<PollerId>();
              *id = shard.add_poller([&busy_calls, id] {
                if (++busy_calls == 10'000) {
                  this_shard().remove_poller(*id);
                  this_shard().runtime().request_stop();
                }
                return true;
              });
            }).has_value());
  rt->join();
  CHECK(busy_calls == 10'000);
  CHECK(idle_calls >= 10'000);
}

TEST_CASE("request_stop from the main thread runs on_stop callbacks, drains work, joins fast") {
  auto rt = make_runtime();
  if (!rt) return;
  std::atomic<int> stop_callbacks{0};
  std::atomic<int> flushed_on_1{0};
  std::atomic<int> signals_blocked{0};
  std::atomic<int> external_runs{0};
  REQUIRE(rt->start([&](Shard& shard) {
              sigset_t mask;
              pthread_sigmask(SIG_BLOCK, nullptr, &mask);
              if (sigismember(&mask, SIGTERM) == 1 && sigismember(&mask, SIGINT) == 1 &&
                  sigismember(&mask, SIGHUP) == 1) {
                signals_blocked.fetch_add(1);
              }
              shard.on_stop([&stop_callbacks, &flushed_on_1] {
                stop_callbacks.fetch_add(1);
                // Work sent from on_stop still runs before the loops exit, replies included.
                if (this_shard().id() == ShardId(0)) {
                  for (int i = 0; i < 1000; ++i) {
                    this_shard().submit_to(
                        ShardId(1), [] { return 1; },
                        [&flushed_on_1](int v) { flushed_on_1.fetch_add(v); });
                  }
                }
              });
              shard.schedule_every(1ms, [] {});  // a live timer must not delay the stop
            }).has_value());
  rt->submit_to(ShardId(1), [&external_runs] {
    if (this_shard().id() == ShardId(1)) external_runs.fetch_add(1);
  });
  std::this_thread::sleep_for(50ms);
  const auto before = std::chrono::steady_clock::now();
  rt->request_stop();
  rt->join();
  const auto took = std::chrono::steady_clock::now() - before;
  CHECK(took < 1s);
  CHECK(stop_callbacks.load() == 2);
  CHECK(flushed_on_1.load() == 1000);
  CHECK(signals_blocked.load() == 2);
  CHECK(external_runs.load() == 1);
}

TEST_CASE("Sharded<T> holds one instance per shard, created and used on that shard") {
  auto rt = make_runtime();
  if (!rt) return;
  struct Counter {
    explicit Counter(uint32_t s) : shard(s) {}
    uint32_t shard;
    int hits = 0;
  };
  Sharded<Counter> counters(rt->shard_count());
  std::atomic<int> mismatches{0};
  std::atomic<int> replies{0};
  REQUIRE(rt->start([&](Shard& shard) {
              counters.emplace_local(shard.id().value());
              const ShardId other(1 - shard.id().value());
              shard.submit_to(
                  other,
                  [&] {
                    Counter& c = counters.local();
                    ++c.hits;
                    return c.shard;
                  },
                  [&, other](uint32_t owner) {
                    if (owner != other.value()) mismatches.fetch_add(1);
                    if (replies.fetch_add(1) == 1) this_shard().runtime().request_stop();
                  });
            }).has_value());
  rt->join();
  CHECK(mismatches.load() == 0);
  CHECK(replies.load() == 2);
}

TEST_CASE("a shard asleep with no timers is woken by a message from another shard") {
  auto rt = make_runtime();
  if (!rt) return;
  std::chrono::nanoseconds round_trip{};
  REQUIRE(rt->start([&](Shard& shard) {
              if (shard.id() != ShardId(0)) return;
              // By then shard 1 has long been blocked in its ring with no timeout.
              shard.schedule_after(20ms, [&] {
                const auto sent = std::chrono::steady_clock::now();
                this_shard().submit_to(
                    ShardId(1), [] {},
                    [&, sent] {
                      round_trip = std::chrono::steady_clock::now() - sent;
                      this_shard().runtime().request_stop();
                    });
              });
            }).has_value());
  rt->join();
  CHECK(round_trip > 0ns);
  CHECK(round_trip < 100ms);
}

TEST_CASE("shards = 0 makes one shard per CPU the process may use") {
  auto rt = Runtime::create(RuntimeOptions{});
  if (!rt) {
    MESSAGE("skipping: " << rt.error().message);
    return;
  }
  cpu_set_t set;
  REQUIRE(sched_getaffinity(0, sizeof(set), &set) == 0);
  CHECK((*rt)->shard_count() == static_cast<uint32_t>(CPU_COUNT(&set)));
}
