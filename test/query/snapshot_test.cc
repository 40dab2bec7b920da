// Checkpoint state of the windowed operators (semantics §3.7): LocalAggregator::drain_all and
// restore_watermark, WindowMerger::snapshot/restore, Plan::state_fingerprint.
//
// The key property: cut a random stream at random points, at each cut do what a barrier does
// (drain_all on every shard, merge, snapshot every merger), throw every operator away, build
// new ones from the images and the drained watermarks, go on; the fired rows (lines, kinds,
// versions, superseded bounds) and the late records equal an uninterrupted run's exactly.

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include "freshet/base/crc32c.h"
#include "print_util.h"
#include "random_query.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;
using namespace freshet::query::test;
using Lines = std::vector<std::string>;

namespace {

constexpr size_t kHeaderSize = 32;  // src/query/snapshot_format.h

std::shared_ptr<const Plan> compile_query(const std::string& sql, DurationMs lateness) {
  std::vector<Diagnostic> diags;
  const std::vector<std::string> topics = {"events"};
  CompileInput in{"q", sql, {}, &topics};
  in.allowed_lateness = lateness;
  auto plan = compile(in, diags);
  for (const auto& d : diags) FAIL_CHECK(d.code << " " << d.message);
  REQUIRE(plan != nullptr);
  return plan;
}

std::string describe(size_t chunk, const FiredRow& r) {
  std::string replaces;
  for (auto [s, e] : r.replaces) replaces += fmt::format("[{},{})", s, e);
  return fmt::format("{} {} v{} {} {}", chunk, r.kind == FiredRow::Kind::kFinal ? "final" : "late",
                     r.version, replaces, r.line);
}

struct RunResult {
  Lines rows;
  std::vector<size_t> late;
  size_t batches = 0;
  size_t checkpoints = 0;
};

// The server's loop over 2 shards (as differential_test.cc drives it), with a checkpoint and
// a simulated crash + restore before every batch number in `cuts`.
RunResult run(const std::shared_ptr<const Plan>& plan, const std::vector<Event>& evs,
              const std::vector<size_t>& chunk_ends, const std::vector<TimestampMs>& wms,
              uint64_t seed, const std::set<size_t>& cuts) {
  constexpr uint32_t kShards = 2;
  std::mt19937_64 rng(seed);
  std::vector<std::unique_ptr<LocalAggregator>> aggs;
  std::vector<std::unique_ptr<WindowMerger>> mergers;
  for (uint32_t s = 0; s < kShards; ++s) {
    aggs.push_back(std::make_unique<LocalAggregator>(plan));
    mergers.push_back(std::make_unique<WindowMerger>(plan));
  }
  RunResult res;

  auto checkpoint = [&] {
    ++res.checkpoints;
    for (auto& a : aggs) {
      std::vector<PartialBatch> out;
      a->drain_all(kShards, out);
      REQUIRE(out.size() == kShards);
      for (uint32_t s = 0; s < kShards; ++s) mergers[s]->merge(std::move(out[s]));
      CHECK(a->open_windows() == 0);
    }
    std::vector<std::string> images(kShards, "prefix");  // snapshot appends
    std::vector<TimestampMs> drained(kShards);
    for (uint32_t s = 0; s < kShards; ++s) {
      std::string again;
      mergers[s]->snapshot(images[s]);
      mergers[s]->snapshot(again);
      CHECK(images[s].substr(6) == again);  // snapshot() leaves the merger as it was
      drained[s] = aggs[s]->drained_watermark();
    }
    aggs.clear();
    mergers.clear();
    for (uint32_t s = 0; s < kShards; ++s) {
      aggs.push_back(std::make_unique<LocalAggregator>(plan));
      aggs.back()->restore_watermark(drained[s]);
      CHECK(aggs.back()->drained_watermark() == drained[s]);
      mergers.push_back(std::make_unique<WindowMerger>(plan));
      auto st = mergers.back()->restore(std::string_view(images[s]).substr(6));
      REQUIRE_MESSAGE(st.has_value(), st.error().message);
    }
  };

  size_t i = 0;
  for (size_t c = 0; c < chunk_ends.size(); ++c) {
    std::vector<std::vector<size_t>> per(kShards);
    for (; i < chunk_ends[c]; ++i) per[rng() % kShards].push_back(i);
    for (uint32_t s = 0; s < kShards; ++s) {
      size_t pos = 0;
      while (pos < per[s].size()) {
        size_t n = std::min<size_t>(1 + rng() % 7, per[s].size() - pos);
        if (cuts.count(res.batches)) checkpoint();
        ++res.batches;
        std::vector<std::string_view> batch;
        for (size_t k = 0; k < n; ++k) batch.push_back(evs[per[s][pos + k]].json);
        aggs[s]->set_reject_callback([&, base = pos, s](const RejectedRecord& r) {
          CHECK(r.kind == RejectedRecord::Kind::kLate);
          res.late.push_back(per[s][base + r.index]);
        });
        aggs[s]->add_batch(batch, 0);
        pos += n;
      }
    }
    std::vector<PartialBatch> in_flight;
    for (auto& a : aggs) {
      std::vector<PartialBatch> out;
      a->drain(wms[c], kShards, out);
      for (auto& b : out) in_flight.push_back(std::move(b));
    }
    std::vector<size_t> order(in_flight.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t k : order) mergers[k % kShards]->merge(std::move(in_flight[k]));
    FiredRows rows;
    for (auto& m : mergers) m->fire(wms[c], rows);
    for (const FiredRow& r : rows) res.rows.push_back(describe(c, r));
  }
  if (cuts.count(res.batches)) checkpoint();
  for (auto& m : mergers) CHECK(m->open_windows() == 0);
  return res;
}

// Adds a string field `s` (some null) so MIN/MAX/FIRST/LAST/DISTINCT hold strings.
void add_strings(std::vector<Event>& evs, std::mt19937_64& rng) {
  for (Event& e : evs) {
    std::string s = rng() % 5 == 0 ? "null" : fmt::format("\"w{}\\u0000{}\"", rng() % 13, e.key);
    e.json.insert(e.json.size() - 1, ",\"s\":" + s);
  }
}

const char* kStringAggSql =
    "COUNT(s) AS ns, MIN(s) AS ls, MAX(s) AS hs, FIRST_VALUE(s) AS fs, LAST_VALUE(s) AS las, "
    "COUNT(DISTINCT s) AS ds, APPROX_COUNT_DISTINCT(s) AS hds";

void check_cuts_match(const Query& q, bool strings, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Event> evs = random_stream(rng, 120 + rng() % 200);
  std::string sql = q.sql;
  if (strings) {
    add_strings(evs, rng);
    sql.insert(sql.find(" FROM "), std::string(", ") + kStringAggSql);
  }
  CAPTURE(sql);
  CAPTURE(q.lateness);
  std::vector<size_t> chunk_ends;
  std::vector<TimestampMs> wms;
  random_chunks(rng, evs, chunk_ends, wms);
  auto plan = compile_query(sql, q.lateness);

  const uint64_t run_seed = rng();
  RunResult whole = run(plan, evs, chunk_ends, wms, run_seed, {});
  REQUIRE(whole.batches > 0);
  CHECK(whole.checkpoints == 0);
  CHECK(!whole.rows.empty());
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::set<size_t> cuts;
    for (size_t n = 1 + rng() % 3; cuts.size() < n;) cuts.insert(rng() % (whole.batches + 1));
    CAPTURE(std::vector<size_t>(cuts.begin(), cuts.end()));
    RunResult cut = run(plan, evs, chunk_ends, wms, run_seed, cuts);
    CHECK(cut.checkpoints == cuts.size());
    CHECK(cut.late == whole.late);
    CHECK(cut.rows == whole.rows);
  }
}

