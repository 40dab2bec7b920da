// The result of a query must not depend on how records are spread over partitions, shards
// and batches, nor on the order partials are merged in: a randomized stream run on 2 and 3
// shards must give the same rows, byte for byte, as on one.

#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "print_util.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;

namespace {

constexpr DurationMs kDisorder = 40;  // records arrive at most this much out of order

const char* kQuery =
    "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(x) AS s, MIN(x), MAX(x), AVG(x), "
    "MAX(name) AS last_name, MIN(name) "
    "FROM TUMBLE(events, ts, INTERVAL '100' MILLISECOND) WHERE x > -50 "
    "GROUP BY k, window_start, window_end HAVING COUNT(*) >= 2";

std::vector<std::string> make_stream(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    TimestampMs ts =
        static_cast<TimestampMs>(i) * 3 - 5000 + static_cast<TimestampMs>(rng() % kDisorder);
    std::string k;
    switch (rng() % 4) {
      case 0:
        k = "\"c-" + std::to_string(rng() % 40) + "\"";
        break;
      case 1:
        k = std::to_string(rng() % 10);
        break;
      case 2:
        k = "null";
        break;
      default:
        k = "\"q\\\"" + std::to_string(rng() % 5) + "\"";
        break;
    }
    int scale = static_cast<int>(rng() % 5);
    int64_t mant = static_cast<int64_t>(rng() % 200000) - 60000;
    std::string x = std::to_string(mant < 0 ? -mant : mant);
    if (scale > 0) {
      while (x.size() <= static_cast<size_t>(scale)) x.insert(0, "0");
      x.insert(x.size() - static_cast<size_t>(scale), ".");
    }
    if (mant < 0) x.insert(0, "-");
    std::string rec =
        "{\"ts\":" + (rng() % 3 == 0 ? "\"" + format_rfc3339_ms(ts) + "\"" : std::to_string(ts)) +
        ",\"k\":" + k + ",\"x\":" + x + ",\"name\":\"n" + std::to_string(rng() % 1000) + "\"}";
    if (rng() % 50 == 0) rec = "{\"ts\":" + std::to_string(ts) + ",\"k\":";  // malformed
    out.push_back(std::move(rec));
  }
  return out;
}

std::vector<std::string> sorted_lines(FiredRows& rows) {
  rows.sort_from(0);
  std::vector<std::string> lines;
  for (const FiredRow r : rows) lines.emplace_back(r.line);
  return lines;
}

// Runs the stream on `shards` shards and `partitions` partitions with random batches and
// periodic watermarks, the way the server wires the operators.
std::vector<std::string> run_sharded(const std::shared_ptr<const Plan>& plan,
                                     const std::vector<std::string>& stream, uint32_t shards,
                                     uint32_t partitions, uint64_t seed, uint64_t& late) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<std::string_view>> parts(partitions);
  for (const auto& r : stream) parts[rng() % partitions].push_back(r);
  std::vector<std::unique_ptr<LocalAggregator>> aggs;
  std::vector<std::unique_ptr<WindowMerger>> mergers;
  for (uint32_t s = 0; s < shards; ++s) {
    aggs.push_back(std::make_unique<LocalAggregator>(plan));
    mergers.push_back(std::make_unique<WindowMerger>(plan));
  }
  std::vector<size_t> pos(partitions, 0);
  std::vector<TimestampMs> max_ts(partitions, kMinTimestamp);
  FiredRows rows;
  std::vector<PartialBatch> in_flight;
  auto exchange = [&](TimestampMs wm) {
    for (auto& a : aggs) {
      std::vector<PartialBatch> out;
      a->drain(wm, shards, out);
      REQUIRE(out.size() == shards);
      for (uint32_t s = 0; s < shards; ++s) {
        in_flight.push_back(std::move(out[s]));
      }
    }
    // Deliver in a random order; batch i of a drain belongs to shard i % shards.
    std::vector<size_t> order(in_flight.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t i : order) mergers[i % shards]->merge(std::move(in_flight[i]));
    in_flight.clear();
    for (auto& m : mergers) m->fire(wm, rows);
  };
  for (;;) {
    bool any = false;
    for (uint32_t p = 0; p < partitions; ++p) {
      if (pos[p] >= parts[p].size()) continue;
      any = true;
      size_t n = std::min<size_t>(1 + rng() % 300, parts[p].size() - pos[p]);
      auto st = aggs[p % shards]->add_batch(
          std::span<const std::string_view>(parts[p].data() + pos[p], n), 0);
      late += st.late;
      pos[p] += n;
      max_ts[p] = std::max(max_ts[p], st.max_event_time);
    }
    if (!any) break;
    if (rng() % 3 == 0) {
      TimestampMs wm = *std::min_element(max_ts.begin(), max_ts.end());
      if (wm != kMinTimestamp) exchange(wm - kDisorder - 1);
    }
  }
  exchange(kMaxTimestamp);
  for (auto& m : mergers) CHECK(m->open_windows() == 0);
  return sorted_lines(rows);
}

}  // namespace

TEST_CASE("results are byte-identical across shards, partitions, batches and merge order") {
  auto plan = test::compile_ok(kQuery);
  for (uint64_t seed : {1u, 2u, 3u, 42u, 20261125u}) {
    CAPTURE(seed);
    auto stream = make_stream(seed, 6000);
    uint64_t late = 0;
    auto reference = run_sharded(plan, stream, 1, 1, seed, late);
    REQUIRE(reference.size() > 100);
    CHECK(late == 0);
    for (auto [shards, partitions] : {std::pair{2u, 4u}, std::pair{3u, 7u}, std::pair{2u, 1u}}) {
      CAPTURE(shards);
      CAPTURE(partitions);
      auto got = run_sharded(plan, stream, shards, partitions, seed * 31 + shards, late);
      CHECK(late == 0);
      CHECK(got == reference);
    }
  }
}

TEST_CASE("one-shard results match a plain all-at-once run") {
  auto plan = test::compile_ok(kQuery);
  auto stream = make_stream(7, 3000);
  uint64_t late = 0;
  CHECK(run_sharded(plan, stream, 1, 3, 7, late) == test::run_lines(plan, stream));
}
