// Expressions in SELECT, WHERE, GROUP BY and HAVING: arithmetic, logic, NULL handling,
// CASE, CAST, string and numeric functions, evaluated per record and per group.

#include <doctest/doctest.h>

#include "print_util.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;
using freshet::query::test::compile_ok;
using freshet::query::test::run_lines;
using Lines = std::vector<std::string>;

namespace {

// Evaluates `expr` over one record through a stateless query.
std::string eval1(const std::string& expr, const std::string& record) {
  auto plan = compile_ok("SELECT " + expr + " AS v FROM events");
  Lines out = test::run_stateless(plan, {record});
  REQUIRE(out.size() == 1);
  return out[0].substr(5, out[0].size() - 6);  // {"v":...}
}

}  // namespace

TEST_CASE("arithmetic stays exact on decimals and turns to double on division") {
  const std::string r = R"({"a":1.25,"b":3,"c":-7,"s":"x","big":9223372036854775807})";
  CHECK(eval1("a + b", r) == "4.25");
  CHECK(eval1("a - b * 2", r) == "-4.75");
  CHECK(eval1("a * a", r) == "1.5625");
  CHECK(eval1("0.1 + 0.2", r) == "0.3");
  CHECK(eval1("b / 2", r) == "1.5");
  CHECK(eval1("b / 0", r) == "null");
  CHECK(eval1("c % 3", r) == "-1");
  CHECK(eval1("a % 1", r) == "0.25");
  CHECK(eval1("-a", r) == "-1.25");
  CHECK(eval1("big + 1", r) == "9.223372036854776e+18");  // beyond int64: a double
  CHECK(eval1("s + 1", r) == "null");                     // wrong type: NULL, not an error
  CHECK(eval1("missing * 2", r) == "null");
}

TEST_CASE("comparisons and three-valued logic") {
  const std::string r = R"({"a":2,"s":"b","n":null,"t":true})";
  CHECK(eval1("a > 1 AND s = 'b'", r) == "true");
  CHECK(eval1("a > 1 AND n = 1", r) == "null");
  CHECK(eval1("a < 1 AND n = 1", r) == "false");
  CHECK(eval1("a > 1 OR n = 1", r) == "true");
  CHECK(eval1("NOT (a > 1)", r) == "false");
  CHECK(eval1("NOT n", r) == "null");
  CHECK(eval1("n IS NULL", r) == "true");
  CHECK(eval1("zz IS NULL", r) == "true");
  CHECK(eval1("a IS NOT NULL", r) == "true");
  CHECK(eval1("a IN (1, 2, 3)", r) == "true");
  CHECK(eval1("a NOT IN (1, 3)", r) == "true");
  CHECK(eval1("a IN (1, NULL)", r) == "null");
  CHECK(eval1("s IN ('a', 'b')", r) == "true");
  CHECK(eval1("a BETWEEN 2 AND 3", r) == "true");
  CHECK(eval1("a NOT BETWEEN 2 AND 3", r) == "false");
  CHECK(eval1("a = '2'", r) == "null");  // number vs string: unknown
  CHECK(eval1("t = TRUE", r) == "true");
  CHECK(eval1("1.50 = 1.5", r) == "true");
}

TEST_CASE("CASE, COALESCE and CAST") {
  const std::string r = R"({"a":2.5,"s":"42","n":null,"ts":"2026-11-25T10:00:00Z","b":"TRUE"})";
  CHECK(eval1("CASE WHEN a > 2 THEN 'big' ELSE 'small' END", r) == "\"big\"");
  CHECK(eval1("CASE WHEN a > 3 THEN 'big' END", r) == "null");
  CHECK(eval1("CASE a WHEN 1 THEN 'one' WHEN 2.5 THEN 'two and a half' END", r) ==
        "\"two and a half\"");
  CHECK(eval1("COALESCE(n, missing, a)", r) == "2.5");
  CHECK(eval1("CAST(a AS BIGINT)", r) == "3");  // rounds half away from zero
  CHECK(eval1("CAST(-2.5 AS BIGINT)", r) == "-3");
  CHECK(eval1("CAST(s AS BIGINT) + 1", r) == "43");
  CHECK(eval1("CAST(a AS VARCHAR)", r) == "\"2.5\"");
  CHECK(eval1("CAST(s AS DOUBLE)", r) == "42");
  CHECK(eval1("CAST(1.23456 AS DECIMAL(10, 2))", r) == "1.23");
  CHECK(eval1("CAST(b AS BOOLEAN)", r) == "true");
  CHECK(eval1("CAST(ts AS TIMESTAMP)", r) == "\"2026-11-25T10:00:00.000Z\"");
  CHECK(eval1("CAST(ts AS TIMESTAMP) + INTERVAL '1' MINUTE", r) == "\"2026-11-25T10:01:00.000Z\"");
  CHECK(eval1("CAST(CAST(ts AS TIMESTAMP) AS BIGINT)", r) == "1795600800000");
  CHECK(eval1("CAST('nope' AS BIGINT)", r) == "null");
}

