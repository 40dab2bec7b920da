// SQL compilation: what compiles into which plan, and the diagnostics for what does not.

#include <doctest/doctest.h>

#include "print_util.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;
using freshet::query::test::compile_errors;
using freshet::query::test::compile_ok;

namespace {

const char* kBigSpenders =
    R"(SELECT card_id, window_start, window_end, COUNT(*) AS n, SUM(amount) AS total
FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE)
WHERE amount > 0
GROUP BY card_id, window_start, window_end
HAVING COUNT(*) >= 5
)";

}  // namespace

TEST_CASE("the design brief's query compiles into a plan") {
  auto plan = compile_ok(kBigSpenders);
  CHECK(plan->topic() == "payments");
  CHECK(plan->ts_column() == "ts");
  CHECK(plan->window_size() == 60000);
  CHECK(plan->output_columns() ==
        std::vector<std::string>{"card_id", "window_start", "window_end", "n", "total"});
  CHECK(plan->referenced_fields() == std::vector<std::string>{"ts", "card_id", "amount"});
}

TEST_CASE("unaliased aggregates are named by their canonical text") {
  auto plan = compile_ok(
      "select region.name, window_start, window_end, count(*), Sum(amount), min(amount), "
      "MAX(amount), avg(amount) from tumble(events, ts, interval '10' seconds) "
      "group by region.name, window_start, window_end");
  CHECK(plan->output_columns() ==
        std::vector<std::string>{"region.name", "window_start", "window_end", "COUNT(*)",
                                 "SUM(amount)", "MIN(amount)", "MAX(amount)", "AVG(amount)"});
  CHECK(plan->window_size() == 10000);
  CHECK(plan->referenced_fields() == std::vector<std::string>{"ts", "region.name", "amount"});
}

TEST_CASE("interval units, singular and plural") {
  auto size = [](const char* unit) {
    std::string sql = std::string(
                          "SELECT window_start, window_end, COUNT(*) FROM TUMBLE(events, ts, "
                          "INTERVAL '3' ") +
                      unit + ") GROUP BY window_start, window_end";
    return compile_ok(sql)->window_size();
  };
  CHECK(size("MILLISECOND") == 3);
  CHECK(size("milliseconds") == 3);
  CHECK(size("SECOND") == 3000);
  CHECK(size("MINUTES") == 180000);
  CHECK(size("HOUR") == 3 * 3600000);
  CHECK(size("days") == 3 * 86400000LL);
}

TEST_CASE("a HOP size that is not a multiple of the slide is reported in YAML coordinates") {
  // The SQL sits in a YAML block scalar: line k of the SQL starts at YAML line 20 + k, col 7.
  std::string sql =
      "SELECT card_id, window_start, window_end, COUNT(*)\n"
      "FROM HOP(payments, ts, INTERVAL '2' MINUTE, INTERVAL '5' MINUTE)\n"
      "GROUP BY card_id, window_start, window_end\n";
  std::vector<SourcePos> origins = {{20, 7}, {21, 7}, {22, 7}};
  auto diags = compile_errors(sql, origins);
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].code == "E0308");
  CHECK(diags[0].message == "the size of HOP must be a multiple of its slide");
  CHECK(diags[0].pos.line == 21);
  CHECK(diags[0].pos.col == 51);  // INTERVAL '5' at SQL col 45 -> 7 + 45 - 1
}

TEST_CASE("HOP, CUMULATE and SESSION compile with their sizes") {
  auto hop = compile_ok(
      "SELECT window_start, window_end, COUNT(*) FROM HOP(events, ts, INTERVAL '2' SECOND, "
      "INTERVAL '10' SECOND) GROUP BY window_start, window_end");
  CHECK(hop->window_type() == WindowType::kHop);
  CHECK(hop->window_size() == 10000);
  CHECK(hop->window_slide() == 2000);
  auto cum = compile_ok(
      "SELECT window_start, window_end, COUNT(*) FROM cumulate(events, ts, INTERVAL '1' MINUTE, "
      "INTERVAL '1' HOUR) GROUP BY window_start, window_end");
  CHECK(cum->window_type() == WindowType::kCumulate);
  CHECK(cum->window_slide() == 60000);
  auto ses = compile_ok(
      "SELECT k, window_start, window_end, COUNT(*) FROM SESSION(events, ts, INTERVAL '30' "
      "SECOND) GROUP BY k, window_start, window_end");
  CHECK(ses->window_type() == WindowType::kSession);
  CHECK(ses->window_size() == 30000);
  auto bad = compile_errors(
      "SELECT COUNT(*) FROM CUMULATE(events, ts, INTERVAL '7' SECOND, INTERVAL '1' MINUTE) "
      "GROUP BY window_start, window_end");
  CHECK(bad[0].code == "E0308");
  CHECK(bad[0].message == "the max of CUMULATE must be a multiple of its step");
}

