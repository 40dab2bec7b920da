// Semantics §3.5 `early_every` at the operators: WindowMerger::fire_early emits the current
// value of windows that have not closed, as kEarly rows with `_final: false`, and leaves the
// main firing and late updates as they were (plus `_final: true`).

#include <doctest/doctest.h>

#include "print_util.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;
using freshet::query::test::compile_early;
using freshet::query::test::compile_late;
using freshet::query::test::ev;
using freshet::query::test::Harness;
using freshet::query::test::lines;
using Lines = std::vector<std::string>;

namespace {

// A final row as a plan without emit_early prints it.
std::string without_final(std::string line) {
  const std::string tail = ",\"_final\":true}";
  REQUIRE(line.size() > tail.size());
  REQUIRE(line.compare(line.size() - tail.size(), tail.size(), tail) == 0);
  line.replace(line.size() - tail.size(), tail.size(), "}");
  return line;
}

bool all_of_kind(const FiredRows& rows, FiredRow::Kind kind) {
  for (const FiredRow r : rows)
    if (r.kind != kind) return false;
  return true;
}

const char* kTumble =
    "SELECT k, COUNT(*) AS n, SUM(x) AS s FROM TUMBLE(events, ts, INTERVAL '1' SECOND) "
    "GROUP BY k, window_start, window_end";

}  // namespace

TEST_CASE("emit_early adds a trailing _final column to windowed plans only") {
  auto plain = compile_late(kTumble, 0);
  auto early = compile_early(kTumble);
  CHECK_FALSE(plain->emit_early());
  CHECK(early->emit_early());
  CHECK(early->output_columns() == std::vector<std::string>{"k", "n", "s", "_final"});
  // The state layout is the same, but the fingerprint covers the output columns.
  CHECK(early->state_fingerprint() != plain->state_fingerprint());
  auto late = compile_early(kTumble, 5000);
  CHECK(late->output_columns() == std::vector<std::string>{"k", "n", "s", "_version", "_final"});
  auto stateless = compile_early("SELECT k FROM events");
  CHECK_FALSE(stateless->emit_early());
  CHECK(stateless->output_columns() == std::vector<std::string>{"k"});
}

TEST_CASE("early rows carry open windows' current values, then only what changed") {
  auto plan = compile_early(kTumble);
  Harness h(plan, 2);
  h.add(0, {ev(100, "a", 1), ev(1100, "a", 2)});
  h.add(1, {ev(200, "b", 3)});
  auto rows = h.early();
  CHECK(lines(rows) == Lines{R"({"k":"a","n":1,"s":1,"_final":false})",
                             R"({"k":"b","n":1,"s":3,"_final":false})",
                             R"({"k":"a","n":1,"s":2,"_final":false})"});
  REQUIRE(rows.size() == 3);
  CHECK(all_of_kind(rows, FiredRow::Kind::kEarly));
  CHECK(rows[0].window_start == 0);
  CHECK(rows[0].window_end == 1000);
  CHECK(rows[2].window_end == 2000);
  CHECK(rows[2].version == 0);
  CHECK(h.early().empty());  // nothing changed

  h.add(1, {ev(1500, "a", 4)});  // after drain_all: an increment of a shipped pane
  rows = h.early();
  CHECK(lines(rows) == Lines{R"({"k":"a","n":2,"s":6,"_final":false})"});
  CHECK(rows[0].window_end == 2000);

  rows = h.advance(999);
  CHECK(lines(rows) ==
        Lines{R"({"k":"a","n":1,"s":1,"_final":true})", R"({"k":"b","n":1,"s":3,"_final":true})"});
  CHECK(all_of_kind(rows, FiredRow::Kind::kFinal));
  CHECK(h.early().empty());

  // A fired window never emits early again; the open one does, for the changed key only.
  h.add(0, {ev(1700, "b", 5), ev(300, "a", 1)});
  CHECK(h.late.size() == 1);
  rows = h.early();
  CHECK(lines(rows) == Lines{R"({"k":"b","n":1,"s":5,"_final":false})"});
  CHECK(lines(h.advance(kMaxTimestamp)) ==
        Lines{R"({"k":"a","n":2,"s":6,"_final":true})", R"({"k":"b","n":1,"s":5,"_final":true})"});
  CHECK(h.early().empty());
}

