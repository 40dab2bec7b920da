// HOP, CUMULATE and SESSION window assignment and the aggregates beyond SUM/MIN/MAX/AVG.

#include <doctest/doctest.h>

#include "print_util.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;
using freshet::query::test::compile_ok;
using freshet::query::test::run_lines;
using Lines = std::vector<std::string>;

namespace {

// Rows as "start-end:n" in seconds, for compact expectations.
Lines spans(const std::shared_ptr<const Plan>& plan, const std::vector<std::string>& recs) {
  Lines out;
  for (const std::string& l : run_lines(plan, recs)) {
    // {"s":<start>,"e":<end>,"n":<n>} with epoch-ms window bounds from CAST.
    out.push_back(l);
  }
  return out;
}

std::string rec(TimestampMs ts, const std::string& extra = "") {
  return "{\"ts\":" + std::to_string(ts) + extra + "}";
}

}  // namespace

TEST_CASE("HOP: an element belongs to size/slide windows, combined from slide panes") {
  auto plan = compile_ok(
      "SELECT CAST(window_start AS BIGINT) AS s, CAST(window_end AS BIGINT) AS e, COUNT(*) AS n, "
      "SUM(x) AS sx FROM HOP(events, ts, INTERVAL '2' SECOND, INTERVAL '6' SECOND) "
      "GROUP BY window_start, window_end");
  Lines out = spans(plan, {rec(1000, ",\"x\":1"), rec(2500, ",\"x\":2"), rec(-1, ",\"x\":4")});
  CHECK(out == Lines{
                   R"({"s":-6000,"e":0,"n":1,"sx":4})",
                   R"({"s":-4000,"e":2000,"n":2,"sx":5})",
                   R"({"s":-2000,"e":4000,"n":3,"sx":7})",
                   R"({"s":0,"e":6000,"n":2,"sx":3})",
                   R"({"s":2000,"e":8000,"n":1,"sx":2})",
               });
}

TEST_CASE("CUMULATE: windows grow by steps within each max-size tumble") {
  auto plan = compile_ok(
      "SELECT CAST(window_start AS BIGINT) AS s, CAST(window_end AS BIGINT) AS e, COUNT(*) AS n "
      "FROM CUMULATE(events, ts, INTERVAL '1' SECOND, INTERVAL '3' SECOND) "
      "GROUP BY window_start, window_end");
  Lines out = spans(plan, {rec(500), rec(1500), rec(2999), rec(3000)});
  CHECK(out == Lines{
                   R"({"s":0,"e":1000,"n":1})",
                   R"({"s":0,"e":2000,"n":2})",
                   R"({"s":0,"e":3000,"n":3})",
                   R"({"s":3000,"e":4000,"n":1})",
                   R"({"s":3000,"e":5000,"n":1})",
                   R"({"s":3000,"e":6000,"n":1})",
               });
}

TEST_CASE("SESSION: per key, sessions merge when they overlap or touch") {
  auto plan = compile_ok(
      "SELECT k, CAST(window_start AS BIGINT) AS s, CAST(window_end AS BIGINT) AS e, "
      "COUNT(*) AS n FROM SESSION(events, ts, INTERVAL '10' MILLISECOND) "
      "GROUP BY k, window_start, window_end");
  // a: 0 and 10 touch ([0,10) + [10,20)); 25 is apart. b: 5 alone. Out of order on purpose.
  Lines out = spans(plan, {rec(25, ",\"k\":\"a\""), rec(10, ",\"k\":\"a\""), rec(5, ",\"k\":\"b\""),
                           rec(0, ",\"k\":\"a\"")});
  CHECK(out == Lines{
                   R"({"k":"b","s":5,"e":15,"n":1})",
                   R"({"k":"a","s":0,"e":20,"n":2})",
                   R"({"k":"a","s":25,"e":35,"n":1})",
               });
}

TEST_CASE("SESSION pieces on different shards bridge into one session at the owner") {
  auto plan = compile_ok(
      "SELECT k, CAST(window_start AS BIGINT) AS s, CAST(window_end AS BIGINT) AS e, "
      "COUNT(*) AS n FROM SESSION(events, ts, INTERVAL '10' MILLISECOND) "
      "GROUP BY k, window_start, window_end");
  test::Harness h(plan, 2);
  h.add(0, {rec(0, ",\"k\":1")});
  h.add(1, {rec(9, ",\"k\":1")});
  // At W = 9, [0, 10) would fire on its own; shard 1's piece [9, 19) is shipped with it
  // because it starts at or before W + 1, so the owner sees one session [0, 19).
  CHECK(h.advance(9).empty());
  h.add(0, {rec(15, ",\"k\":1")});
  auto rows = h.advance(100);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].line == R"({"k":1,"s":0,"e":25,"n":3})");
}

TEST_CASE("COUNT(x), COUNT(DISTINCT x), FIRST_VALUE and LAST_VALUE by event time") {
  auto plan = compile_ok(
      "SELECT COUNT(*) AS n, COUNT(x) AS nx, COUNT(DISTINCT x) AS d, FIRST_VALUE(x) AS f, "
      "LAST_VALUE(x) AS l, FIRST_VALUE(s) AS fs FROM TUMBLE(events, ts, INTERVAL '1' MINUTE) "
      "GROUP BY window_start, window_end");
  Lines out = run_lines(plan, {rec(5, ",\"x\":2,\"s\":\"late\""), rec(1, ",\"x\":1.50"),
                               rec(1, ",\"x\":1.5,\"s\":\"early\""), rec(3, ",\"x\":null"),
                               rec(9, ",\"x\":\"2\""), rec(9, ",\"x\":7")});
  // Ties at ts 9 go to the larger key encoding for LAST_VALUE: the string "2" (strings encode
  // after numbers).
  CHECK(out == Lines{R"({"n":6,"nx":5,"d":4,"f":1.5,"l":"2","fs":"early"})"});
}

TEST_CASE("APPROX_COUNT_DISTINCT and APPROX_PERCENTILE stay within their error bounds") {
  auto plan = compile_ok(
      "SELECT APPROX_COUNT_DISTINCT(u) AS u, APPROX_PERCENTILE(v, 0.9) AS p90, "
      "APPROX_PERCENTILE(v, 0) AS p0, COUNT(DISTINCT u) AS exact "
      "FROM TUMBLE(events, ts, INTERVAL '1' MINUTE) GROUP BY window_start, window_end");
  std::vector<std::string> recs;
  for (int i = 0; i < 20000; ++i)
    recs.push_back(rec(
        i % 1000, ",\"u\":" + std::to_string(i % 5000) + ",\"v\":" + std::to_string(i % 1000 + 1)));
  Lines out = run_lines(plan, recs);
  REQUIRE(out.size() == 1);
  auto num = [&](const char* name) {
    size_t p = out[0].find(name);
    return std::stod(out[0].substr(p + std::strlen(name)));
  };
  CHECK(num("\"exact\":") == 5000);
  CHECK(std::fabs(num("\"u\":") - 5000) <= 5000 * 0.03);
  CHECK(std::fabs(num("\"p90\":") - 900) <= 900 * 0.0101);
  CHECK(std::fabs(num("\"p0\":") - 1) <= 0.0101);
}
