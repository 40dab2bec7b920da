#pragma once
// Bound expressions: the SQL expressions of a plan after name resolution, as a flat array of
// nodes that refer to their arguments by index, and the evaluator that computes them over a
// compact Value. Evaluation allocates nothing: strings a function makes go to a StringArena
// the caller resets per record (or per output row).
//
// Typing is dynamic, because JSON fields have no declared type: an operator applied to values
// of the wrong type yields NULL (like TRY_CAST), so one odd record cannot stop a query.
// Numbers stay exact decimals through + - * % ROUND FLOOR CEIL ABS and comparisons while they
// fit (int64 mantissa, scale <= 18); `/` and anything involving a double give a double.
// Three-valued logic for AND/OR/NOT/IN/comparisons.

#include <memory>
#include <string>
#include <vector>

#include "arena.h"
#include "freshet/base/ids.h"
#include "value.h"

namespace freshet::query {

enum class ExprOp : uint8_t {
  kLiteral,
  kField,        // index into the record's extracted fields
  kGroup,        // index into the group values (post-aggregation)
  kAgg,          // index into the aggregate results (post-aggregation)
  kWindowStart,  // post-aggregation window bounds, as timestamps
  kWindowEnd,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kNeg,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kNot,
  kIsNull,
  kIsNotNull,
  kIn,  // args[0] IN args[1..]
  kNotIn,
  kCase,        // args: when, then, when, then, ..., [else] (flag = has else)
  kCaseSimple,  // args: operand, when, then, ..., [else]
  kCast,
  kLower,
  kUpper,
  kConcat,    // CONCAT(a, b, ...): NULLs count as ''
  kConcatOp,  // a || b: NULL if either is
  kSubstring,
  kCoalesce,
  kAbs,
  kRound,
  kFloor,
  kCeil,
  kLength,
};

enum class CastType : uint8_t { kBigint, kDouble, kDecimal, kVarchar, kBoolean, kTimestamp };

struct ExprNode {
  ExprOp op = ExprOp::kLiteral;
  CastType cast = CastType::kBigint;
  bool flag = false;  // kCase*: has ELSE; kCast DECIMAL: has a scale
  int index = 0;      // kField/kGroup/kAgg index; kCast DECIMAL scale
  std::vector<int> args;
  Value literal;
};

// All the expressions of one plan. Literal strings are owned here (heap strings, so the
// views in `literal` survive moving the program).
struct ExprProgram {
  std::vector<ExprNode> nodes;
  std::vector<std::unique_ptr<std::string>> strings;

  int add(ExprNode n) {
    nodes.push_back(std::move(n));
    return static_cast<int>(nodes.size() - 1);
  }
  std::string_view own(std::string s) {
    strings.push_back(std::make_unique<std::string>(std::move(s)));
    return *strings.back();
  }
  // Whether node `n` (and its arguments) reads the record's fields only: no group/agg/window
  // references.
  bool is_field(int n) const { return nodes[static_cast<size_t>(n)].op == ExprOp::kField; }
};

// What the leaves of an expression read. Unused members may stay null.
struct EvalContext {
  const Value* fields = nullptr;
  const Value* groups = nullptr;
  const Value* aggs = nullptr;
  TimestampMs window_start = 0;
  TimestampMs window_end = 0;
  StringArena* arena = nullptr;
};

Value eval(const ExprProgram& p, int node, const EvalContext& c);

// SQL truth of a predicate result: only TRUE passes (NULL and FALSE do not).
inline bool is_true(const Value& v) { return v.type == ValueType::kTrue; }

// Three-way comparison of two non-null values; false if they are not comparable (different
// types, NaN). Numbers compare exactly when both are decimals.
bool compare_values(const Value& a, const Value& b, int& result);
// Whether comparison `op` (=, <>, <, <=, >, >=) holds for a compare_values result.
bool cmp_holds(ExprOp op, int c);

// Appends a value as JSON: numbers as numbers, timestamps as RFC 3339 strings, kOther as null.
void append_value_json(std::string& out, const Value& v);

}  // namespace freshet::query
