// LocalAggregator -> WindowMerger on one shard: window assignment, event time, aggregate
// values, WHERE, malformed and late records.

#include <doctest/doctest.h>

#include "freshet/base/time.h"
#include "print_util.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;
using freshet::query::test::compile_ok;
using freshet::query::test::run_lines;
using Lines = std::vector<std::string>;

namespace {

const char* kCountPerSecond =
    "SELECT window_start, window_end, COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL '1' SECOND) "
    "GROUP BY window_start, window_end";

std::string row_ws(TimestampMs start, TimestampMs end, int n) {
  return "{\"window_start\":\"" + format_rfc3339_ms(start) + "\",\"window_end\":\"" +
         format_rfc3339_ms(end) + "\",\"n\":" + std::to_string(n) + "}";
}

}  // namespace

TEST_CASE("records land in tumbling windows [start, start + size), negative times included") {
  auto plan = compile_ok(kCountPerSecond);
  Lines out = run_lines(plan, {R"({"ts":0})", R"({"ts":999})", R"({"ts":1000})", R"({"ts":-1})",
                               R"({"ts":-1000})", R"({"ts":-1001})"});
  CHECK(out == Lines{row_ws(-2000, -1000, 1), row_ws(-1000, 0, 2), row_ws(0, 1000, 2),
                     row_ws(1000, 2000, 1)});
  CHECK(
      out[2] ==
      R"({"window_start":"1970-01-01T00:00:00.000Z","window_end":"1970-01-01T00:00:01.000Z","n":2})");
}

TEST_CASE("event time may be epoch milliseconds or RFC 3339, record by record") {
  auto plan = compile_ok(kCountPerSecond);
  Lines out =
      run_lines(plan, {R"({"ts":"2026-11-25T10:00:00.250Z"})",
                       R"({"ts":1795600800999})",  // 2026-11-25T10:00:00.999Z
                       R"({"ts":"2026-11-25T11:00:00.500+01:00"})", R"({"ts":1.7956008005e12})"});
  REQUIRE(out.size() == 1);
  CHECK(
      out[0] ==
      R"({"window_start":"2026-11-25T10:00:00.000Z","window_end":"2026-11-25T10:00:01.000Z","n":4})");
}

TEST_CASE("SUM is exact: ten times 0.1 is 1") {
  auto plan = compile_ok(
      "SELECT SUM(x) AS s, AVG(x) AS a, MIN(x) AS lo, MAX(x) AS hi, COUNT(*) AS n FROM "
      "TUMBLE(events, "
      "ts, INTERVAL '1' MINUTE) GROUP BY window_start, window_end");
  std::vector<std::string> recs(10, R"({"ts":5,"x":0.1})");
  CHECK(run_lines(plan, recs) == Lines{R"({"s":1,"a":0.1,"lo":0.1,"hi":0.1,"n":10})"});
}

TEST_CASE("sums keep every decimal digit and drop trailing zeros") {
  auto plan = compile_ok(
      "SELECT SUM(x) AS s, AVG(x) AS a, MIN(x) AS lo, MAX(x) AS hi FROM "
      "TUMBLE(events, ts, INTERVAL '1' MINUTE) GROUP BY window_start, window_end");
  CHECK(run_lines(plan, {R"({"ts":1,"x":10.25})", R"({"ts":2,"x":5.50})", R"({"ts":3,"x":-2})"}) ==
        Lines{R"({"s":13.75,"a":4.583333333333333,"lo":-2,"hi":10.25})"});
  CHECK(
      run_lines(plan, {R"({"ts":1,"x":0.000000000000000001})", R"({"ts":1,"x":1000000000})"}) ==
      Lines{
          R"({"s":1000000000.000000000000000001,"a":500000000,"lo":0.000000000000000001,"hi":1000000000})"});
  CHECK(
      run_lines(plan,
                {R"({"ts":1,"x":9223372036854775807})", R"({"ts":1,"x":9223372036854775807})"}) ==
      Lines{
          R"({"s":18446744073709551614,"a":9.223372036854776e+18,"lo":9223372036854775807,"hi":9223372036854775807})"});
}

TEST_CASE("numbers outside the exact form fall back to double") {
  auto plan = compile_ok(
      "SELECT SUM(x) AS s, MAX(x) AS hi FROM TUMBLE(events, ts, INTERVAL '1' "
      "MINUTE) GROUP BY window_start, window_end");
  CHECK(run_lines(plan, {R"({"ts":1,"x":1e3})", R"({"ts":1,"x":0.5})"}) ==
        Lines{R"({"s":1000.5,"hi":1000})"});
}

