// WindowMerger: firing by watermark, row order, and HAVING.

#include <doctest/doctest.h>

#include "print_util.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;
using freshet::query::test::compile_ok;
using freshet::query::test::run_lines;
using Lines = std::vector<std::string>;

namespace {

const std::vector<std::string> kPayments = {
    R"({"ts":1000,"card_id":"a","amount":10})", R"({"ts":2000,"card_id":"a","amount":20})",
    R"({"ts":3000,"card_id":"a","amount":30})", R"({"ts":4000,"card_id":"b","amount":5})",
    R"({"ts":5000,"card_id":"b","amount":5})",  R"({"ts":6000,"card_id":"c","amount":100})",
};

}  // namespace

TEST_CASE("HAVING by alias") {
  auto plan = compile_ok(
      "SELECT card_id, COUNT(*) AS n, SUM(amount) AS total FROM TUMBLE(payments, "
      "ts, INTERVAL '1' MINUTE) GROUP BY card_id, window_start, window_end "
      "HAVING n >= 2 AND total < 60");
  CHECK(run_lines(plan, kPayments) == Lines{R"({"card_id":"b","n":2,"total":10})"});
}

TEST_CASE("HAVING by a repeated aggregate, and by one that is not selected") {
  auto plan = compile_ok(
      "SELECT card_id, COUNT(*) AS n FROM TUMBLE(payments, ts, INTERVAL '1' "
      "MINUTE) GROUP BY card_id, window_start, window_end "
      "HAVING COUNT(*) >= 2 AND MAX(amount) > 20.5");
  CHECK(plan->output_columns() == std::vector<std::string>{"card_id", "n"});
  CHECK(run_lines(plan, kPayments) == Lines{R"({"card_id":"a","n":3})"});
}

TEST_CASE("HAVING on AVG and on MIN of strings, with the literal on the left") {
  auto plan = compile_ok(
      "SELECT card_id FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE) "
      "GROUP BY card_id, window_start, window_end "
      "HAVING AVG(amount) = 20 AND 'a' <= MIN(card_id)");
  CHECK(run_lines(plan, kPayments) == Lines{R"({"card_id":"a"})"});
}

TEST_CASE("fire emits only windows whose end - 1 <= watermark, ordered by end then key") {
  auto plan = compile_ok(
      "SELECT window_start, k, COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL "
      "'10' MILLISECOND) GROUP BY k, window_start, window_end");
  LocalAggregator agg(plan);
  std::vector<std::string_view> recs = {R"({"ts":25,"k":"z"})", R"({"ts":5,"k":"y"})",
                                        R"({"ts":12,"k":"b"})", R"({"ts":3,"k":"a"})",
                                        R"({"ts":19,"k":"a"})"};
  agg.add_batch(recs, 0);
  CHECK(agg.open_windows() == 3);
  WindowMerger m(plan);
  std::vector<PartialBatch> parts;
  agg.drain(18, 1, parts);  // [10, 20) is not closed at 18
  CHECK(parts[0].size() == 2);
  m.merge(std::move(parts[0]));
  agg.drain(19, 1, parts);  // now it is
  CHECK(parts[0].size() == 2);
  m.merge(std::move(parts[0]));
  CHECK(m.open_windows() == 2);
  FiredRows rows;
  m.fire(8, rows);
  CHECK(rows.empty());
  m.fire(19, rows);
  CHECK(m.open_windows() == 0);
  Lines lines;
  for (const FiredRow r : rows) lines.emplace_back(r.line);
  CHECK(lines == Lines{R"({"window_start":"1970-01-01T00:00:00.000Z","k":"a","n":1})",
                       R"({"window_start":"1970-01-01T00:00:00.000Z","k":"y","n":1})",
                       R"({"window_start":"1970-01-01T00:00:00.010Z","k":"a","n":1})",
                       R"({"window_start":"1970-01-01T00:00:00.010Z","k":"b","n":1})"});
  CHECK(rows[0].window_start == 0);
  CHECK(rows[0].window_end == 10);
  CHECK(rows[3].window_end == 20);
  CHECK(agg.open_windows() == 1);
}

TEST_CASE("partials from several aggregators for the same key combine") {
  auto plan = compile_ok(
      "SELECT card_id, COUNT(*) AS n, SUM(amount) AS s, MIN(amount) AS lo, "
      "MAX(card_id) AS hi FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE) "
      "GROUP BY card_id, window_start, window_end");
  LocalAggregator a1(plan), a2(plan);
  std::vector<std::string_view> r1 = {R"({"ts":1,"card_id":"x","amount":1.25})"};
  std::vector<std::string_view> r2 = {R"({"ts":2,"card_id":"x","amount":-0.125})",
                                      R"({"ts":3,"card_id":"x","amount":7})"};
  a1.add_batch(r1, 0);
  a2.add_batch(r2, 0);
  std::vector<PartialBatch> p1, p2;
  a1.drain(kMaxTimestamp, 1, p1);
  a2.drain(kMaxTimestamp, 1, p2);
  WindowMerger m(plan);
  m.merge(std::move(p2[0]));
  m.merge(std::move(p1[0]));
  FiredRows rows;
  m.fire(kMaxTimestamp, rows);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].line == R"({"card_id":"x","n":3,"s":8.125,"lo":-0.125,"hi":"x"})");
}
