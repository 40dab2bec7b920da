#pragma once
// Compiling a query's SQL into an immutable Plan.
//
// The supported SQL (this release): one windowed aggregation
//
//   SELECT <group cols>, window_start, window_end, COUNT(*), SUM(x), MIN(x), MAX(x), AVG(x)
//          [AS alias], ...
//   FROM TUMBLE(<topic>, <ts col>, INTERVAL 'n' MILLISECOND|SECOND|MINUTE|HOUR|DAY[S])
//   [WHERE <col> <op> <literal> [AND ...]]
//   GROUP BY <group cols>, window_start, window_end
//   [HAVING <aggregate or alias> <op> <literal> [AND ...]]
//
// Columns are JSON fields of the record value, nested with dots (`a.b.c`). Everything else
// is reported as a Diagnostic at the offending token (E03xx codes, see src/query/diag.h).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/base/diagnostic.h"
#include "freshet/base/ids.h"

namespace freshet::query {

struct PlanSpec;  // the resolved query; private to the query module (src/query/plan_spec.h)

struct CompileInput {
  std::string_view name;  // the query's name in the config, for messages
  std::string_view sql;
  // YAML position of the first byte of each SQL line: SQL (line k 0-based, col c 1-based)
  // maps to (origins[k].line, origins[k].col + c - 1). Empty: report SQL-relative positions
  // (line k+1, col c).
  std::vector<SourcePos> sql_line_origins;
  // Topics the query may read; nullptr skips the check.
  const std::vector<std::string>* known_topics = nullptr;
};

// An immutable compiled query, shared read-only by every shard (thread-safe to read).
class Plan {
 public:
  explicit Plan(std::unique_ptr<const PlanSpec> spec);
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  std::string name() const;
  std::string topic() const;
  std::string ts_column() const;
  DurationMs window_size() const;
  // Output column names in SELECT order: the alias, else the column name, else the
  // canonical aggregate text such as `COUNT(*)` or `SUM(amount)`.
  std::vector<std::string> output_columns() const;
  // Every JSON field the query reads (dotted paths), the ts column first.
  const std::vector<std::string>& referenced_fields() const;

  const PlanSpec& spec() const { return *spec_; }

 private:
  std::unique_ptr<const PlanSpec> spec_;
};

// Returns the plan, or nullptr after appending every error found to `diags`.
std::shared_ptr<const Plan> compile(const CompileInput& input, std::vector<Diagnostic>& diags);

}  // namespace freshet::query