// A merger holding every kind of state: HOP panes, fired windows with versions and a pending
// late re-fire, strings and all three sketches.
struct Loaded {
  std::shared_ptr<const Plan> plan;
  std::unique_ptr<WindowMerger> merger;
  std::string image;
};

Loaded loaded(bool session) {
  Loaded l;
  std::string from = session ? "SESSION(events, ts, INTERVAL '10' MILLISECOND)"
                             : "HOP(events, ts, INTERVAL '10' MILLISECOND, "
                               "INTERVAL '20' MILLISECOND)";
  l.plan = compile_query(fmt::format("SELECT k, window_start, window_end, {}, {} FROM {} GROUP BY "
                                     "k, window_start, window_end",
                                     kAggSql, kStringAggSql, from),
                         100);
  LocalAggregator agg(l.plan);
  l.merger = std::make_unique<WindowMerger>(l.plan);
  auto feed = [&](std::vector<std::string> recs, TimestampMs wm, bool fire) {
    std::vector<std::string_view> views(recs.begin(), recs.end());
    agg.add_batch(views, 0);
    std::vector<PartialBatch> out;
    agg.drain(wm, 1, out);
    l.merger->merge(std::move(out[0]));
    FiredRows rows;
    if (fire) l.merger->fire(wm, rows);
  };
  std::vector<std::string> recs;
  for (int i = 0; i < 12; ++i)
    recs.push_back(
        fmt::format(R"({{"ts":{},"k":{},"x":{}.{},"s":"v{}"}})", i * 7, i % 3, i, i % 4, i % 5));
  feed(recs, 40, true);
  feed({R"({"ts":12,"k":1,"x":2.5,"s":"late"})", R"({"ts":90,"k":"z","x":-1,"s":"n"})"}, 40, true);
  // Merged but not fired yet: a pending late re-fire and an unfired window's increment.
  feed({R"({"ts":15,"k":2,"x":null,"s":null})", R"({"ts":91,"k":"z","x":7,"s":"m"})"}, 45, false);
  l.merger->snapshot(l.image);
  return l;
}

