// ${VAR} interpolation: the expander itself, then inside parse() with positions.
#include <doctest/doctest.h>

#include "env_impl.h"
#include "freshet/config/error_codes.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::config;
using namespace freshet::config::testing;

TEST_CASE("interpolation expands variables, defaults and $$") {
  EnvLookup env = fixed_env({{"HOST", "db"}, {"EMPTY", ""}});
  struct Case {
    const char* in;
    const char* out;
  };
  for (Case c : {Case{"plain", "plain"}, Case{"${HOST}", "db"}, Case{"a-${HOST}-b", "a-db-b"},
                 Case{"${MISSING:-x}", "x"}, Case{"${EMPTY:-x}", "x"}, Case{"${HOST:-x}", "db"},
                 Case{"${EMPTY}", ""}, Case{"$$", "$"}, Case{"$${HOST}", "${HOST}"},
                 Case{"cost $5", "cost $5"}, Case{"end $", "end $"}, Case{"${MISSING:-}", ""}}) {
    CAPTURE(c.in);
    Interpolated r = interpolate(c.in, env);
    CHECK(r.problems.empty());
    CHECK(r.text == c.out);
  }
}

TEST_CASE("interpolation reports unset variables and bad syntax with offsets") {
  EnvLookup env = fixed_env({{"EMPTY", ""}});
  Interpolated r = interpolate("x ${NOPE} ${EMPTY:?needs a value} ${bad name} ${OPEN", env);
  REQUIRE(r.problems.size() == 4);
  CHECK(r.problems[0].code == codes::kEnvUnset);
  CHECK(r.problems[0].offset == 2);
  CHECK(r.problems[0].length == 7);
  CHECK(r.problems[0].message == "environment variable `NOPE` is not set");
  CHECK(r.problems[0].help == "set it, or give a default: ${NOPE:-value}");
  CHECK(r.problems[1].code == codes::kEnvUnset);
  CHECK(r.problems[1].message == "environment variable `EMPTY` is empty: needs a value");
  CHECK(r.problems[2].code == codes::kEnvSyntax);
  CHECK(r.problems[3].code == codes::kEnvSyntax);
  CHECK(r.problems[3].message == "unterminated `${`");
}

TEST_CASE("parse expands variables in values after YAML parsing") {
  LoadResult r = parse_yaml(R"(version: 1
data_dir: ${STATE_DIRECTORY:-./data}
topics:
  payments: { partitions: "${PARTS}" }
sources:
  demo: { type: generator, to: payments, rate: "${RATE:-100/s}" }
queries:
  q: { sql: "SELECT * FROM payments WHERE cost > $$5" }
sinks:
  out: { type: file, inputs: [q], path: "${OUT}/q.jsonl" }
)",
                            {{"PARTS", "8"}, {"OUT", "/tmp/out: {x}"}});
  INFO(rendered(r));
  REQUIRE(r.config);
  CHECK(r.config->data_dir == "./data");
  CHECK(r.config->topics.at("payments").partitions == 8);
  CHECK(r.config->sources.at("demo").rate_per_sec == doctest::Approx(100));
  CHECK(r.config->queries.at("q").sql == "SELECT * FROM payments WHERE cost > $5");
  // The value is data, never YAML: `: {x}` stays text.
  CHECK(r.config->sinks.at("out").path == "/tmp/out: {x}/q.jsonl");
}

TEST_CASE("an unset variable is an error at its own position") {
  SUBCASE("plain scalar") {
    Diagnostic d = only_error(parse_yaml(std::string(kMinimal) + "data_dir: /var/${APP}\n"));
    CHECK(d.code == codes::kEnvUnset);
    CHECK(d.pos.line == 17);
    CHECK(d.pos.col == 16);
    CHECK(d.span == 6);
  }
  SUBCASE("quoted scalar: one column right of the quote") {
    Diagnostic d =
        only_error(parse_yaml(std::string(kMinimal) + "data_dir: \"${APP:?set APP}\"\n"));
    CHECK(d.code == codes::kEnvUnset);
    CHECK(d.pos.line == 17);
    CHECK(d.pos.col == 12);
    CHECK(d.message == "environment variable `APP` is not set: set APP");
  }
  SUBCASE("inside a block scalar") {
    LoadResult r = parse_yaml(R"(version: 1
queries:
  q:
    sql: |
      SELECT *
        FROM t WHERE x > ${LIMIT}
)");
    Diagnostic d = only_error(r);
    CHECK(d.code == codes::kEnvUnset);
    CHECK(d.pos.line == 6);
    CHECK(d.pos.col == 26);
  }
}

TEST_CASE("keys are not interpolated") {
  Diagnostic d =
      only_error(parse_yaml(std::string(kMinimal) + "${KEY}: 1\n", {{"KEY", "data_dir"}}));
  CHECK(d.code == codes::kUnknownKey);
}
