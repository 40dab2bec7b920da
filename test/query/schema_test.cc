// Queries over a topic with a typed schema: unknown columns and obvious type errors at
// compile time, at their SQL position; records with wrongly typed fields are malformed with
// a reason naming the field and the type. Without a schema nothing changes.

#include <doctest/doctest.h>

#include "freshet/query/stateless.h"
#include "print_util.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;
using Lines = std::vector<std::string>;

namespace {

const TopicSchema kClicks{{{"user_id", ColumnType::kString},
                           {"url", ColumnType::kString},
                           {"status", ColumnType::kInt},
                           {"latency_ms", ColumnType::kDouble},
                           {"ok", ColumnType::kBool},
                           {"geo.lat", ColumnType::kDouble},
                           {"ts", ColumnType::kTimestamp}}};

// The only error of compiling `sql` over payments typed as kClicks.
Diagnostic only_error(std::string_view sql, std::vector<SourcePos> origins = {}) {
  test::Compiled c = test::compile_typed(sql, kClicks, std::move(origins));
  CHECK(c.plan == nullptr);
  for (const Diagnostic& d : c.diags) INFO(d.code << " " << d.message);
  REQUIRE(c.diags.size() == 1);
  return c.diags[0];
}

std::shared_ptr<const Plan> typed_ok(std::string_view sql) {
  test::Compiled c = test::compile_typed(sql, kClicks);
  for (const Diagnostic& d : c.diags) FAIL_CHECK(d.code << " " << d.message);
  REQUIRE(c.plan != nullptr);
  return c.plan;
}

const char* kPerUser =
    "SELECT user_id, window_start, window_end, COUNT(*) AS n, SUM(latency_ms) AS total\n"
    "FROM TUMBLE(payments, ts, INTERVAL '1' SECOND)\n"
    "WHERE status < 500\n"
    "GROUP BY user_id, window_start, window_end";

struct Rejects {
  Lines records, reasons;
};

// Runs kPerUser over `records` on one shard; the rows, and what was rejected and why.
Lines run_per_user(const std::vector<std::string>& records, Rejects& rejects) {
  auto plan = typed_ok(kPerUser);
  test::Harness h(plan, 1);
  h.add(0, records);
  Lines rows;
  for (const FiredRow r : h.advance(kMaxTimestamp)) rows.emplace_back(r.line);
  rejects.records = h.late_records;
  rejects.reasons = h.late_reasons;
  return rows;
}

}  // namespace

TEST_CASE("a column not in the schema is an error at its YAML position, with a did-you-mean") {
  // The SQL sits in a `sql: |` block: SQL line k starts at YAML line 10 + k, column 7.
  Diagnostic d = only_error(
      "SELECT user_id, window_start, window_end, COUNT(*)\n"
      "FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE)\n"
      "WHERE stauts < 500\n"
      "GROUP BY user_id, window_start, window_end",
      {{10, 7}, {11, 7}, {12, 7}, {13, 7}});
  CHECK(d.code == "E0311");
  CHECK(d.message == "unknown column `stauts` in topic `payments`");
  CHECK(d.pos.line == 12);
  CHECK(d.pos.col == 13);  // `stauts` at SQL col 7 -> 7 + 7 - 1
  CHECK(d.span == 6);
  CHECK(d.label == "did you mean `status`?");
  CHECK(d.help == "columns of `payments`: user_id, url, status, latency_ms, ok, geo.lat, ts");
}

TEST_CASE("unknown columns are found in every clause, nested names included") {
  CHECK(only_error("SELECT usr_id FROM payments").label == "did you mean `user_id`?");
  CHECK(only_error("SELECT geo.lon FROM payments").label == "did you mean `geo.lat`?");
  CHECK(only_error("SELECT geo FROM payments").message ==
        "unknown column `geo` in topic "
        "`payments`");
  CHECK(only_error("SELECT window_start, window_end, COUNT(*) FROM TUMBLE(payments, tss, "
                   "INTERVAL '1' SECOND) GROUP BY window_start, window_end")
            .label == "did you mean `ts`?");
  CHECK(only_error("SELECT url, window_start, window_end, MAX(latency) FROM TUMBLE(payments, "
                   "ts, INTERVAL '1' SECOND) GROUP BY url, window_start, window_end")
            .code == "E0311");
  CHECK(only_error("SELECT window_start, window_end, COUNT(*) FROM TUMBLE(payments, ts, "
                   "INTERVAL '1' SECOND) GROUP BY region, window_start, window_end")
            .code == "E0311");
}

