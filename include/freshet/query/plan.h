#pragma once
// Compiling a query's SQL into an immutable Plan.
//
// The supported SQL: a windowed aggregation
//
//   SELECT <expr> [AS alias], ...          -- over group expressions, window_start/_end and
//                                          -- aggregates
//   FROM TUMBLE(<input>, <ts col>, <size>) | HOP(<input>, <ts>, <slide>, <size>)
//      | CUMULATE(<input>, <ts>, <step>, <max>) | SESSION(<input>, <ts>, <gap>)
//   [WHERE <expr>]
//   GROUP BY <expr or SELECT alias>, ..., window_start, window_end
//   [HAVING <expr>]
//
// or a stateless query: SELECT <expr> [AS alias], ... FROM <input> [WHERE <expr>].
//
// Intervals are INTERVAL 'n' MILLISECOND|SECOND|MINUTE|HOUR|DAY[S]. <input> is a topic or the
// name of another query (chaining). Expressions: + - * / %, comparisons, AND/OR/NOT,
// IS [NOT] NULL, [NOT] IN (...), [NOT] BETWEEN, CASE, CAST(x AS BIGINT|DOUBLE|DECIMAL[(p,s)]|
// VARCHAR|BOOLEAN|TIMESTAMP), LOWER, UPPER, CONCAT, ||, SUBSTRING, LENGTH, COALESCE, ABS,
// ROUND, FLOOR, CEIL. Aggregates: COUNT(*), COUNT(x), COUNT(DISTINCT x), SUM, MIN, MAX, AVG,
// APPROX_COUNT_DISTINCT(x), APPROX_PERCENTILE(x, p), FIRST_VALUE(x), LAST_VALUE(x).
//
// Columns are JSON fields of the record value, nested with dots (`a.b.c`). Everything else
// is reported as a Diagnostic at the offending token (E03xx codes, see src/query/diag.h).
//
// A topic may declare a TopicSchema. Over such a topic a column that is not in it is a compile
// error, so are obvious type errors (SUM of a string, a string compared with a number,
// arithmetic on strings or booleans), and at run time a record whose referenced field holds
// another JSON type is malformed. Without one, values are typed record by record.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/base/diagnostic.h"
#include "freshet/base/ids.h"

namespace freshet::query {

struct PlanSpec;  // the resolved query; private to the query module (src/query/plan_spec.h)

// The declared type of a schema column. The JSON each one accepts: kString a string; kInt a
// whole number within 64 bits; kDouble any number; kBool true or false; kTimestamp epoch
// milliseconds or an RFC 3339 string. null and a missing field are accepted as SQL NULL, and a
// numeric string is not a number. Values keep their JSON form: the type checks, it does not
// convert.
enum class ColumnType : uint8_t { kString, kInt, kDouble, kBool, kTimestamp };

std::string_view to_string(ColumnType t);  // "string", "int", ...

struct SchemaColumn {
  std::string name;  // dotted path, "geo.lat"
  ColumnType type = ColumnType::kString;
};

// A topic's typed view (config `topics.<t>.schema`), in declaration order.
struct TopicSchema {
  std::vector<SchemaColumn> columns;
};

struct CompileInput {
  std::string_view name;  // the query's name in the config, for messages
  std::string_view sql;
  // YAML position of the first byte of each SQL line: SQL (line k 0-based, col c 1-based)
  // maps to (origins[k].line, origins[k].col + c - 1). Empty: report SQL-relative positions
  // (line k+1, col c).
  std::vector<SourcePos> sql_line_origins;
  // Topics the query may read; nullptr skips the check.
  const std::vector<std::string>* known_topics = nullptr;
  // Other queries this one may read (FROM <query name>, chaining); nullptr: none.
  const std::vector<std::string>* known_queries = nullptr;
  // Semantics §3.5-3.6: windows keep their state until watermark >= end - 1 + allowed_lateness
  // and re-fire (FiredRow::kind == kLateUpdate) for every late-but-allowed record. With a
  // positive value the rows get a trailing `_version` column.
  DurationMs allowed_lateness = 0;
  // Semantics §3.5 `early_every`: the server calls WindowMerger::fire_early on its ticks. A
  // windowed plan's rows then get a trailing `_final` column (after `_version`): true for the
  // main firing and late updates, false for early rows. No effect on a stateless plan.
  bool emit_early = false;
  // Event-time field of each input (topic or query) for stateless queries, whose rows carry
  // the record's event time; a stateless query over an input not listed has none.
  const std::map<std::string, std::string>* event_time_fields = nullptr;
  // Schemas by topic name; a topic not listed (or nullptr) is typed record by record.
  const std::map<std::string, TopicSchema>* schemas = nullptr;
};

// What a query reads.
struct PlanInput {
  enum class Kind { kTopic, kQuery };
  Kind kind = Kind::kTopic;
  std::string name;
};

enum class WindowType { kNone, kTumble, kHop, kCumulate, kSession };

// An immutable compiled query, shared read-only by every shard (thread-safe to read).
class Plan {
 public:
  explicit Plan(std::unique_ptr<const PlanSpec> spec);
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  std::string name() const;
  // The input's name: a topic, or a query when input().kind == kQuery.
  std::string topic() const;
  PlanInput input() const;
  // Event-time column ("" for a stateless query over an input without one).
  std::string ts_column() const;
  WindowType window_type() const;
  // TUMBLE/HOP size, CUMULATE max, SESSION gap; 0 when stateless.
  DurationMs window_size() const;
  // HOP slide, CUMULATE step (TUMBLE: the size; others 0).
  DurationMs window_slide() const;
  DurationMs allowed_lateness() const;
  // CompileInput::emit_early, for a windowed plan (false when stateless).
  bool emit_early() const;
  // No window and no aggregate: run it with a StatelessOperator, not aggregator + merger.
  bool stateless() const;
  // Output column names in SELECT order: the alias, else the column name, else the
  // canonical aggregate text such as `COUNT(*)` or `SUM(amount)`.
  std::vector<std::string> output_columns() const;
  // Every JSON field the query reads (dotted paths), the ts column first.
  const std::vector<std::string>& referenced_fields() const;
  // A stable hash (freshet::hash64, same value in every process and build) of everything the
  // windowed state's layout and meaning depend on: window kind and sizes, allowed lateness,
  // GROUP BY expressions in order, the aggregate list with its arguments (HAVING's included),
  // and the output columns (so `_version` and `_final` count). WHERE, HAVING's predicate, the
  // event-time column, names of the query and its input, and the SQL's spelling do not count. A
  // checkpoint's state may be restored only into a plan with the same fingerprint.
  uint64_t state_fingerprint() const;

  const PlanSpec& spec() const { return *spec_; }

 private:
  std::unique_ptr<const PlanSpec> spec_;
};

// Returns the plan, or nullptr after appending every error found to `diags`.
std::shared_ptr<const Plan> compile(const CompileInput& input, std::vector<Diagnostic>& diags);

}  // namespace freshet::query