void fix_header(std::string& image) {
  uint64_t len = image.size() - kHeaderSize;
  std::memcpy(image.data() + 16, &len, 8);
  uint32_t crc = crc32c(0, image.data() + kHeaderSize, len);
  std::memcpy(image.data() + 24, &crc, 4);
}

// Restores `image` into a new merger: an error must be kCorruption; a success must leave a
// merger that fires without crashing.
void restore_never_crashes(const Loaded& l, const std::string& image, size_t& accepted) {
  WindowMerger m(l.plan);
  auto st = m.restore(image);
  if (!st) {
    CHECK(st.error().code == ErrorCode::kCorruption);
    CHECK(st.error().message.find("query state snapshot: ") == 0);
    CHECK(m.open_windows() == 0);
    return;
  }
  ++accepted;
  FiredRows rows;
  m.fire(60, rows);
  m.fire(kMaxTimestamp, rows);
}

}  // namespace

TEST_CASE("a stream cut by checkpoints fires exactly what an uninterrupted run fires") {
  // Every window type, with and without allowed lateness, every aggregate kind (numbers, and
  // strings in the second pass): rejection-sample random queries until each combination ran.
  for (bool strings : {false, true}) {
    std::mt19937_64 rng(strings ? 4417 : 8675309);
    int runs[4][2] = {};
    for (int round = 0; round < 400; ++round) {
      Query q = random_query(rng);
      int& n = runs[static_cast<int>(q.win)][q.lateness > 0];
      if (n >= (strings ? 2 : 4)) continue;
      ++n;
      const uint64_t seed = rng();
      CAPTURE(seed);
      check_cuts_match(q, strings, seed);
    }
    for (auto& w : runs)
      for (int n : w) CHECK(n == (strings ? 2 : 4));
  }
}

