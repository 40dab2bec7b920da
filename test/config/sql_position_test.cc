// SQL line origins: SQL line k, column c is YAML (origins[k].line, origins[k].col + c - 1).
#include <doctest/doctest.h>

#include "freshet/config/error_codes.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::config;
using namespace freshet::config::testing;

namespace {

// The origins of query `q` in `yaml`, which must parse cleanly.
std::vector<SourcePos> origins_of(const std::string& yaml, std::string* sql = nullptr) {
  LoadResult r = parse_yaml(yaml);
  INFO(rendered(r));
  REQUIRE(r.config);
  const QueryConfig& q = r.config->queries.at("q");
  if (sql) *sql = q.sql;
  return q.sql_line_origins;
}

// Where SQL (line k, col c) lands in the YAML text, as the query compiler will compute it.
std::string yaml_text_at(const std::string& yaml, const std::vector<SourcePos>& origins, size_t k,
                         uint32_t c, size_t len) {
  SourceText src("t.yaml", yaml);
  return std::string(src.line(origins[k].line).substr(origins[k].col + c - 2, len));
}

}  // namespace

TEST_CASE("literal block SQL maps every line, whatever the indentation") {
  for (int indent : {5, 6, 9}) {
    CAPTURE(indent);
    std::string pad(static_cast<size_t>(indent), ' ');
    std::string yaml = "version: 1\nqueries:\n  q:\n    sql: |\n" + pad + "SELECT a,\n" + pad +
                       "  b\n\n" + pad + "FROM t\n";
    std::string sql;
    std::vector<SourcePos> o = origins_of(yaml, &sql);
    CHECK(sql == "SELECT a,\n  b\n\nFROM t\n");
    REQUIRE(o.size() == 4);
    for (uint32_t k = 0; k < 4; ++k) {
      CHECK(o[k].line == 5 + k);
      CHECK(o[k].col == static_cast<uint32_t>(indent) + 1);
    }
    CHECK(yaml_text_at(yaml, o, 1, 3, 1) == "b");
    CHECK(yaml_text_at(yaml, o, 3, 6, 1) == "t");
  }
}

TEST_CASE("block headers: strip, keep, explicit indentation and comments") {
  SUBCASE("|-") {
    std::string yaml = "version: 1\nqueries:\n  q:\n    sql: |-\n      SELECT 1\n      FROM t\n";
    std::string sql;
    auto o = origins_of(yaml, &sql);
    CHECK(sql == "SELECT 1\nFROM t");
    REQUIRE(o.size() == 2);
    CHECK(o[1].line == 6);
    CHECK(o[1].col == 7);
  }
  SUBCASE("|2 keeps the extra spaces in the SQL") {
    std::string yaml =
        "version: 1\nqueries:\n  q:\n    sql: |2  # two past the key\n"
        "        SELECT 1\n      FROM t\n";
    std::string sql;
    auto o = origins_of(yaml, &sql);
    CHECK(sql == "  SELECT 1\nFROM t\n");
    REQUIRE(o.size() == 2);
    CHECK(o[0].line == 5);
    CHECK(o[0].col == 7);
    CHECK(yaml_text_at(yaml, o, 0, 3, 6) == "SELECT");
    CHECK(yaml_text_at(yaml, o, 1, 1, 4) == "FROM");
  }
  SUBCASE("|+2 and |-4 order") {
    std::string yaml = "version: 1\nqueries:\n  q:\n    sql: |-4\n        SELECT 1\n";
    auto o = origins_of(yaml);
    REQUIRE(o.size() == 1);
    CHECK(o[0].col == 9);
  }
  SUBCASE("leading blank line") {
    std::string yaml = "version: 1\nqueries:\n  q:\n    sql: |\n\n      SELECT 1\n";
    std::string sql;
    auto o = origins_of(yaml, &sql);
    CHECK(sql == "\nSELECT 1\n");
    REQUIRE(o.size() == 2);
    CHECK(o[1].line == 6);
    CHECK(o[1].col == 7);
  }
}

TEST_CASE("one-line SQL maps directly, quotes shift one column") {
  SUBCASE("plain") {
    std::string yaml = "version: 1\nqueries:\n  q:\n    sql: SELECT x FROM t\n";
    auto o = origins_of(yaml);
    REQUIRE(o.size() == 1);
    CHECK(o[0].line == 4);
    CHECK(o[0].col == 10);
    CHECK(yaml_text_at(yaml, o, 0, 8, 1) == "x");
  }
  SUBCASE("double quoted") {
    std::string yaml = "version: 1\nqueries:\n  q:\n    sql: \"SELECT x FROM t\"\n";
    auto o = origins_of(yaml);
    CHECK(o[0].col == 11);
    CHECK(yaml_text_at(yaml, o, 0, 8, 1) == "x");
  }
  SUBCASE("single quoted in a flow map") {
    std::string yaml = "version: 1\nqueries: { q: { sql: 'SELECT x FROM t' } }\n";
    auto o = origins_of(yaml);
    CHECK(o[0].line == 2);
    CHECK(yaml_text_at(yaml, o, 0, 1, 8) == "SELECT x");
  }
}

TEST_CASE("folded SQL finds the source line each SQL line starts on") {
  std::string yaml =
      "version: 1\nqueries:\n  q:\n    sql: >\n      SELECT x\n      FROM t\n\n"
      "      WHERE y\n";
  std::string sql;
  auto o = origins_of(yaml, &sql);
  CHECK(sql == "SELECT x FROM t\nWHERE y\n");
  REQUIRE(o.size() == 2);
  CHECK(o[0].line == 5);
  CHECK(o[0].col == 7);
  CHECK(o[1].line == 8);
  CHECK(o[1].col == 7);
}
