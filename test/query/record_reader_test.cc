// RecordReader's WHERE fast path: ANDs of field-vs-literal comparisons are decided without
// the expression evaluator, and must decide exactly as it does for every kind of value.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "plan_spec.h"
#include "record_reader.h"
#include "test_util.h"

using namespace freshet::query;
using freshet::query::test::compile_ok;

namespace {

std::shared_ptr<const Plan> plan_where(const std::string& where) {
  return compile_ok("SELECT COUNT(*) AS n FROM TUMBLE(events, ts, INTERVAL '1' SECOND) WHERE " +
                    where + " GROUP BY window_start, window_end");
}

bool is_simple(const std::string& where) {
  auto plan = plan_where(where);
  std::vector<SimpleComparison> cs;
  return simple_comparisons(plan->spec().prog, plan->spec().where, cs);
}

}  // namespace

TEST_CASE("field-vs-literal comparisons and their ANDs take the fast path, nothing else") {
  CHECK(is_simple("type = 'bid'"));
  CHECK(is_simple("'bid' = type"));
  CHECK(is_simple("price > 100 AND type = 'bid'"));
  CHECK(is_simple("1.5 <= price AND price < 2e3 AND ok = true"));
  CHECK_FALSE(is_simple("type = 'bid' OR price > 1"));
  CHECK_FALSE(is_simple("NOT type = 'bid'"));
  CHECK_FALSE(is_simple("price + 1 > 100"));
  CHECK_FALSE(is_simple("price > other"));
  CHECK_FALSE(is_simple("type IN ('bid', 'ask')"));
  CHECK_FALSE(is_simple("type IS NULL"));
}

TEST_CASE("the WHERE fast path decides as the evaluator does, for every kind of value") {
  const std::vector<std::string> wheres = {"v = 'bid'",
                                           "v <> 'bid'",
                                           "'bid' = v",
                                           "v < 'b'",
                                           "v >= 'bid'",
                                           "v = 5",
                                           "v <> 5",
                                           "5 < v",
                                           "v <= 5.50",
                                           "v > -1e2",
                                           "v = true",
                                           "v <> false",
                                           "v > 0 AND v < 10",
                                           "v = 'bid' AND w = 1",
                                           "v = CAST('2024-01-01T00:00:00Z' AS TIMESTAMP)",
                                           "v >= CAST(0 AS TIMESTAMP)"};
  const std::vector<std::string> values = {R"("bid")",
                                           R"("bi")",
                                           R"("bidder")",
                                           R"("")",
                                           R"("a")",
                                           R"("c")",
                                           "5",
                                           "5.0",
                                           "5.5",
                                           "5.50",
                                           "-100",
                                           "-100.5",
                                           "1e400",
                                           "0",
                                           "9",
                                           "10",
                                           "true",
                                           "false",
                                           "null",
                                           "[1]",
                                           R"({"a":1})",
                                           R"("2024-01-01T00:00:00Z")",
                                           "1704067200000",
                                           R"("5")"};
  for (const std::string& where : wheres) {
    auto plan = plan_where(where);
    const PlanSpec& spec = plan->spec();
    std::vector<SimpleComparison> cs;
    // Everything but the CASTs is a plain comparison with a literal.
    CHECK(simple_comparisons(spec.prog, spec.where, cs) ==
          (where.find("CAST") == std::string::npos));
    for (const std::string& v : values) {
      for (const char* w : {"", R"(,"w":1)", R"(,"w":2)"}) {
        const std::string record = R"({"ts":1,"v":)" + v + w + "}";
        CAPTURE(where);
        CAPTURE(record);
        RecordReader reader(spec);
        REQUIRE(reader.read(record, 0) == nullptr);
        const bool slow = is_true(reader.eval_expr(spec.where));
        CHECK(reader.passes_where() == slow);
      }
    }
    // A record without the field: SQL NULL, never passes.
    RecordReader reader(spec);
    REQUIRE(reader.read(R"({"ts":1})", 0) == nullptr);
    CHECK(reader.passes_where() == is_true(reader.eval_expr(spec.where)));
  }
}