TEST_CASE("drain_all ships every partial and keeps the lateness judgement") {
  auto plan = compile_late(
      "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(x) AS s FROM TUMBLE(events, ts, "
      "INTERVAL '10' MILLISECOND) GROUP BY k, window_start, window_end",
      5);
  LocalAggregator agg(plan);
  WindowMerger merger(plan);
  auto add = [&](std::vector<std::string> recs) {
    std::vector<std::string_view> views(recs.begin(), recs.end());
    return agg.add_batch(views, 0);
  };
  auto ship = [&](bool all, TimestampMs wm) {
    std::vector<PartialBatch> out;
    if (all)
      agg.drain_all(1, out);
    else
      agg.drain(wm, 1, out);
    REQUIRE(out.size() == 1);
    merger.merge(std::move(out[0]));
  };
  add({R"({"ts":1,"k":"a","x":1})", R"({"ts":25,"k":"a","x":2})"});
  ship(false, 9);  // [0, 10) goes; [20, 30) stays
  FiredRows rows;
  merger.fire(9, rows);
  CHECK(agg.drained_watermark() == 9);
  CHECK(agg.open_windows() == 1);
  ship(true, 0);
  CHECK(agg.open_windows() == 0);
  CHECK(agg.drained_watermark() == 9);  // unchanged
  // An unfired window arriving in increments: before and after the barrier, and late data
  // for the fired one, still within lateness (9 + 5 > 9), and one past it.
  auto st = add({R"({"ts":26,"k":"a","x":3})", R"({"ts":3,"k":"a","x":4})"});
  CHECK(st.late == 0);
  ship(true, 0);
  add({R"({"ts":27,"k":"a","x":5})"});
  ship(false, 29);
  merger.fire(29, rows);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].line.find(R"("n":1,"s":1,"_version":0)") != std::string::npos);
  CHECK(rows[1].kind == FiredRow::Kind::kLateUpdate);
  CHECK(rows[1].line.find(R"("n":2,"s":5,"_version":1)") != std::string::npos);
  CHECK(rows[2].line.find(R"("n":3,"s":10,"_version":0)") != std::string::npos);
  CHECK(add({R"({"ts":3,"k":"a","x":4})"}).late == 1);  // 9 + 5 <= 29
}

TEST_CASE("restore_watermark judges lateness as before the crash") {
  auto plan = compile_late(
      "SELECT window_start, window_end, COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL '10' "
      "MILLISECOND) GROUP BY window_start, window_end",
      0);
  LocalAggregator agg(plan);
  agg.restore_watermark(19);
  agg.restore_watermark(5);  // never goes back
  CHECK(agg.drained_watermark() == 19);
  std::vector<std::string> recs = {R"({"ts":19})", R"({"ts":20})"};
  std::vector<std::string_view> views(recs.begin(), recs.end());
  CHECK(agg.add_batch(views, 0).late == 1);
}

TEST_CASE("a snapshot restores into a merger that fires the same rows") {
  for (bool session : {false, true}) {
    CAPTURE(session);
    Loaded l = loaded(session);
    WindowMerger copy(l.plan);
    REQUIRE(copy.restore(l.image).has_value());
    CHECK(copy.open_windows() == l.merger->open_windows());
    std::string again;
    copy.snapshot(again);
    CHECK(again.size() == l.image.size());
    for (TimestampMs wm : {TimestampMs{45}, TimestampMs{60}, kMaxTimestamp}) {
      FiredRows a, b;
      l.merger->fire(wm, a);
      copy.fire(wm, b);
      Lines la, lb;
      for (const auto& r : a) la.push_back(describe(0, r));
      for (const auto& r : b) lb.push_back(describe(0, r));
      CHECK(la == lb);
    }
  }
}

TEST_CASE("a truncated or garbled snapshot is a corruption error, never a crash") {
  for (bool session : {false, true}) {
    CAPTURE(session);
    const Loaded l = loaded(session);
    REQUIRE(l.image.size() > kHeaderSize);
    size_t accepted = 0;
    // Truncated at every length: the header's body length catches it...
    for (size_t n = 0; n < l.image.size(); ++n) {
      WindowMerger m(l.plan);
      auto st = m.restore(std::string_view(l.image).substr(0, n));
      REQUIRE(!st);
      CHECK(st.error().code == ErrorCode::kCorruption);
    }
    // ...and with the header made to agree, the parser does.
    for (size_t n = kHeaderSize; n < l.image.size(); ++n) {
      std::string cut = l.image.substr(0, n);
      fix_header(cut);
      restore_never_crashes(l, cut, accepted);
    }
    CHECK(accepted == 0);
    // Random bit flips: the CRC catches them...
    std::mt19937_64 rng(session ? 77 : 78);
    for (int i = 0; i < 300; ++i) {
      std::string bad = l.image;
      size_t bit = rng() % (bad.size() * 8);
      bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
      WindowMerger m(l.plan);
      auto st = m.restore(bad);
      REQUIRE(!st);
      CHECK(st.error().code == ErrorCode::kCorruption);
    }
    // ...and past a recomputed CRC, the parser validates (or accepts harmless changes).
    for (int i = 0; i < 3000; ++i) {
      std::string bad = l.image;
      for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
        size_t bit = kHeaderSize * 8 + rng() % ((bad.size() - kHeaderSize) * 8);
        bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
      }
      fix_header(bad);
      restore_never_crashes(l, bad, accepted);
    }
    MESSAGE("bit-flipped images with a fixed CRC that parsed: " << accepted);
  }
}