TEST_CASE("final rows are the rows of a run without emit_early, plus _final:true") {
  const char* queries[] = {
      "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(x) AS s, MAX(x) AS hi "
      "FROM TUMBLE(events, ts, INTERVAL '1' SECOND) GROUP BY k, window_start, window_end",
      "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(x) AS s, MAX(x) AS hi "
      "FROM HOP(events, ts, INTERVAL '1' SECOND, INTERVAL '3' SECOND) "
      "GROUP BY k, window_start, window_end",
      "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(x) AS s, MAX(x) AS hi "
      "FROM CUMULATE(events, ts, INTERVAL '1' SECOND, INTERVAL '4' SECOND) "
      "GROUP BY k, window_start, window_end",
      "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(x) AS s, MAX(x) AS hi "
      "FROM SESSION(events, ts, INTERVAL '1' SECOND) GROUP BY k, window_start, window_end",
  };
  for (const char* sql : queries) {
    for (DurationMs lateness : {DurationMs{0}, DurationMs{2000}}) {
      CAPTURE(sql);
      CAPTURE(lateness);
      Harness early(compile_early(sql, lateness), 2);
      Harness plain(compile_late(sql, lateness), 2);
      Lines early_lines, plain_lines;
      uint32_t seed = 7;
      size_t early_rows = 0;
      for (int step = 0; step < 12; ++step) {
        std::vector<std::string> batch;
        for (int i = 0; i < 5; ++i) {
          seed = seed * 1103515245u + 12345u;
          const TimestampMs ts = step * 700 + static_cast<TimestampMs>(seed % 2500) - 1000;
          batch.push_back(ev(ts, std::string(1, static_cast<char>('a' + seed / 7 % 3)),
                             static_cast<int>(seed / 11 % 50)));
        }
        early.add(step % 2, batch);
        plain.add(step % 2, batch);
        auto e = early.early();
        early_rows += e.size();
        CHECK(all_of_kind(e, FiredRow::Kind::kEarly));
        for (const auto& r : e) CHECK(r.line.find(",\"_final\":false}") != std::string::npos);
        const TimestampMs watermark = step * 700 - 1500;
        for (const auto& r : early.advance(watermark))
          early_lines.push_back(without_final(std::string(r.line)));
        for (const auto& r : plain.advance(watermark)) plain_lines.emplace_back(r.line);
      }
      for (const auto& r : early.advance(kMaxTimestamp))
        early_lines.push_back(without_final(std::string(r.line)));
      for (const auto& r : plain.advance(kMaxTimestamp)) plain_lines.emplace_back(r.line);
      CHECK(early_rows > 0);
      CHECK(!plain_lines.empty());
      CHECK(early_lines == plain_lines);
      CHECK(early.late_records == plain.late_records);
    }
  }
}

TEST_CASE("HAVING applies to early rows") {
  auto plan = compile_early(
      "SELECT k, COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL '1' SECOND) "
      "GROUP BY k, window_start, window_end HAVING COUNT(*) >= 2");
  Harness h(plan, 1);
  h.add(0, {ev(100, "a"), ev(200, "a"), ev(300, "b")});
  CHECK(lines(h.early()) == Lines{R"({"k":"a","n":2,"_final":false})"});
  h.add(0, {ev(400, "b")});
  CHECK(lines(h.early()) == Lines{R"({"k":"b","n":2,"_final":false})"});
  CHECK(lines(h.advance(999)) ==
        Lines{R"({"k":"a","n":2,"_final":true})", R"({"k":"b","n":2,"_final":true})"});
}

