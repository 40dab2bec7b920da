// Semantics §3.5-3.6 at the operators: allowed lateness, late updates with versions, the
// late classification and what a rejected late record carries. Includes conformance tests
// 5 and 6 of §3.10.

#include <doctest/doctest.h>

#include "print_util.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;
using freshet::query::test::compile_late;
using freshet::query::test::ev;
using freshet::query::test::Harness;
using freshet::query::test::lines;
using Lines = std::vector<std::string>;

TEST_CASE("hopping-window element late for one window, on time for the next") {
  // §3.10 #5. HOP slide 5 s, size 10 s, no allowed lateness: t = 3000 belongs to [-5 s, 5 s)
  // and [0, 10 s). At W = 5999 the first has fired and is cleaned up, the second is open: the
  // element is not late, counts for the open window only, and nothing re-fires.
  auto plan = compile_late(
      "SELECT window_start, window_end, COUNT(*) AS n FROM HOP(events, ts, INTERVAL '5' SECOND, "
      "INTERVAL '10' SECOND) GROUP BY window_start, window_end",
      0);
  for (uint32_t shards : {1u, 2u}) {
    CAPTURE(shards);
    Harness h(plan, shards);
    h.add(0, {ev(1000)});
    CHECK(
        lines(h.advance(5999)) ==
        Lines{
            R"({"window_start":"1969-12-31T23:59:55.000Z","window_end":"1970-01-01T00:00:05.000Z","n":1})"});
    h.add(shards - 1, {ev(3000)});
    CHECK(h.late.empty());
    CHECK(
        lines(h.advance(9999)) ==
        Lines{
            R"({"window_start":"1970-01-01T00:00:00.000Z","window_end":"1970-01-01T00:00:10.000Z","n":2})"});
    // Now every window of t = 3000 is past cleanup: late, with its reason and watermark.
    h.add(0, {ev(3000)});
    REQUIRE(h.late.size() == 1);
    CHECK(h.late[0].kind == RejectedRecord::Kind::kLate);
    CHECK(h.late_reasons[0] == "past_lateness");
    CHECK(h.late[0].event_time == 3000);
    CHECK(h.late[0].watermark == 9999);
    CHECK(h.advance(kMaxTimestamp).empty());  // both windows of pane [0, 5 s) are done
  }
}

TEST_CASE(
    "session bridging by a late event within lateness merges and re-fires with a new version") {
  // §3.10 #6. Gap 10 s, allowed lateness 30 s. Sessions [0, 10 s) and [15 s, 25 s) of key a
  // fire; then t = 8 s arrives late (within lateness) on another shard: [8 s, 18 s) bridges
  // them into [0, 25 s), which re-fires as version 1 and replaces both earlier rows.
  auto plan = compile_late(
      "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(x) AS s FROM SESSION(events, ts, "
      "INTERVAL '10' SECOND) GROUP BY k, window_start, window_end",
      30000);
  CHECK(plan->output_columns() ==
        std::vector<std::string>{"k", "window_start", "window_end", "n", "s", "_version"});
  for (uint32_t shards : {1u, 2u}) {
    CAPTURE(shards);
    Harness h(plan, shards);
    h.add(0, {ev(0, "a", 1), ev(15000, "a", 2)});
    h.add(shards - 1, {ev(2000, "b", 5)});
    auto first = h.advance(24999);
    REQUIRE(first.size() == 3);
    CHECK(
        first[0].line ==
        R"({"k":"a","window_start":"1970-01-01T00:00:00.000Z","window_end":"1970-01-01T00:00:10.000Z","n":1,"s":1,"_version":0})");
    CHECK(first[0].kind == FiredRow::Kind::kFinal);
    CHECK(first[2].window_end == 25000);
    h.add(shards - 1, {ev(8000, "a", 4)});
    CHECK(h.late.empty());
    auto update = h.advance(25000);
    REQUIRE(update.size() == 1);
    CHECK(
        update[0].line ==
        R"({"k":"a","window_start":"1970-01-01T00:00:00.000Z","window_end":"1970-01-01T00:00:25.000Z","n":3,"s":7,"_version":1})");
    CHECK(update[0].kind == FiredRow::Kind::kLateUpdate);
    CHECK(update[0].version == 1);
    CHECK(std::vector(update[0].replaces.begin(), update[0].replaces.end()) ==
          std::vector<std::pair<TimestampMs, TimestampMs>>{{0, 10000}, {15000, 25000}});
    // Past the merged session's cleanup (24999 + 30000) a record for it is late.
    h.advance(55000);
    CHECK(h.mergers[0]->open_windows() + h.mergers[shards - 1]->open_windows() == 0);
    h.add(0, {ev(10000, "a", 1)});  // its own window [10 s, 20 s) is past cleanup
    CHECK(h.late.size() == 1);
  }
}