TEST_CASE("restore names what is wrong: version, magic, plan, trailing bytes") {
  const Loaded l = loaded(false);
  auto message = [&](const std::string& image, const std::shared_ptr<const Plan>& plan) {
    WindowMerger m(plan);
    auto st = m.restore(image);
    REQUIRE(!st);
    CHECK(st.error().code == ErrorCode::kCorruption);
    return st.error().message;
  };
  std::string v2 = l.image;
  v2[4] = 2;
  CHECK(message(v2, l.plan).find("unknown format version 2") != std::string::npos);
  std::string magic = l.image;
  magic[0] = 'X';
  CHECK(message(magic, l.plan).find("bad magic") != std::string::npos);
  std::string crc = l.image;
  crc.back() = static_cast<char>(crc.back() ^ 1);
  CHECK(message(crc, l.plan).find("CRC") != std::string::npos);
  std::string trailing = l.image + "x";
  CHECK(message(trailing, l.plan).find("truncated or padded") != std::string::npos);
  fix_header(trailing);
  CHECK(message(trailing, l.plan).find("trailing bytes") != std::string::npos);
  // Another plan's image, and a session image in a pane merger.
  const Loaded s = loaded(true);
  CHECK(message(s.image, l.plan).find("fingerprint") != std::string::npos);
  // A merger keeps its state when a restore fails.
  WindowMerger m(l.plan);
  REQUIRE(m.restore(l.image).has_value());
  const size_t open = m.open_windows();
  CHECK(!m.restore(v2));
  CHECK(m.open_windows() == open);
}

TEST_CASE("state fingerprint: stable for the same state layout, changed by what shapes it") {
  const std::string base =
      "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(x) AS s, "
      "APPROX_PERCENTILE(x, 0.5) AS p FROM TUMBLE(events, ts, INTERVAL '10' SECOND) "
      "WHERE x > 0 GROUP BY k, window_start, window_end HAVING COUNT(*) > 1";
  auto fp = [](const std::string& sql, DurationMs lateness = 0) {
    return compile_query(sql, lateness)->state_fingerprint();
  };
  auto with = [&](std::string_view from, std::string_view to) {
    std::string s = base;
    size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  const uint64_t f = fp(base);
  // The same in every process and build: a changed constant means old checkpoints no longer
  // restore, which must be a deliberate choice.
  CHECK(f == fp(base));
  CHECK(f == 7563643510405323785ULL);
  CHECK(f == fp(with("SELECT k,", "SELECT\n    k ,")));
  CHECK(f == fp(with("WHERE x > 0", "WHERE x > 1 AND k IS NOT NULL")));
  CHECK(f == fp(with("HAVING COUNT(*) > 1", "HAVING COUNT(*) > 5")));
  CHECK(f != fp(base, 1000));
  CHECK(f != fp(with("GROUP BY k,", "GROUP BY k, x,")));
  CHECK(fp(with("GROUP BY k,", "GROUP BY k, x,")) != fp(with("GROUP BY k,", "GROUP BY x, k,")));
  CHECK(f != fp(with("SUM(x)", "SUM(y)")));
  CHECK(f != fp(with("SUM(x)", "MAX(x)")));
  CHECK(f != fp(with("0.5", "0.9")));
  CHECK(f != fp(with("AS s", "AS total")));
  CHECK(f != fp(with("INTERVAL '10' SECOND", "INTERVAL '20' SECOND")));
  CHECK(f != fp(with("TUMBLE(events, ts, INTERVAL '10' SECOND)",
                     "HOP(events, ts, INTERVAL '10' SECOND, INTERVAL '20' SECOND)")));
  CHECK(f != fp(with("HAVING COUNT(*) > 1", "HAVING MAX(x) > 1")));  // adds an aggregate
}
