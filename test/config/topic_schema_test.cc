// `topics.<t>.schema`: field → type, in file order, and every error it can produce.
#include <doctest/doctest.h>

#include "freshet/config/error_codes.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::config;
using namespace freshet::config::testing;

namespace {

// A topic `clicks` whose topic body (indented 4) is `body`.
std::string clicks(std::string_view body) {
  return "version: 1\ntopics:\n  clicks:\n" + std::string(body);
}

}  // namespace

TEST_CASE("a schema is read in file order, dotted names nest, SQL spellings are accepted") {
  LoadResult r = parse_yaml(clicks(R"(    schema:
      user_id: string
      status: int
      latency_ms: double
      geo.lat: DOUBLE
      ok: boolean
      amount: decimal
      n: bigint
      ts: timestamp
    event_time: { field: ts }
)"));
  INFO(rendered(r));
  REQUIRE(r.config);
  const std::vector<SchemaField>& s = r.config->topics.at("clicks").schema;
  REQUIRE(s.size() == 8);
  CHECK(s[0].name == "user_id");
  CHECK(s[0].type == FieldType::kString);
  CHECK(s[0].pos.line == 5);
  CHECK(s[0].pos.col == 7);
  CHECK(s[1].type == FieldType::kInt);
  CHECK(s[2].type == FieldType::kDouble);
  CHECK(s[3].name == "geo.lat");
  CHECK(s[3].type == FieldType::kDouble);
  CHECK(s[4].type == FieldType::kBool);
  CHECK(s[5].type == FieldType::kDouble);
  CHECK(s[6].type == FieldType::kInt);
  CHECK(s[7].type == FieldType::kTimestamp);
  CHECK(to_string(FieldType::kTimestamp) == "timestamp");
}

TEST_CASE("a topic without a schema has none") {
  LoadResult r = parse_yaml(kMinimal);
  REQUIRE(r.config);
  CHECK(r.config->topics.at("payments").schema.empty());
}

TEST_CASE("an unknown type is reported at the type with a did-you-mean and the list") {
  LoadResult r = parse_yaml(clicks("    schema:\n      user_id: strng\n      status: int\n"));
  Diagnostic d = only_error(r);
  CHECK(d.code == codes::kUnknownType);
  CHECK(d.pos.line == 5);
  CHECK(d.pos.col == 16);
  CHECK(d.span == 5);
  CHECK(d.message == "unknown type `strng` for field `user_id` in the schema of topic `clicks`");
  CHECK(d.label == "did you mean `string`?");
  CHECK(d.help == "types: string, int, double, bool, timestamp");
  CHECK(contains(rendered(r), "5 |       user_id: strng\n  |                ^^^^^ did you mean"));
  SUBCASE("far from every type: the list instead") {
    Diagnostic far = only_error(parse_yaml(clicks("    schema: { a: geography }\n")));
    CHECK(far.code == codes::kUnknownType);
    CHECK(far.label == "expected one of: string, int, double, bool, timestamp");
  }
}

TEST_CASE("schema shape errors") {
  SUBCASE("a nested map asks for dotted names") {
    Diagnostic d = only_error(parse_yaml(clicks("    schema:\n      geo:\n        lat: double\n")));
    CHECK(d.code == codes::kWrongType);
    CHECK(d.pos.line == 6);
    CHECK(d.help == "write nested fields with dots, e.g. `geo.lat: double`");
  }
  SUBCASE("an empty part of a dotted name") {
    Diagnostic d = only_error(parse_yaml(clicks("    schema:\n      geo..lat: double\n")));
    CHECK(d.code == codes::kBadName);
    CHECK(d.pos.line == 5);
    CHECK(d.pos.col == 7);
  }
  SUBCASE("no fields") {
    Diagnostic d = only_error(parse_yaml(clicks("    schema: {}\n")));
    CHECK(d.code == codes::kEmptyValue);
    CHECK(d.message == "the schema of topic `clicks` declares no fields");
  }
  SUBCASE("a type that is not a single value") {
    Diagnostic d = only_error(parse_yaml(clicks("    schema:\n      a: [int]\n")));
    CHECK(d.code == codes::kWrongType);
  }
  SUBCASE("a duplicate field") {
    Diagnostic d = only_error(parse_yaml(clicks("    schema:\n      a: int\n      a: double\n")));
    CHECK(d.code == codes::kDuplicateKey);
    CHECK(d.pos.line == 6);
  }
  SUBCASE("a value and fields nested in it, at the later one") {
    Diagnostic d =
        only_error(parse_yaml(clicks("    schema:\n      geo.lat: double\n      geo: string\n")));
    CHECK(d.code == codes::kSchemaConflict);
    CHECK(d.pos.line == 6);
    CHECK(d.message ==
          "field `geo.lat` is nested in `geo`, which the schema of topic `clicks` declares as "
          "string");
    CHECK(d.label == "conflicts with `geo.lat` on line 5");
  }
  SUBCASE("a shared prefix is not nesting") {
    LoadResult r = parse_yaml(clicks("    schema:\n      geo: string\n      geography: string\n"));
    CHECK(r.diagnostics.empty());
  }
}

TEST_CASE("the event-time field must be in the schema, as a timestamp or an int") {
  SUBCASE("timestamp and int are fine, and so is any field without a schema") {
    CHECK(parse_yaml(clicks("    schema: { ts: timestamp }\n    event_time: { field: ts }\n"))
              .diagnostics.empty());
    CHECK(parse_yaml(clicks("    schema: { ts: bigint }\n    event_time: { field: ts }\n"))
              .diagnostics.empty());
    CHECK(parse_yaml(clicks("    event_time: { field: ts }\n")).diagnostics.empty());
  }
  SUBCASE("missing from the schema: at the event_time field, whichever comes first") {
    LoadResult r = parse_yaml(clicks(R"(    event_time:
      field: tss
    schema:
      ts: timestamp
      url: string
)"));
    Diagnostic d = only_error(r);
    CHECK(d.code == codes::kEventTimeNotInSchema);
    CHECK(d.pos.line == 5);
    CHECK(d.pos.col == 14);
    CHECK(d.span == 3);
    CHECK(d.message == "event-time field `tss` is not in the schema of topic `clicks`");
    CHECK(d.label == "did you mean `ts`?");
    CHECK(d.help == "add `tss: timestamp` to the schema; its fields: ts, url");
  }
  SUBCASE("declared with a type that cannot hold a time") {
    Diagnostic d = only_error(parse_yaml(clicks(R"(    schema:
      ts: string
    event_time: { field: ts }
)")));
    CHECK(d.code == codes::kEventTimeType);
    CHECK(d.pos.line == 6);
    CHECK(d.message == "event-time field `ts` of topic `clicks` is declared string");
    CHECK(d.label == "declared `string` on line 5");
    CHECK(contains(d.help, "declare it `timestamp`"));
  }
}

TEST_CASE("every schema error is reported at once, without echoes") {
  LoadResult r = parse_yaml(clicks(R"(    schema:
      a: strin
      b: dobule
      ts: timestmp
    event_time: { field: ts }
)"));
  INFO(rendered(r));
  // Three bad types; `ts` is not also reported as missing from the schema.
  REQUIRE(r.diagnostics.size() == 3);
  for (const Diagnostic& d : r.diagnostics) CHECK(d.code == codes::kUnknownType);
  CHECK(r.diagnostics[1].label == "did you mean `double`?");
  CHECK(r.diagnostics[2].label == "did you mean `timestamp`?");
}
