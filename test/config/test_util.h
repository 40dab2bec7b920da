#pragma once
// Helpers shared by the config tests: parse with a fixed environment, find diagnostics.

#include <doctest/doctest.h>

#include <map>
#include <string>

#include "freshet/config/config.h"

namespace freshet::config::testing {

inline EnvLookup fixed_env(std::map<std::string, std::string> vars = {}) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

inline LoadResult parse_yaml(const std::string& yaml, std::map<std::string, std::string> env = {}) {
  return parse("t.yaml", yaml, fixed_env(std::move(env)));
}

// The diagnostics, rendered, for failure messages.
inline std::string rendered(const LoadResult& r) {
  return render_all(r.diagnostics, r.source, DiagnosticFormat::kHuman, false);
}

// The only diagnostic of `r`; fails the test when there is not exactly one.
inline Diagnostic only_error(const LoadResult& r) {
  INFO(rendered(r));
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(!r.config);
  return r.diagnostics[0];
}

inline bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// A valid minimal pipeline the error tests modify.
inline constexpr const char* kMinimal = R"(version: 1
topics:
  payments:
    partitions: 2
sources:
  demo:
    type: generator
    to: payments
queries:
  q:
    sql: SELECT * FROM payments
sinks:
  out:
    type: file
    inputs: [q]
    path: ./out/q.jsonl
)";

}  // namespace freshet::config::testing