TEST_CASE("null and missing aggregated fields are skipped; all-null aggregates are null") {
  auto plan = compile_ok(
      "SELECT k, SUM(x) AS s, AVG(x) AS a, MIN(x) AS lo, COUNT(*) AS n FROM "
      "TUMBLE(events, ts, INTERVAL '1' MINUTE) GROUP BY k, window_start, window_end");
  CHECK(run_lines(plan, {R"({"ts":1,"k":"a","x":null})", R"({"ts":1,"k":"a"})",
                         R"({"ts":1,"k":"b","x":4})", R"({"ts":1,"k":"b"})"}) ==
        Lines{R"({"k":"a","s":null,"a":null,"lo":null,"n":2})",
              R"({"k":"b","s":4,"a":4,"lo":4,"n":2})"});
}

TEST_CASE("MIN and MAX of strings compare bytewise") {
  auto plan = compile_ok(
      "SELECT MIN(name) AS lo, MAX(name) AS hi FROM TUMBLE(events, ts, INTERVAL "
      "'1' MINUTE) GROUP BY window_start, window_end");
  CHECK(run_lines(plan, {R"({"ts":1,"name":"pear"})", R"({"ts":1,"name":"apple"})",
                         R"({"ts":1,"name":"Zebra"})", R"({"ts":1,"name":"pears"})"}) ==
        Lines{R"({"lo":"Zebra","hi":"pears"})"});
}

TEST_CASE("group values keep their JSON type; missing groups as null") {
  auto plan = compile_ok(
      "SELECT k, COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL '1' MINUTE) "
      "GROUP BY k, window_start, window_end");
  Lines out = run_lines(plan, {R"({"ts":1,"k":"7"})", R"({"ts":1,"k":7})", R"({"ts":1,"k":7.0})",
                               R"({"ts":1,"k":null})", R"({"ts":1})", R"({"ts":1,"k":true})",
                               R"({"ts":1,"k":-1.5})"});
  std::sort(out.begin(), out.end());
  CHECK(out == Lines{R"({"k":"7","n":1})", R"({"k":-1.5,"n":1})", R"({"k":7,"n":2})",
                     R"({"k":null,"n":2})", R"({"k":true,"n":1})"});
}

TEST_CASE("nested fields are read by dotted path") {
  auto plan = compile_ok(
      "SELECT user.geo.country AS c, SUM(purchase.amount) AS s FROM TUMBLE(events, "
      "meta.ts, INTERVAL '1' MINUTE) GROUP BY user.geo.country, window_start, window_end");
  CHECK(
      run_lines(
          plan,
          {R"({"meta":{"ts":1},"user":{"id":1,"geo":{"city":"x","country":"DE"}},"purchase":{"amount":2.5}})",
           R"({"purchase":{"amount":1},"user":{"geo":{"country":"DE"}},"meta":{"ts":2},"z":[1,2]})"}) ==
      Lines{R"({"c":"DE","s":3.5})"});
}

TEST_CASE("WHERE filters on numbers, strings and booleans") {
  auto plan = compile_ok(
      "SELECT COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL '1' MINUTE) WHERE amount > 10.5 AND "
      "country <> 'FR' AND 100 >= amount AND ok = TRUE GROUP BY window_start, window_end");
  LocalAggregator agg(plan);
  std::vector<std::string_view> recs = {
      R"({"ts":1,"amount":11,"country":"DE","ok":true})",          // kept
      R"({"ts":1,"amount":10.5,"country":"DE","ok":true})",        // amount not > 10.5
      R"({"ts":1,"amount":50,"country":"FR","ok":true})",          // country
      R"({"ts":1,"amount":100,"ok":true})",                        // missing country: unknown
      R"({"ts":1,"amount":"50","country":"DE","ok":true})",        // string vs number: unknown
      R"({"ts":1,"amount":100.0,"country":"D\u0045","ok":true})",  // kept ("DE" escaped)
      R"({"ts":1,"amount":101,"country":"DE","ok":true})",         // over 100
      R"({"ts":1,"amount":20,"country":"DE","ok":false})",         // ok
  };
  auto st = agg.add_batch(recs, 0);
  CHECK(st.records == 8);
  CHECK(st.filtered_out == 6);
  CHECK(st.malformed == 0);
  std::vector<PartialBatch> parts;
  agg.drain(kMaxTimestamp, 1, parts);
  WindowMerger m(plan);
  m.merge(std::move(parts[0]));
  FiredRows rows;
  m.fire(kMaxTimestamp, rows);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].line == R"({"n":2})");
}

