// Golden files under test/query/cases/*.test: a query, events in, rows out.
//
//   -- comment lines start with "--"
//   allowed_lateness: 1000   (optional, before sql:)
//   schema: ts timestamp, amount double   (optional, before sql:: the schema of `payments`)
//   sql:
//   SELECT ...            (any number of lines)
//   events:
//   {"ts":...}            (one record value per line)
//   @watermark 5000       (drain, merge and fire at this watermark; +inf after the last line)
//   expect:
//   {...}                 (every fired row, in order of firing)
//   late:
//   {"ts":...}            (optional: the records rejected as late or malformed, in input order)
//   reasons:
//   field `x` must be ...  (optional: why each of them was, checked when present)
//
// Each case runs on one shard and again on two (records alternating between them); both
// must give exactly the expected rows. Stateless queries run through StatelessOperator.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "freshet/query/stateless.h"
#include "print_util.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::query;

namespace {

struct Case {
  DurationMs lateness = 0;
  TopicSchema schema;
  std::string sql;
  std::vector<std::string> events, expect, late, reasons;
};

// "ts timestamp, amount double" -> columns.
TopicSchema read_schema(std::string_view line) {
  static const std::map<std::string, ColumnType, std::less<>> kTypes = {
      {"string", ColumnType::kString},
      {"int", ColumnType::kInt},
      {"double", ColumnType::kDouble},
      {"bool", ColumnType::kBool},
      {"timestamp", ColumnType::kTimestamp}};
  TopicSchema s;
  std::istringstream in{std::string(line)};
  std::string name, type;
  while (in >> name >> type) {
    if (type.back() == ',') type.pop_back();
    auto it = kTypes.find(type);
    REQUIRE_MESSAGE(it != kTypes.end(), "unknown type " << type);
    s.columns.push_back({name, it->second});
  }
  return s;
}

Case read_case(const std::filesystem::path& path) {
  std::ifstream in(path);
  Case c;
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.rfind("--", 0) == 0) continue;
    if (line == "sql:" || line == "events:" || line == "expect:" || line == "late:" ||
        line == "reasons:") {
      section = line;
      continue;
    }
    if (section.empty() && line.rfind("allowed_lateness:", 0) == 0) {
      c.lateness = std::stoll(line.substr(17));
      continue;
    }
    if (section.empty() && line.rfind("schema:", 0) == 0) {
      c.schema = read_schema(line.substr(7));
      continue;
    }
    if (line.empty() && section != "sql:") continue;
    if (section == "sql:") c.sql += line + "\n";
    if (section == "events:") c.events.push_back(line);
    if (section == "expect:") c.expect.push_back(line);
    if (section == "late:") c.late.push_back(line);
    if (section == "reasons:") c.reasons.push_back(line);
  }
  return c;
}

struct CaseResult {
  std::vector<std::string> rows, late, reasons;
};

CaseResult run_case(const Case& c, const std::shared_ptr<const Plan>& plan, uint32_t shards) {
  CaseResult res;
  if (plan->stateless()) {
    StatelessOperator op(plan);
    std::vector<std::string_view> views;
    for (const auto& e : c.events)
      if (e.rfind("@watermark", 0) != 0) views.push_back(e);
    FiredRows rows;
    op.process(views, 0, rows);
    for (const FiredRow r : rows) res.rows.emplace_back(r.line);
    return res;
  }
  test::Harness h(plan, shards);
  uint32_t next = 0;
  for (const auto& e : c.events) {
    if (e.rfind("@watermark", 0) == 0) {
      for (const FiredRow r : h.advance(std::stoll(e.substr(10)))) res.rows.emplace_back(r.line);
      continue;
    }
    h.add(next, {e});
    next = (next + 1) % shards;
  }
  for (const FiredRow r : h.advance(kMaxTimestamp)) res.rows.emplace_back(r.line);
  res.late = h.late_records;
  res.reasons = h.late_reasons;
  return res;
}

}  // namespace

TEST_CASE("golden cases produce exactly their expected rows") {
  const char* root = std::getenv("FRESHET_SOURCE_ROOT");
  std::filesystem::path dir =
      std::filesystem::path(root != nullptr ? root : ".") / "test" / "query" / "cases";
  REQUIRE(std::filesystem::is_directory(dir));
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".test") continue;
    CAPTURE(entry.path().filename().string());
    Case c = read_case(entry.path());
    test::Compiled compiled = test::compile_typed(c.sql, c.schema, {}, c.lateness);
    for (const Diagnostic& d : compiled.diags) FAIL_CHECK(d.code << " " << d.message);
    REQUIRE(compiled.plan != nullptr);
    const auto& plan = compiled.plan;
    for (uint32_t shards : {1u, 2u}) {
      CAPTURE(shards);
      CaseResult r = run_case(c, plan, shards);
      CHECK(r.rows == c.expect);
      CHECK(r.late == c.late);
      if (!c.reasons.empty()) CHECK(r.reasons == c.reasons);
    }
    ++n;
  }
  CHECK(n >= 10);
}