TEST_CASE("sessions emit early until they fire; later changes are late updates") {
  auto plan = compile_early(
      "SELECT k, COUNT(*) AS n FROM SESSION(events, ts, INTERVAL '10' SECOND) "
      "GROUP BY k, window_start, window_end",
      5000);
  Harness h(plan, 2);
  h.add(0, {ev(0, "a"), ev(1000, "b")});
  h.add(1, {ev(5000, "a")});  // another shard's piece of the same session
  auto rows = h.early();
  CHECK(lines(rows) == Lines{R"({"k":"b","n":1,"_version":0,"_final":false})",
                             R"({"k":"a","n":2,"_version":0,"_final":false})"});
  REQUIRE(rows.size() == 2);
  CHECK(all_of_kind(rows, FiredRow::Kind::kEarly));
  CHECK(rows[0].window_start == 1000);
  CHECK(rows[0].window_end == 11000);
  CHECK(rows[1].window_start == 0);
  CHECK(rows[1].window_end == 15000);
  CHECK(h.early().empty());

  rows = h.advance(10999);
  CHECK(lines(rows) == Lines{R"({"k":"b","n":1,"_version":0,"_final":true})"});
  h.add(1, {ev(1500, "b")});  // extends the fired session b: a late update, not early
  h.add(0, {ev(20000, "a")});
  rows = h.early();
  CHECK(lines(rows) == Lines{R"({"k":"a","n":1,"_version":0,"_final":false})"});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].window_start == 20000);

  rows = h.advance(kMaxTimestamp);
  CHECK(lines(rows) == Lines{R"({"k":"b","n":2,"_version":1,"_final":true})",
                             R"({"k":"a","n":2,"_version":0,"_final":true})",
                             R"({"k":"a","n":1,"_version":0,"_final":true})"});
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].kind == FiredRow::Kind::kLateUpdate);
  CHECK(rows[0].window_end == 11500);
  CHECK(rows[1].kind == FiredRow::Kind::kFinal);
}

TEST_CASE("early rows use no version: late updates still count from the main firing") {
  auto plan = compile_early(kTumble, 2000);
  Harness h(plan, 1);
  h.add(0, {ev(100, "a", 1)});
  CHECK(lines(h.early()) == Lines{R"({"k":"a","n":1,"s":1,"_version":0,"_final":false})"});
  h.add(0, {ev(200, "a", 1)});
  CHECK(lines(h.early()) == Lines{R"({"k":"a","n":2,"s":2,"_version":0,"_final":false})"});
  CHECK(lines(h.advance(999)) == Lines{R"({"k":"a","n":2,"s":2,"_version":0,"_final":true})"});
  h.add(0, {ev(300, "a", 1)});  // late but allowed
  CHECK(h.early().empty());     // the window has fired: this is fire()'s late update
  auto rows = h.advance(1000);
  CHECK(lines(rows) == Lines{R"({"k":"a","n":3,"s":3,"_version":1,"_final":true})"});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].kind == FiredRow::Kind::kLateUpdate);
}

TEST_CASE("fire_early changes no state, and after a restore every open window is re-emitted") {
  const std::pair<const char*, bool> queries[] = {
      {"SELECT k, COUNT(*) AS n FROM HOP(events, ts, INTERVAL '1' SECOND, INTERVAL '2' SECOND) "
       "GROUP BY k, window_start, window_end",
       false},
      {"SELECT k, COUNT(*) AS n FROM SESSION(events, ts, INTERVAL '1' SECOND) "
       "GROUP BY k, window_start, window_end",
       true}};
  for (const auto& [sql, session] : queries) {
    CAPTURE(sql);
    auto plan = compile_early(sql, 1000);
    Harness h(plan, 1);
    h.add(0, {ev(100, "a"), ev(1200, "b"), ev(5000, "c")});
    CHECK(h.advance(999).empty() == session);  // HOP [-1 s, 1 s) fires
    std::vector<PartialBatch> parts;
    h.aggs[0]->drain_all(1, parts);
    h.mergers[0]->merge(std::move(parts[0]));
    std::string before, after;
    h.mergers[0]->snapshot(before);
    FiredRows first;
    h.mergers[0]->fire_early(first);
    CHECK(!first.empty());
    CHECK(all_of_kind(first, FiredRow::Kind::kEarly));
    h.mergers[0]->snapshot(after);
    CHECK(before == after);  // the image has no early bookkeeping and the state is unchanged

    CHECK(h.early().empty());
    WindowMerger restored(plan);
    REQUIRE(restored.restore(after).has_value());
    FiredRows again;
    restored.fire_early(again);
    CHECK(lines(again) == lines(first));
    again.clear();
    restored.fire_early(again);
    CHECK(again.empty());

    FiredRows a, b;
    h.mergers[0]->fire(kMaxTimestamp, a);
    restored.fire(kMaxTimestamp, b);
    CHECK(lines(a) == lines(b));
  }
}

TEST_CASE("fire_early is a no-op for a plan compiled without emit_early") {
  auto plan = compile_late(kTumble, 0);
  Harness h(plan, 1);
  h.add(0, {ev(100)});
  CHECK(h.early().empty());
  CHECK(lines(h.advance(999)) == Lines{R"({"k":"a","n":1,"s":1})"});
}