TEST_CASE("the event-time column must be a timestamp or an int") {
  Diagnostic d = only_error(
      "SELECT window_start, window_end, COUNT(*) FROM TUMBLE(payments, url, INTERVAL '1' "
      "SECOND) GROUP BY window_start, window_end");
  CHECK(d.code == "E0312");
  CHECK(d.message == "event-time column `url` is declared string in topic `payments`");
  CHECK(d.pos.col == 65);
  typed_ok(
      "SELECT window_start, window_end, COUNT(*) FROM TUMBLE(payments, status, INTERVAL '1' "
      "SECOND) GROUP BY window_start, window_end");
}

TEST_CASE("obvious type errors are compile errors at the operator or argument") {
  SUBCASE("SUM and AVG of a string, MIN of a boolean") {
    Diagnostic d = only_error(
        "SELECT window_start, window_end, SUM(url) FROM TUMBLE(payments, ts, INTERVAL '1' "
        "SECOND) GROUP BY window_start, window_end");
    CHECK(d.code == "E0312");
    CHECK(d.message == "SUM needs numbers, but `url` is a string");
    CHECK(d.pos.col == 38);
    CHECK(d.span == 3);
    CHECK(d.help == "COUNT(url) or COUNT(DISTINCT url) counts its values instead");
    CHECK(only_error("SELECT window_start, window_end, AVG(LOWER(url)) FROM TUMBLE(payments, "
                     "ts, INTERVAL '1' SECOND) GROUP BY window_start, window_end")
              .message == "AVG needs numbers, but `LOWER(url)` is a string");
    CHECK(only_error("SELECT window_start, window_end, MIN(ok) FROM TUMBLE(payments, ts, "
                     "INTERVAL '1' SECOND) GROUP BY window_start, window_end")
              .message == "MIN needs numbers or strings, but `ok` is a boolean");
  }
  SUBCASE("a string column compared with a number, and a number with a string") {
    Diagnostic d = only_error("SELECT url FROM payments WHERE url > 5");
    CHECK(d.code == "E0312");
    CHECK(d.message == "cannot compare `url`, a string, with `5`, a number");
    CHECK(d.pos.col == 36);  // the `>`
    CHECK(only_error("SELECT url FROM payments WHERE status = '200'").message ==
          "cannot compare `status`, a number, with `'200'`, a string");
    CHECK(only_error("SELECT url FROM payments WHERE status IN (200, 'ok')").code == "E0312");
    CHECK(only_error("SELECT url FROM payments WHERE url BETWEEN 1 AND 9").code == "E0312");
    CHECK(only_error("SELECT url FROM payments WHERE ok = 1").code == "E0312");
  }
  SUBCASE("arithmetic on strings and booleans") {
    Diagnostic d = only_error("SELECT url + 1 AS x FROM payments");
    CHECK(d.code == "E0312");
    CHECK(d.message == "cannot apply `+` to `url`, a string");
    CHECK(d.pos.col == 12);
    CHECK(only_error("SELECT -user_id AS x FROM payments").message ==
          "cannot apply `-` to `user_id`, a string");
    CHECK(only_error("SELECT latency_ms * ok AS x FROM payments").code == "E0312");
  }
  SUBCASE("HAVING sees the types of aggregates and groups") {
    CHECK(only_error("SELECT url, window_start, window_end FROM TUMBLE(payments, ts, "
                     "INTERVAL '1' SECOND) GROUP BY url, window_start, window_end "
                     "HAVING MAX(url) > 3")
              .code == "E0312");
  }
}

TEST_CASE("well-typed queries compile, and what is not certain is left to run time") {
  typed_ok(kPerUser);
  typed_ok(
      "SELECT url, status * 2 + latency_ms AS x, url || '?' AS u, LENGTH(url) > 3 AS long_url "
      "FROM payments WHERE status BETWEEN 200 AND 299 AND url IN ('a', 'b') AND ok AND "
      "CAST(user_id AS BIGINT) > 5 AND geo.lat > -90.5");
  // Timestamps keep their JSON form (number or string), so they are not checked statically.
  typed_ok("SELECT url FROM payments WHERE ts > 1700000000000 OR ts = '2026-01-01T00:00:00Z'");
  typed_ok("SELECT COALESCE(url, status) AS x FROM payments WHERE CASE WHEN ok THEN 1 END = 1");
}

