// Stateless queries: filter and project per record, no window, and inputs that are other
// queries (chaining).

#include <doctest/doctest.h>

#include "freshet/query/stateless.h"
#include "print_util.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;
using Lines = std::vector<std::string>;

TEST_CASE("a stateless query filters and projects each record, in input order") {
  auto plan = test::compile_ok(
      "SELECT card_id, amount * 100 AS cents, UPPER(country) AS c FROM payments "
      "WHERE amount > 10 AND country IN ('de', 'fr')");
  CHECK(plan->stateless());
  CHECK(plan->input().kind == PlanInput::Kind::kTopic);
  CHECK(plan->ts_column().empty());
  Lines out = test::run_stateless(plan, {R"({"card_id":"c1","amount":12.5,"country":"de"})",
                                         R"({"card_id":"c2","amount":5,"country":"de"})",
                                         R"({"card_id":"c3","amount":99,"country":"fr"})",
                                         R"({"card_id":"c4","amount":50,"country":"us"})"});
  CHECK(out == Lines{R"({"card_id":"c1","cents":1250,"c":"DE"})",
                     R"({"card_id":"c3","cents":9900,"c":"FR"})"});
}

TEST_CASE("stateless rows carry the record's event time as window_end - 1") {
  const std::vector<std::string> topics = {"payments"};
  const std::map<std::string, std::string> ts_fields = {{"payments", "ts"}};
  std::vector<Diagnostic> diags;
  CompileInput in{"q", "SELECT card_id FROM payments", {}, &topics};
  in.event_time_fields = &ts_fields;
  auto plan = compile(in, diags);
  REQUIRE(plan != nullptr);
  CHECK(plan->ts_column() == "ts");
  StatelessOperator op(plan);
  std::vector<std::string_view> recs = {R"({"ts":"2026-11-25T10:00:00Z","card_id":"a"})",
                                        R"({"card_id":"b"})", R"({"ts":7,"card_id":"c"})"};
  FiredRows rows;
  size_t rejected = 0;
  op.set_reject_callback([&](const RejectedRecord& r) {
    CHECK(r.index == 1);
    CHECK(r.reason == "missing event time");
    ++rejected;
  });
  auto st = op.process(recs, 0, rows);
  CHECK(st.malformed == 1);
  CHECK(rejected == 1);
  CHECK(st.max_event_time == 1795600800000);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].window_end - 1 == 1795600800000);
  CHECK(rows[1].window_end - 1 == 7);
  CHECK(rows[1].line == R"({"card_id":"c"})");
}

TEST_CASE("a query may read another query's output by name") {
  const std::vector<std::string> topics = {"payments"};
  const std::vector<std::string> queries = {"per_minute", "alerts"};
  std::vector<Diagnostic> diags;
  CompileInput in{"alerts", "SELECT card_id, n FROM per_minute WHERE n >= 5", {}, &topics};
  in.known_queries = &queries;
  auto plan = compile(in, diags);
  REQUIRE(plan != nullptr);
  CHECK(plan->input().kind == PlanInput::Kind::kQuery);
  CHECK(plan->input().name == "per_minute");
  CompileInput windowed{"w",
                        "SELECT window_start, window_end, SUM(n) AS total FROM TUMBLE(per_minute, "
                        "window_end, INTERVAL '1' HOUR) GROUP BY window_start, window_end",
                        {},
                        &topics};
  windowed.known_queries = &queries;
  auto wplan = compile(windowed, diags);
  REQUIRE(wplan != nullptr);
  CHECK(wplan->input().kind == PlanInput::Kind::kQuery);
  CompileInput self{"alerts", "SELECT n FROM alerts", {}, &topics};
  self.known_queries = &queries;
  CHECK(compile(self, diags) == nullptr);
  CHECK(diags.back().message == "query `alerts` cannot read itself");
}