TEST_CASE("string functions count characters, not bytes") {
  const std::string r = R"({"s":"Grüße, World","n":null})";
  CHECK(eval1("LOWER(s)", r) == "\"grüße, world\"");
  CHECK(eval1("UPPER(s)", r) == "\"GRüßE, WORLD\"");  // ASCII case mapping only
  CHECK(eval1("SUBSTRING(s, 1, 5)", r) == "\"Grüße\"");
  CHECK(eval1("SUBSTRING(s, 8)", r) == "\"World\"");
  CHECK(eval1("SUBSTRING(s, 0, 2)", r) == "\"G\"");  // SQL: start 0 eats one of the length
  CHECK(eval1("LENGTH(s)", r) == "12");
  CHECK(eval1("CONCAT(s, '!', n, 1)", r) == "\"Grüße, World!1\"");
  CHECK(eval1("s || '!'", r) == "\"Grüße, World!\"");
  CHECK(eval1("s || n", r) == "null");
}

TEST_CASE("numeric functions") {
  const std::string r = R"({"a":-2.567,"d":2.5e0})";
  CHECK(eval1("ABS(a)", r) == "2.567");
  CHECK(eval1("ROUND(a)", r) == "-3");
  CHECK(eval1("ROUND(a, 2)", r) == "-2.57");
  CHECK(eval1("FLOOR(a)", r) == "-3");
  CHECK(eval1("CEIL(a)", r) == "-2");
  CHECK(eval1("ROUND(d)", r) == "3");
  CHECK(eval1("ROUND(1250, -2)", r) == "1300");
}

TEST_CASE("GROUP BY an expression or a SELECT alias, HAVING over groups and aggregates") {
  auto plan = compile_ok(
      "SELECT LOWER(country) AS c, window_start, COUNT(*) AS n, SUM(amount * 2) AS dbl, "
      "MAX(amount) - MIN(amount) AS spread, CASE WHEN COUNT(*) > 1 THEN 'many' ELSE 'one' END "
      "AS kind, window_end - window_start AS len "
      "FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE) "
      "WHERE amount BETWEEN 1 AND 100 OR country IS NULL "
      "GROUP BY c, window_start, window_end HAVING (c IS NULL OR c <> 'fr') AND n >= 1");
  Lines out = run_lines(
      plan, {R"({"ts":1,"country":"DE","amount":10})", R"({"ts":2,"country":"de","amount":2.5})",
             R"({"ts":3,"country":"FR","amount":3})", R"({"ts":4,"amount":500})",
             R"({"ts":5,"country":"US","amount":0})"});
  CHECK(
      out ==
      Lines{
          R"({"c":null,"window_start":"1970-01-01T00:00:00.000Z","n":1,"dbl":1000,"spread":0,"kind":"one","len":60000})",
          R"({"c":"de","window_start":"1970-01-01T00:00:00.000Z","n":2,"dbl":25,"spread":7.5,"kind":"many","len":60000})",
      });
}

TEST_CASE("an error inside an expression points at its token") {
  auto diags = test::compile_errors(
      "SELECT COUNT(*) FROM TUMBLE(events, ts, INTERVAL '1' MINUTE)\n"
      "WHERE LOWR(name) = 'a'\n"
      "GROUP BY window_start, window_end");
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].code == "E0307");
  CHECK(diags[0].label == "did you mean `LOWER`?");
  CHECK(diags[0].pos.line == 2);
  CHECK(diags[0].pos.col == 7);
  auto arity = test::compile_errors("SELECT SUBSTRING(s) FROM events");
  CHECK(arity[0].message == "SUBSTRING takes 2 to 3 arguments, found 1");
}
