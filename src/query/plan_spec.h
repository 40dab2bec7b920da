#pragma once
// What the operators need from a compiled query: the resolved form of the SQL, with every
// column turned into an index into the list of referenced fields. Immutable once compiled.

#include <string>
#include <vector>

#include "ast.h"
#include "decimal.h"
#include "freshet/base/ids.h"
#include "value.h"

namespace freshet::query {

enum class AggKind : uint8_t { kCount, kSum, kMin, kMax, kAvg };
enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

struct Literal {
  LiteralType type = LiteralType::kNull;
  bool boolean = false;
  bool exact = true;  // for numbers: `dec` holds the value, else `dbl`
  Decimal dec;
  double dbl = 0;
  std::string str;
};

struct AggSpec {
  AggKind kind = AggKind::kCount;
  int field = -1;         // index into PlanSpec::fields; -1 for COUNT(*)
  std::string canonical;  // "SUM(amount)"
};

// WHERE conjunct: fields[field] op literal.
struct FieldPredicate {
  int field = 0;
  CompareOp op = CompareOp::kEq;
  Literal literal;
};

// HAVING conjunct: aggs[agg] op literal.
struct HavingPredicate {
  int agg = 0;
  CompareOp op = CompareOp::kEq;
  Literal literal;
};

enum class OutputKind : uint8_t { kGroup, kWindowStart, kWindowEnd, kAggregate };

struct OutputColumn {
  OutputKind kind = OutputKind::kGroup;
  int index = 0;  // position in the group key, or index into aggs
  std::string name;
  std::string json_prefix;  // `"name":`, escaped, with a leading ',' unless first
};

struct PlanSpec {
  std::string name;
  std::string topic;
  std::string ts_column;
  DurationMs window_size = 0;
  std::vector<std::string> fields;  // referenced fields, dotted paths; [ts_field] is the ts
  int ts_field = 0;
  std::vector<int> group_fields;  // field indexes, in GROUP BY order (= key order)
  std::vector<AggSpec> aggs;      // distinct aggregates of SELECT and HAVING
  std::vector<FieldPredicate> where;
  std::vector<HavingPredicate> having;
  std::vector<OutputColumn> outputs;
  std::vector<std::string> output_names;
};

// Applies `op` to the result of a three-way comparison.
inline bool compare_holds(CompareOp op, int c) {
  switch (op) {
    case CompareOp::kEq:
      return c == 0;
    case CompareOp::kNe:
      return c != 0;
    case CompareOp::kLt:
      return c < 0;
    case CompareOp::kLe:
      return c <= 0;
    case CompareOp::kGt:
      return c > 0;
    case CompareOp::kGe:
      return c >= 0;
  }
  return false;
}

}  // namespace freshet::query