TEST_CASE("malformed records are counted with a reason and skipped") {
  auto plan = compile_ok(
      "SELECT SUM(amount) AS s FROM TUMBLE(events, ts, INTERVAL '1' MINUTE) "
      "GROUP BY window_start, window_end");
  LocalAggregator agg(plan);
  std::vector<std::pair<size_t, std::string>> rejected;
  agg.set_reject_callback([&](const RejectedRecord& r) {
    CHECK(r.kind == RejectedRecord::Kind::kMalformed);
    rejected.emplace_back(r.index, std::string(r.reason));
  });
  std::vector<std::string_view> recs = {
      R"({"ts":1,"amount":1})",
      R"(not json)",
      R"([1,2])",
      R"({"amount":1})",
      R"({"ts":"yesterday","amount":1})",
      R"({"ts":1.5,"amount":1})",
      R"({"ts":1,"amount":"x"})",
      R"({"ts":1,"amount":01})",
      R"({"ts":2,"amount":2})",
  };
  auto st = agg.add_batch(recs, 0);
  CHECK(st.records == 9);
  CHECK(st.malformed == 7);
  CHECK(st.max_event_time == 2);
  CHECK(agg.last_error() == "invalid number");
  CHECK(rejected ==
        std::vector<std::pair<size_t, std::string>>{{1, "invalid JSON"},
                                                    {2, "record is not a JSON object"},
                                                    {3, "missing event time"},
                                                    {4, "invalid event time"},
                                                    {5, "invalid event time"},
                                                    {6, "aggregated field is not a number"},
                                                    {7, "invalid number"}});
}

TEST_CASE("records for a window that was already drained are counted late") {
  auto plan = compile_ok(kCountPerSecond);
  LocalAggregator agg(plan);
  std::vector<std::string_view> first = {R"({"ts":100})", R"({"ts":1500})"};
  CHECK(agg.add_batch(first, 0).late == 0);
  std::vector<PartialBatch> parts;
  agg.drain(999, 1, parts);  // closes [0, 1000)
  CHECK(parts[0].size() == 1);
  CHECK(agg.drained_watermark() == 999);
  CHECK(agg.open_windows() == 1);
  size_t late_cb = 0;
  agg.set_reject_callback([&](const RejectedRecord& r) {
    CHECK(r.kind == RejectedRecord::Kind::kLate);
    CHECK((r.event_time == 999 || r.event_time == -5));
    ++late_cb;
  });
  std::vector<std::string_view> second = {R"({"ts":999})", R"({"ts":1000})", R"({"ts":-5})"};
  auto st = agg.add_batch(second, 0);
  CHECK(st.late == 2);
  CHECK(late_cb == 2);
  CHECK(st.max_event_time == 1000);
}

TEST_CASE("output rows escape strings as JSON") {
  auto plan = compile_ok(
      R"(SELECT name AS "the ""name""", COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL '1' MINUTE) GROUP BY name, window_start, window_end)");
  CHECK(plan->output_columns()[0] == "the \"name\"");
  Lines out = run_lines(plan, {R"({"ts":1,"name":"a\"b\\c\nd\u0001é\u2028"})"});
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "{\"the \\\"name\\\"\":\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\xe2\x80\xa8\",\"n\":1}");
}

TEST_CASE("values with enough readable padding are parsed in place") {
  auto plan = compile_ok(kCountPerSecond);
  LocalAggregator agg(plan);
  std::string log = R"({"ts":1}{"ts":2})" + std::string(64, ' ');
  std::vector<std::string_view> recs = {std::string_view(log).substr(0, 8),
                                        std::string_view(log).substr(8, 8)};
  auto st = agg.add_batch(recs, 64);
  CHECK(st.records == 2);
  CHECK(st.malformed == 0);
  CHECK(st.max_event_time == 2);
}

TEST_CASE("a session piece older than its key's first one is shipped when the watermark nears it") {
  // Drains visit the keys whose first piece is due; a record out of order that opens an
  // earlier piece of a key must move that key up.
  auto plan = compile_ok(
      "SELECT k, window_start, window_end, COUNT(*) AS n FROM SESSION(events, ts, INTERVAL '10' "
      "MILLISECOND) GROUP BY k, window_start, window_end");
  LocalAggregator agg(plan);
  std::vector<std::string_view> late_key = {R"({"ts":1000,"k":"a"})", R"({"ts":500,"k":"b"})"};
  CHECK(agg.add_batch(late_key, 0).records == 2);
  std::vector<PartialBatch> parts;
  agg.drain(100, 1, parts);
  CHECK(parts[0].size() == 0);
  std::vector<std::string_view> early = {R"({"ts":200,"k":"a"})"};
  CHECK(agg.add_batch(early, 0).late == 0);
  parts.clear();
  agg.drain(300, 1, parts);  // pieces starting at or before 301: a's [200, 210) only
  REQUIRE(parts[0].size() == 1);
  CHECK(parts[0].entries[0].window_start == 200);
  CHECK(parts[0].entries[0].window_end == 210);
  parts.clear();
  agg.drain_all(1, parts);
  CHECK(parts[0].size() == 2);
  CHECK(agg.open_windows() == 0);
}
