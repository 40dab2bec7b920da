#pragma once
// Helpers shared by the query tests: compile or fail loudly, and run records through the
// aggregator -> merger pipeline the way the server does.

#include <memory>
#include <string>
#include <vector>

#include "freshet/base/time.h"
#include "freshet/query/aggregator.h"
#include "freshet/query/merger.h"
#include "freshet/query/plan.h"

namespace freshet::query::test {

// Compiles `sql` against topics {"payments", "events"}; fails the test on any diagnostic.
std::shared_ptr<const Plan> compile_ok(std::string_view sql);
// Compiles `sql` expecting errors; returns them.
std::vector<Diagnostic> compile_errors(std::string_view sql, std::vector<SourcePos> origins = {});

// One aggregator and one merger, all records in one batch, everything fired at +inf.
std::vector<std::string> run_lines(const std::shared_ptr<const Plan>& plan,
                                   const std::vector<std::string>& records);

}  // namespace freshet::query::test
