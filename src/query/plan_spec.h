#pragma once
// What the operators need from a compiled query: the resolved form of the SQL, with every
// column turned into an index into the list of referenced fields and every expression bound
// into one ExprProgram. Immutable once compiled.

#include <array>
#include <string>
#include <vector>

#include "ast.h"
#include "decimal.h"
#include "expr.h"
#include "freshet/base/ids.h"
#include "freshet/query/plan.h"
#include "value.h"

namespace freshet::query {

enum class AggKind : uint8_t {
  kCount,       // COUNT(*)
  kCountValue,  // COUNT(x): non-null values
  kSum,
  kMin,
  kMax,
  kAvg,
  kCountDistinct,   // exact
  kApproxDistinct,  // HyperLogLog
  kPercentile,      // DDSketch
  kFirst,           // FIRST_VALUE by event time
  kLast,            // LAST_VALUE by event time
};

struct AggSpec {
  AggKind kind = AggKind::kCount;
  int arg = -1;    // expression root of the argument; -1 for COUNT(*)
  int field = -1;  // when the argument is a plain field: its index (the fast path)
  double percentile = 0.5;
  std::string canonical;  // "SUM(amount)"
};

// What a record held where a schema column was expected, for the dead-letter reason.
enum class Mismatch : uint8_t {
  kNone,
  kString,  // a string (not a column of strings; for timestamps: not RFC 3339)
  kNumber,  // a number (for int: not whole or beyond 64 bits; for timestamps: not whole)
  kBool,
  kCompound,  // an object or array
};
inline constexpr size_t kMismatchKinds = 5;

// The run-time check of one referenced field against its schema column. The reasons are
// built at compile time so a rejected record costs no allocation; they live as long as the
// plan, which every operator holds, so RejectedRecord::reason may point at them.
struct FieldCheck {
  int field = 0;  // index into PlanSpec::fields
  ColumnType type = ColumnType::kString;
  std::array<std::string, kMismatchKinds> reasons;  // by Mismatch; [kNone] unused
};

enum class WindowKind : uint8_t { kNone, kTumble, kHop, kCumulate, kSession };

enum class OutputKind : uint8_t {
  kGroup,  // a GROUP BY value as it is
  kWindowStart,
  kWindowEnd,
  kAggregate,  // an aggregate as it is (exact SUMs keep all their digits)
  kExpr,       // any other expression (post-aggregation, or per record when stateless)
  kVersion,    // the `_version` column of queries with allowed lateness
  kFinal,      // the `_final` column of queries with emit_early
};

struct OutputColumn {
  OutputKind kind = OutputKind::kGroup;
  int index = 0;  // position in the group key, index into aggs, or expression root
  std::string name;
  std::string json_prefix;  // `"name":`, escaped, with a leading ',' unless first
};

struct PlanSpec {
  std::string name;
  std::string topic;  // the input: a topic, or another query's name when input_is_query
  bool input_is_query = false;
  WindowKind window = WindowKind::kNone;
  std::string ts_column;
  // TUMBLE: size; HOP: size and slide; CUMULATE: max (size) and step (slide); SESSION: gap.
  // Non-session windows are unions of panes of `pane` ms (tumble size, hop slide, step).
  DurationMs window_size = 0;
  DurationMs slide = 0;
  DurationMs pane = 0;
  DurationMs gap = 0;
  DurationMs allowed_lateness = 0;
  bool emit_early = false;          // windowed plans only: fire_early() is used, rows have `_final`
  std::vector<std::string> fields;  // referenced fields, dotted paths; [ts_field] is the ts
  int ts_field = -1;                // -1: a stateless query over an input without event time
  std::vector<FieldCheck> field_checks;  // one per referenced field when the input has a schema
  ExprProgram prog;
  int where = -1;                // predicate root, -1 if none
  std::vector<int> group_exprs;  // per-record expression roots, GROUP BY order (= key order)
  std::vector<AggSpec> aggs;     // distinct aggregates of SELECT and HAVING
  int having = -1;               // post-aggregation predicate root, -1 if none
  std::vector<OutputColumn> outputs;
  std::vector<std::string> output_names;

  bool stateless() const { return window == WindowKind::kNone; }
  bool session() const { return window == WindowKind::kSession; }
};

}  // namespace freshet::query
