// Checks against the input topic's schema: static types of bound expressions, the E0312
// errors that are certain at compile time, and the per-field checks the operators run on
// each record. Without a schema every check passes, so untyped queries compile as before.
//
// Only what is certain is reported: a string or boolean where arithmetic needs a number, a
// comparison whose sides can never be equal, a SUM or AVG that would reject every record.
// Timestamps are left alone, as their values stay in their JSON form (number or string).

#include <fmt/format.h>

#include "binder.h"

namespace freshet::query {

namespace {

std::string_view type_noun(Binder::SqlType t) {
  switch (t) {
    case Binder::SqlType::kString:
      return "a string";
    case Binder::SqlType::kNumber:
      return "a number";
    case Binder::SqlType::kBool:
      return "a boolean";
    case Binder::SqlType::kUnknown:
      break;
  }
  return "untyped";
}

std::string reason(std::string_view field, ColumnType t, Mismatch m) {
  std::string_view found;
  switch (m) {
    case Mismatch::kString:
      found = t == ColumnType::kTimestamp ? "a string that is not an RFC 3339 time" : "a string";
      break;
    case Mismatch::kNumber:
      found = t == ColumnType::kInt         ? "a number that is not a whole 64-bit integer"
              : t == ColumnType::kTimestamp ? "a number that is not whole epoch milliseconds"
                                            : "a number";
      break;
    case Mismatch::kBool:
      found = "a boolean";
      break;
    case Mismatch::kCompound:
      found = "an object or array";
      break;
    case Mismatch::kNone:
      return {};
  }
  return fmt::format("field `{}` must be {}, found {}", field, to_string(t), found);
}

}  // namespace

std::string_view to_string(ColumnType t) {
  switch (t) {
    case ColumnType::kString:
      return "string";
    case ColumnType::kInt:
      return "int";
    case ColumnType::kDouble:
      return "double";
    case ColumnType::kBool:
      return "bool";
    case ColumnType::kTimestamp:
      return "timestamp";
  }
  return "?";
}

Binder::SqlType Binder::type_of(int n) const {
  const ExprNode& node = spec_->prog.nodes[static_cast<size_t>(n)];
  auto arg = [&](size_t i) { return type_of(node.args[i]); };
  switch (node.op) {
    case ExprOp::kLiteral:
      return node.literal.type == ValueType::kString ? SqlType::kString
             : node.literal.is_number()              ? SqlType::kNumber
             : node.literal.is_bool()                ? SqlType::kBool
                                                     : SqlType::kUnknown;
    case ExprOp::kField: {
      const SchemaColumn* c = field_columns_[static_cast<size_t>(node.index)];
      if (c == nullptr) return SqlType::kUnknown;
      switch (c->type) {
        case ColumnType::kString:
          return SqlType::kString;
        case ColumnType::kInt:
        case ColumnType::kDouble:
          return SqlType::kNumber;
        case ColumnType::kBool:
          return SqlType::kBool;
        case ColumnType::kTimestamp:
          return SqlType::kUnknown;
      }
      return SqlType::kUnknown;
    }
    case ExprOp::kGroup:
      return type_of(spec_->group_exprs[static_cast<size_t>(node.index)]);
    case ExprOp::kAgg: {
      const AggSpec& a = spec_->aggs[static_cast<size_t>(node.index)];
      bool keeps_arg_type = a.kind == AggKind::kMin || a.kind == AggKind::kMax ||
                            a.kind == AggKind::kFirst || a.kind == AggKind::kLast;
      if (!keeps_arg_type) return SqlType::kNumber;
      return a.arg >= 0 ? type_of(a.arg) : SqlType::kUnknown;
    }
    case ExprOp::kAdd:
    case ExprOp::kSub:
    case ExprOp::kMul:
    case ExprOp::kDiv:
    case ExprOp::kMod:
      // Timestamp arithmetic yields timestamps: a number only from two numbers.
      return arg(0) == SqlType::kNumber && arg(1) == SqlType::kNumber ? SqlType::kNumber
                                                                      : SqlType::kUnknown;
    case ExprOp::kNeg:
      return arg(0) == SqlType::kNumber ? SqlType::kNumber : SqlType::kUnknown;
    case ExprOp::kAbs:
    case ExprOp::kRound:
    case ExprOp::kFloor:
    case ExprOp::kCeil:
    case ExprOp::kLength:
      return SqlType::kNumber;
    case ExprOp::kEq:
    case ExprOp::kNe:
    case ExprOp::kLt:
    case ExprOp::kLe:
    case ExprOp::kGt:
    case ExprOp::kGe:
    case ExprOp::kAnd:
    case ExprOp::kOr:
    case ExprOp::kNot:
    case ExprOp::kIsNull:
    case ExprOp::kIsNotNull:
    case ExprOp::kIn:
    case ExprOp::kNotIn:
      return SqlType::kBool;
    case ExprOp::kLower:
    case ExprOp::kUpper:
    case ExprOp::kConcat:
    case ExprOp::kConcatOp:
    case ExprOp::kSubstring:
      return SqlType::kString;
    case ExprOp::kCast:
      switch (node.cast) {
        case CastType::kBigint:
        case CastType::kDouble:
        case CastType::kDecimal:
          return SqlType::kNumber;
        case CastType::kVarchar:
          return SqlType::kString;
        case CastType::kBoolean:
          return SqlType::kBool;
        case CastType::kTimestamp:
          return SqlType::kUnknown;
      }
      return SqlType::kUnknown;
    default:  // window bounds, CASE, COALESCE
      return SqlType::kUnknown;
  }
}

bool Binder::check_event_time_column(const Expr& ts) {
  if (schema_ == nullptr) return true;
  if (bind_field(ts.name, ts.token) < 0) return false;
  const SchemaColumn* c = field_columns_[static_cast<size_t>(field_index(ts.name))];
  if (c->type == ColumnType::kTimestamp || c->type == ColumnType::kInt) return true;
  diags_.error(kEType, ts.token,
               fmt::format("event-time column `{}` is declared {} in topic `{}`", ts.name,
                           to_string(c->type), spec_->topic),
               "not a time",
               "event time is a timestamp (epoch milliseconds or RFC 3339) or an int "
               "(milliseconds); name such a column");
  return false;
}

// `=`, `<`, ..., BETWEEN and IN: every other argument is compared with the first.
bool Binder::check_compare(const Expr& e, const std::vector<int>& args) {
  if (schema_ == nullptr) return true;
  SqlType left = type_of(args[0]);
  if (left == SqlType::kUnknown) return true;
  for (size_t i = 1; i < args.size(); ++i) {
    SqlType right = type_of(args[i]);
    if (right == SqlType::kUnknown || right == left) continue;
    std::string l = to_sql(*e.args[0]), r = to_sql(*e.args[i]);
    diags_.error(kEType, e.token,
                 fmt::format("cannot compare `{}`, {}, with `{}`, {}", l, type_noun(left), r,
                             type_noun(right)),
                 "never true: the types differ",
                 left == SqlType::kString || right == SqlType::kString
                     ? "compare with a value of the column's type, e.g. quote it as a string "
                       "or CAST(x AS BIGINT) a string that holds a number"
                     : "compare with a value of the column's type, or CAST one side");
    return false;
  }
  return true;
}

bool Binder::check_arith(const Expr& e, const std::vector<int>& args) {
  if (schema_ == nullptr) return true;
  for (size_t i = 0; i < args.size(); ++i) {
    SqlType t = type_of(args[i]);
    if (t != SqlType::kString && t != SqlType::kBool) continue;
    std::string what = to_sql(*e.args[i]);
    std::string_view op = e.kind == ExprKind::kNegate ? "-" : std::string_view(e.name);
    diags_.error(kEType, e.token,
                 fmt::format("cannot apply `{}` to `{}`, {}", op, what, type_noun(t)),
                 "arithmetic needs numbers",
                 t == SqlType::kString
                     ? fmt::format("CAST({} AS DOUBLE) reads a number from the text; use || "
                                   "or CONCAT to join strings",
                                   what)
                     : fmt::format("use CASE WHEN {} THEN 1 ELSE 0 END for a number", what));
    return false;
  }
  return true;
}

// SUM, AVG and APPROX_PERCENTILE need numbers; MIN and MAX numbers or strings. Anything else
// would make every record with a value malformed.
bool Binder::check_agg_arg(const Expr& call, int arg) {
  if (schema_ == nullptr) return true;
  SqlType t = type_of(arg);
  bool numeric = call.name == "SUM" || call.name == "AVG" || call.name == "APPROX_PERCENTILE";
  bool ordered = call.name == "MIN" || call.name == "MAX";
  bool bad = (numeric && (t == SqlType::kString || t == SqlType::kBool)) ||
             (ordered && t == SqlType::kBool);
  if (!bad) return true;
  const Expr& a = *call.args[0];
  diags_.error(kEType, a.token,
               fmt::format("{} needs {}, but `{}` is {}", call.name,
                           numeric ? "numbers" : "numbers or strings", to_sql(a), type_noun(t)),
               std::string(type_noun(t)),
               numeric ? fmt::format("COUNT({}) or COUNT(DISTINCT {}) counts its values instead",
                                     to_sql(a), to_sql(a))
                       : "aggregate a number or a string");
  return false;
}

void Binder::build_field_checks() {
  if (schema_ == nullptr) return;
  for (size_t f = 0; f < spec_->fields.size(); ++f) {
    const SchemaColumn* c = field_columns_[f];
    if (c == nullptr) continue;  // the event-time field of an unchecked stateless input
    FieldCheck check;
    check.field = static_cast<int>(f);
    check.type = c->type;
    for (size_t m = 1; m < kMismatchKinds; ++m)
      check.reasons[m] = reason(c->name, c->type, static_cast<Mismatch>(m));
    spec_->field_checks.push_back(std::move(check));
  }
}

}  // namespace freshet::query