TEST_CASE("a tumbling window re-fires once per watermark with every late-but-allowed record") {
  auto plan = compile_late(
      "SELECT k, window_start, window_end, COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL '1' "
      "SECOND) GROUP BY k, window_start, window_end",
      2000);
  Harness h(plan, 2);
  h.add(0, {ev(100, "a"), ev(200, "b")});
  auto rows = h.advance(999);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].line.find("\"n\":1,\"_version\":0") != std::string::npos);
  h.add(1, {ev(300, "a"), ev(400, "a")});  // late but allowed (999 < 999 + 2000)
  h.add(0, {ev(500, "a")});
  rows = h.advance(1500);
  REQUIRE(rows.size() == 1);  // only key a changed
  CHECK(rows[0].sort_key.find('a') != std::string::npos);
  CHECK(rows[0].line.find("\"n\":4,\"_version\":1") != std::string::npos);
  CHECK(rows[0].kind == FiredRow::Kind::kLateUpdate);
  h.add(1, {ev(600, "b")});
  rows = h.advance(2999);  // the cleanup watermark (999 + 2000): the update still goes out
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].line.find("\"n\":2,\"_version\":1") != std::string::npos);
  h.add(0, {ev(700, "b")});
  CHECK(h.late_reasons == std::vector<std::string>{"past_lateness"});
  CHECK(h.advance(kMaxTimestamp).empty());
}

TEST_CASE("without allowed lateness rows carry no _version column and late records are rejected") {
  auto plan = compile_late(
      "SELECT window_start, window_end, COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL '1' "
      "SECOND) GROUP BY window_start, window_end",
      0);
  CHECK(plan->output_columns() == std::vector<std::string>{"window_start", "window_end", "n"});
  Harness h(plan, 1);
  h.add(0, {ev(100)});
  CHECK(h.advance(999).size() == 1);
  h.add(0, {ev(999), ev(1000)});
  CHECK(h.late.size() == 1);
  CHECK(h.late[0].watermark == 999);
}

TEST_CASE("a batch marked as resumed from idleness is late with reason after_idle_resume") {
  // §3.10 #4 at the operator: the caller knows the partition was idle; the record is late
  // either way, and only the reason and its own counter differ.
  auto plan = compile_late(
      "SELECT window_start, window_end, COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL '1' "
      "SECOND) GROUP BY window_start, window_end",
      0);
  LocalAggregator agg(plan);
  std::vector<std::string> reasons;
  agg.set_reject_callback([&](const RejectedRecord& r) { reasons.emplace_back(r.reason); });
  agg.restore_watermark(5000);
  const std::string old = ev(100);
  const std::vector<std::string_view> batch{old};
  auto st = agg.add_batch(batch, 0, LateCause::kAfterIdleResume);
  CHECK(st.late == 1);
  CHECK(st.late_after_idle_resume == 1);
  st = agg.add_batch(batch, 0);
  CHECK(st.late == 1);
  CHECK(st.late_after_idle_resume == 0);
  CHECK(reasons == std::vector<std::string>{"after_idle_resume", "past_lateness"});
}
