// Golden files under test/query/cases/*.test: a query, events in, rows out.
//
//   -- comment lines start with "--"
//   sql:
//   SELECT ...            (any number of lines)
//   events:
//   {"ts":...}            (one record value per line)
//   expect:
//   {...}                 (the fired rows, in order, after a final watermark of +inf)

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "print_util.h"
#include "test_util.h"

using namespace freshet::query;

namespace {

struct Case {
  std::string sql;
  std::vector<std::string> events, expect;
};

Case read_case(const std::filesystem::path& path) {
  std::ifstream in(path);
  Case c;
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.rfind("--", 0) == 0) continue;
    if (line == "sql:" || line == "events:" || line == "expect:") {
      section = line;
      continue;
    }
    if (line.empty() && section != "sql:") continue;
    if (section == "sql:") c.sql += line + "\n";
    if (section == "events:") c.events.push_back(line);
    if (section == "expect:") c.expect.push_back(line);
  }
  return c;
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
    auto plan = test::compile_ok(c.sql);
    CHECK(test::run_lines(plan, c.events) == c.expect);
    ++n;
  }
  CHECK(n >= 2);
}