TEST_CASE("without a schema the same SQL compiles as before") {
  const std::string sqls[] = {"SELECT url + 1 AS x, stauts FROM payments WHERE url > 5",
                              "SELECT window_start, window_end, SUM(url) FROM TUMBLE(payments, "
                              "ts, INTERVAL '1' SECOND) GROUP BY window_start, window_end"};
  for (const std::string& sql : sqls) {
    CAPTURE(sql);
    CHECK(test::compile_typed(sql, TopicSchema{}).plan != nullptr);
    // A schema on another topic changes nothing either: `events` has none.
    std::string over_events = sql;
    over_events.replace(over_events.find("payments"), 8, "events");
    CHECK(test::compile_typed(over_events, kClicks).plan != nullptr);
  }
}

TEST_CASE("a record whose field has the wrong JSON type is malformed, with the field and type") {
  Rejects rej;
  Lines rows = run_per_user(
      {
          R"({"ts":1000,"user_id":"a","status":200,"latency_ms":1.5})",
          R"({"ts":1001,"user_id":"a","status":"abc","latency_ms":1})",
          R"({"ts":1002,"user_id":"a","status":"200","latency_ms":1})",
          R"({"ts":1003,"user_id":"a","status":2.5,"latency_ms":1})",
          R"({"ts":1004,"user_id":"a","status":200.0,"latency_ms":2,"url":7})",
          R"({"ts":1005,"user_id":{"id":1},"status":200})",
          R"({"ts":"yesterday","user_id":"a","status":200})",
          R"({"ts":1006,"user_id":"a","status":null,"latency_ms":true})",
          R"({"ts":1007,"user_id":"b","latency_ms":"slow"})",
          R"({"ts":"1970-01-01T00:00:01.008Z","user_id":"b","status":1e2})",
      },
      rej);
  // 200.0 is a whole number, and `url` is not read by the query, so record 5 counts; so does
  // the last one (1e2 is 100, RFC 3339 is a timestamp).
  CHECK(rows == Lines{R"({"user_id":"a","window_start":"1970-01-01T00:00:01.000Z",)"
                      R"("window_end":"1970-01-01T00:00:02.000Z","n":2,"total":3.5})",
                      R"({"user_id":"b","window_start":"1970-01-01T00:00:01.000Z",)"
                      R"("window_end":"1970-01-01T00:00:02.000Z","n":1,"total":null})"});
  CHECK(rej.reasons == Lines{
                           "field `status` must be int, found a string",
                           // Numeric strings are not numbers: "200" is rejected like "abc".
                           "field `status` must be int, found a string",
                           "field `status` must be int, found a number that is not a whole "
                           "64-bit integer",
                           "field `user_id` must be string, found an object or array",
                           "field `ts` must be timestamp, found a string that is not an RFC "
                           "3339 time",
                           "field `latency_ms` must be double, found a boolean",
                           "field `latency_ms` must be double, found a string",
                       });
  CHECK(rej.records.size() == 7);
  CHECK(rej.records[1] == R"({"ts":1002,"user_id":"a","status":"200","latency_ms":1})");
}

TEST_CASE("a stateless query over a typed topic dead-letters mistyped records too") {
  const std::vector<std::string> topics = {"payments"};
  const std::map<std::string, std::string> ts_fields = {{"payments", "ts"}};
  const std::map<std::string, TopicSchema> schemas = {{"payments", kClicks}};
  std::vector<Diagnostic> diags;
  CompileInput in{"q", "SELECT url FROM payments WHERE status >= 500", {}, &topics};
  in.event_time_fields = &ts_fields;
  in.schemas = &schemas;
  auto plan = compile(in, diags);
  REQUIRE(plan != nullptr);
  StatelessOperator op(plan);
  Lines reasons;
  op.set_reject_callback([&](const RejectedRecord& r) { reasons.emplace_back(r.reason); });
  std::vector<std::string_view> recs = {R"({"ts":1,"url":"/a","status":503})",
                                        R"({"ts":2,"url":"/b","status":"503"})",
                                        R"({"ts":3.5,"url":"/c","status":503})"};
  FiredRows rows;
  auto st = op.process(recs, 0, rows);
  CHECK(st.malformed == 2);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].line == R"({"url":"/a"})");
  CHECK(reasons == Lines{"field `status` must be int, found a string",
                         "field `ts` must be timestamp, found a number that is not whole epoch "
                         "milliseconds"});
}
