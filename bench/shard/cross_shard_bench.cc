// Cross-shard messaging cost: a one-way stream of small tasks from shard 0 to shard 1, and
// submit_to-with-reply round trips with 1 in flight (sleeping when idle, and spinning 200 µs
// before sleeping) and with 256 in flight. Prints a table and the command line.
//
//   cross_shard_bench [one_way_messages=20000000] [round_trips=200000] [--no-pin]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "freshet/shard/runtime.h"

using namespace freshet;
using namespace freshet::shard;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  uint64_t one_way = 20'000'000;
  uint64_t round_trips = 200'000;
  bool pin = true;
  std::chrono::microseconds idle_poll{0};
};

std::unique_ptr<Runtime> make_runtime(const Config& config) {
  RuntimeOptions options;
  options.shards = 2;
  options.pin = config.pin;
  options.idle_poll = config.idle_poll;
  auto rt = Runtime::create(options);
  if (!rt) {
    std::fprintf(stderr, "cross_shard_bench: %s\n", rt.error().message.c_str());
    std::exit(1);
  }
  return std::move(*rt);
}

// Shard 0 streams `n` tasks to shard 1 from a poller, up to a batch per turn, backing off
// while the queue is full. Returns seconds from the first send to the last task run.
double one_way(const Config& config, uint64_t n) {
  auto rt = make_runtime(config);
  uint64_t received = 0;  // shard 1 only
  Clock::time_point start;
  Clock::time_point end;
  Status started = rt->start([&](Shard& shard) {
    if (shard.id() != ShardId(0)) return;
    start = Clock::now();
    shard.add_poller([&, sent = uint64_t{0}]() mutable {
      Shard& self = this_shard();
      if (sent == n || self.backlogged(ShardId(1))) return false;
      const uint64_t batch = std::min<uint64_t>(256, n - sent);
      for (uint64_t i = 0; i < batch; ++i) {
        self.submit_to(ShardId(1), [&received, &end, n] {
          if (++received == n) {
            end = Clock::now();
            this_shard().runtime().request_stop();
          }
        });
      }
      sent += batch;
      return true;
    });
  });
  if (!started) std::exit(1);
  rt->join();
  return std::chrono::duration<double>(end - start).count();
}

struct RoundTrips {
  double seconds = 0;
  std::vector<double> latencies_us;  // only with one in flight
};

// Shard 0 keeps `window` submit_to-with-reply calls to shard 1 in flight until `n` replies
// have come back.
RoundTrips round_trips(const Config& config, uint64_t n, uint64_t window) {
  auto rt = make_runtime(config);
  RoundTrips out;
  if (window == 1) out.latencies_us.reserve(n);
  struct State {
    uint64_t issued = 0;
    uint64_t done = 0;
    Clock::time_point start;
  } st;
  std::function<void()> issue;  // shard 0 only
  issue = [&] {
    const Clock::time_point sent_at = Clock::now();
    ++st.issued;
    this_shard().submit_to(
        ShardId(1), [] { return 1; },
        [&, sent_at](int) {
          if (window == 1) {
            out.latencies_us.push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - sent_at).count());
          }
          if (++st.done == n) {
            out.seconds = std::chrono::duration<double>(Clock::now() - st.start).count();
            this_shard().runtime().request_stop();
          } else if (st.issued < n) {
            issue();
          }
        });
  };
  Status started = rt->start([&](Shard& shard) {
    if (shard.id() != ShardId(0)) return;
    st.start = Clock::now();
    for (uint64_t i = 0; i < window && i < n; ++i) issue();
  });
  if (!started) std::exit(1);
  rt->join();
  return out;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  std::string command;
  int positional = 0;
  for (int i = 0; i < argc; ++i) {
    command += (i ? " " : "") + std::string(argv[i]);
    if (i == 0) continue;
    if (std::strcmp(argv[i], "--no-pin") == 0) {
      config.pin = false;
    } else if (positional++ == 0) {
      config.one_way = std::strtoull(argv[i], nullptr, 10);
    } else {
      config.round_trips = std::strtoull(argv[i], nullptr, 10);
    }
  }

  const double ow = one_way(config, config.one_way);
  RoundTrips rt1 = round_trips(config, config.round_trips, 1);
  Config spinning = config;
  spinning.idle_poll = std::chrono::microseconds(200);
  RoundTrips rt1_spin = round_trips(spinning, config.round_trips, 1);
  const uint64_t windowed_n = config.round_trips * 10;
  RoundTrips rtw = round_trips(config, windowed_n, 256);

  std::printf("command: %s\n", command.c_str());
  std::printf("shards: 2, pinned: %s, task size: %zu B, queue capacity: 1024\n",
              config.pin ? "yes" : "no", sizeof(Task));
  std::printf("%-34s %12s %9s %16s\n", "case", "messages", "seconds", "rate");
  std::printf("%-34s %12llu %9.3f %11.2f M/s\n", "one-way shard 0 -> 1",
              static_cast<unsigned long long>(config.one_way), ow,
              static_cast<double>(config.one_way) / ow / 1e6);
  std::printf("%-34s %12llu %9.3f %11.1f k/s   p50 %.1f us  p99 %.1f us  p99.9 %.1f us\n",
              "round trip, 1 in flight", static_cast<unsigned long long>(config.round_trips),
              rt1.seconds, static_cast<double>(config.round_trips) / rt1.seconds / 1e3,
              percentile(rt1.latencies_us, 0.50), percentile(rt1.latencies_us, 0.99),
              percentile(rt1.latencies_us, 0.999));
  std::printf("%-34s %12llu %9.3f %11.1f k/s   p50 %.1f us  p99 %.1f us  p99.9 %.1f us\n",
              "round trip, 1 in flight, spin 200us",
              static_cast<unsigned long long>(config.round_trips), rt1_spin.seconds,
              static_cast<double>(config.round_trips) / rt1_spin.seconds / 1e3,
              percentile(rt1_spin.latencies_us, 0.50), percentile(rt1_spin.latencies_us, 0.99),
              percentile(rt1_spin.latencies_us, 0.999));
  std::printf("%-34s %12llu %9.3f %11.2f M/s\n", "round trip, 256 in flight",
              static_cast<unsigned long long>(windowed_n), rtw.seconds,
              static_cast<double>(windowed_n) / rtw.seconds / 1e6);
  return 0;
}