TEST_CASE("without origins, positions are relative to the SQL") {
  auto diags = compile_errors(
      "SELECT COUNT(*)\n  FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE)\n"
      "GROUP BY window_start, window_end\nORDER BY 1");
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].message == "ORDER BY is not supported yet");
  CHECK(diags[0].pos.line == 4);
  CHECK(diags[0].pos.col == 1);
}

TEST_CASE("a misspelt keyword gets a did-you-mean") {
  SUBCASE("FORM for FROM") {
    auto diags = compile_errors(
        "SELECT card_id, window_start, COUNT(*) FORM TUMBLE(payments, ts, "
        "INTERVAL '1' MINUTE) GROUP BY card_id, window_start, window_end");
    REQUIRE(diags.size() == 1);
    CHECK(diags[0].code == "E0302");
    CHECK(diags[0].message == "unknown keyword `FORM`");
    CHECK(diags[0].label == "did you mean `FROM`?");
    CHECK(diags[0].pos.col == 40);
    CHECK(diags[0].span == 4);
  }
  SUBCASE("GRUOP for GROUP") {
    auto diags = compile_errors(
        "SELECT COUNT(*) FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE)\n"
        "GRUOP BY window_start, window_end");
    REQUIRE(diags.size() == 1);
    CHECK(diags[0].code == "E0302");
    CHECK(diags[0].label == "did you mean `GROUP`?");
    CHECK(diags[0].pos.line == 2);
    CHECK(diags[0].pos.col == 1);
  }
  SUBCASE("SELEC at the start") {
    auto diags = compile_errors("SELEC COUNT(*) FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE)");
    REQUIRE(diags.size() == 1);
    CHECK(diags[0].label == "did you mean `SELECT`?");
  }
  SUBCASE("a misspelt unit") {
    auto diags = compile_errors(
        "SELECT COUNT(*) FROM TUMBLE(payments, ts, INTERVAL '1' MINUTS) "
        "GROUP BY window_start, window_end");
    REQUIRE(diags.size() == 1);
    CHECK(diags[0].code == "E0308");
    CHECK(diags[0].label == "did you mean `MINUTE`?");
    CHECK(diags[0].pos.col == 56);
  }
  SUBCASE("a misspelt aggregate") {
    auto diags = compile_errors(
        "SELECT SUMM(amount) FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE) "
        "GROUP BY window_start, window_end");
    REQUIRE(diags.size() == 1);
    CHECK(diags[0].code == "E0307");
    CHECK(diags[0].label == "did you mean `SUM`?");
    CHECK(diags[0].pos.col == 8);
  }
}

TEST_CASE("a selected column that is not grouped is an error at that column") {
  auto diags = compile_errors(
      "SELECT card, window_start, window_end, COUNT(*) FROM TUMBLE(payments, ts, INTERVAL '1' "
      "MINUTE) GROUP BY card_id, window_start, window_end");
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].code == "E0305");
  CHECK(diags[0].message == "column `card` must appear in GROUP BY or be used in an aggregate");
  CHECK(diags[0].label == "did you mean `card_id`?");
  CHECK(diags[0].pos.col == 8);
  CHECK(diags[0].span == 4);
}

TEST_CASE("GROUP BY must list the window columns") {
  auto diags = compile_errors(
      "SELECT card_id, COUNT(*) FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE)\n"
      "GROUP BY card_id");
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].code == "E0306");
  CHECK(diags[0].message == "GROUP BY must list window_start and window_end");
  CHECK(diags[0].pos.line == 2);
  CHECK(diags[0].pos.col == 1);
}

TEST_CASE("an unknown topic is reported with the closest known one") {
  auto diags = compile_errors(
      "SELECT window_start, window_end, COUNT(*) FROM TUMBLE(paymnts, ts, "
      "INTERVAL '1' MINUTE) GROUP BY window_start, window_end");
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].code == "E0304");
  CHECK(diags[0].message == "unknown topic `paymnts`");
  CHECK(diags[0].label == "did you mean `payments`?");
  CHECK(diags[0].pos.col == 55);
  CHECK(diags[0].span == 7);
}

TEST_CASE("all errors are reported at once") {
  auto diags = compile_errors(
      "SELECT card, window_start, window_end, COUNT(DISTINCT x), SUM(amount) AS total\n"
      "FROM TUMBLE(paymnts, ts, INTERVAL '1' MINUTE)\n"
      "WHERE amount > 0 OR amount < -5\n"
      "GROUP BY card_id, window_start, window_end\n"
      "HAVING totl > 5");
  std::vector<std::string> codes;
  for (auto& d : diags) codes.push_back(d.code);
  CHECK(codes == std::vector<std::string>{"E0304", "E0305", "E0305"});
  REQUIRE(diags.size() == 3);
  CHECK(diags[2].message == "column `totl` must appear in GROUP BY or be used in an aggregate");
  CHECK(diags[2].pos.line == 5);
  CHECK(diags[2].label == "did you mean `total`?");
}

TEST_CASE("constructs outside the subset are not supported yet") {
  auto first = [](std::string sql) {
    std::vector<Diagnostic> diags;
    std::vector<std::string> topics{"payments"};
    CHECK(compile({"q", sql, {}, &topics}, diags) == nullptr);
    REQUIRE(!diags.empty());
    return diags[0];
  };
  const std::string from = " FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE) ";
  const std::string group = " GROUP BY window_start, window_end";
  CHECK(first("SELECT DISTINCT COUNT(*)" + from + group).message ==
        "SELECT DISTINCT is not supported yet");
  CHECK(first("SELECT * " + from + group).message == "SELECT * is not supported yet");
  CHECK(first("SELECT COUNT(*) FROM payments").message ==
        "aggregation without a window is not supported yet");
  CHECK(first("SELECT COUNT(*)" + from + "JOIN x ON a = b" + group).message ==
        "a join is not supported yet");
  CHECK(first("SELECT UPPER(name)" + from + group).message ==
        "column `name` must appear in GROUP BY or be used in an aggregate");
  CHECK(first("SELECT TRIM(name)" + from + group).message ==
        "function `TRIM` is not supported yet");
  CHECK(first("SELECT COUNT(*)" + from + "WHERE x LIKE 'a%'" + group).message ==
        "LIKE is not supported yet");
  CHECK(first("SELECT COUNT(*)" + from + "WHERE x = (SELECT 1)" + group).message ==
        "a subquery is not supported yet");
  CHECK(first("SELECT CASE WHEN a THEN 1 END" + from + group).message ==
        "column `a` must appear in GROUP BY or be used in an aggregate");
  CHECK(first("SELECT COUNT(*)" + from + "WHERE COUNT(*) > 1" + group).message ==
        "aggregates are not allowed in WHERE");
  CHECK(first("SELECT SUM(DISTINCT amount)" + from + group).message ==
        "SUM(DISTINCT ...) is not supported yet");
  CHECK(first("SELECT SUM(SUM(amount))" + from + group).message == "aggregates cannot be nested");
  CHECK(first("SELECT CAST(MAX(amount) AS MONEY)" + from + group).message ==
        "unknown type `MONEY`");
  CHECK(first("SELECT COUNT(*) FROM payments GROUP BY window_start").message ==
        "aggregation without a window is not supported yet");
  CHECK(first("SELECT APPROX_PERCENTILE(amount, 2)" + from + group).message ==
        "the fraction of APPROX_PERCENTILE must be a number literal from 0 to 1");
}

TEST_CASE("a syntax error points at the unexpected token") {
  auto diags = compile_errors("SELECT COUNT(* FROM TUMBLE(payments, ts, INTERVAL '1' MINUTE)");
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].code == "E0301");
  CHECK(diags[0].message == "expected `,` or `)`, found `FROM`");
  CHECK(diags[0].pos.col == 16);
}

TEST_CASE("an unterminated string is a syntax error at its opening quote") {
  auto diags = compile_errors("SELECT COUNT(*) FROM TUMBLE(payments, ts, INTERVAL '1 MINUTE)");
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].message == "unterminated string literal");
  CHECK(diags[0].pos.col == 52);
}

TEST_CASE("duplicate output names are rejected") {
  auto diags = compile_errors(
      "SELECT COUNT(*) AS n, SUM(x) AS n FROM TUMBLE(payments, ts, "
      "INTERVAL '1' MINUTE) GROUP BY window_start, window_end");
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].code == "E0310");
  CHECK(diags[0].pos.col == 33);
}

TEST_CASE("an interval must be a positive whole number of a sane size") {
  auto msg = [](const char* q) {
    auto diags = compile_errors(std::string("SELECT COUNT(*) FROM TUMBLE(payments, ts, INTERVAL ") +
                                q + " DAY) GROUP BY window_start, window_end");
    REQUIRE(diags.size() == 1);
    CHECK(diags[0].code == "E0308");
    CHECK(diags[0].pos.col == 52);
    return diags[0].message;
  };
  CHECK(msg("'0'") == "invalid interval quantity `0`");
  CHECK(msg("'1.5'") == "invalid interval quantity `1.5`");
  CHECK(msg("'999999999999'") == "interval `999999999999` DAY is too long");
}
