#include "record_reader.h"

#include "aggregate.h"
#include "freshet/base/time.h"
#include "key_encoding.h"

namespace freshet::query {

bool event_time_of(const Value& v, TimestampMs& ts) {
  switch (v.type) {
    case ValueType::kDecimal:
      if (v.dec.scale != 0) return false;  // parse_json_number drops fraction zeros: 5.0 -> 5
      ts = v.dec.mantissa;
      return true;
    case ValueType::kDouble:
      // Only integers survive: 1.7e12 is fine, 1.5e0 is not.
      if (!(v.dbl >= -9.2e18 && v.dbl <= 9.2e18) ||
          v.dbl != static_cast<double>(static_cast<int64_t>(v.dbl)))
        return false;
      ts = static_cast<int64_t>(v.dbl);
      return true;
    case ValueType::kString: {
      auto t = parse_rfc3339(v.str);
      if (!t) return false;
      ts = *t;
      return true;
    }
    default:
      return false;
  }
}

Mismatch mismatch_of(ColumnType t, const Value& v) {
  switch (v.type) {
    case ValueType::kMissing:
    case ValueType::kNull:
      return Mismatch::kNone;
    case ValueType::kString:
      if (t == ColumnType::kString) return Mismatch::kNone;
      break;
    case ValueType::kDecimal:
    case ValueType::kDouble:
      if (t == ColumnType::kDouble) return Mismatch::kNone;
      break;
    case ValueType::kTrue:
    case ValueType::kFalse:
      return t == ColumnType::kBool ? Mismatch::kNone : Mismatch::kBool;
    default:
      return Mismatch::kCompound;
  }
  // A string or a number that only some types take.
  TimestampMs ignored;
  if (t == ColumnType::kTimestamp && event_time_of(v, ignored)) return Mismatch::kNone;
  // Whole numbers within 64 bits, as event_time_of takes them: 5, 5.0 and 1e3.
  if (t == ColumnType::kInt && v.is_number() && event_time_of(v, ignored)) return Mismatch::kNone;
  return v.type == ValueType::kString ? Mismatch::kString : Mismatch::kNumber;
}

namespace {

ExprOp mirrored(ExprOp op) {
  switch (op) {
    case ExprOp::kLt:
      return ExprOp::kGt;
    case ExprOp::kLe:
      return ExprOp::kGe;
    case ExprOp::kGt:
      return ExprOp::kLt;
    case ExprOp::kGe:
      return ExprOp::kLe;
    default:
      return op;  // = and <> are symmetric
  }
}

// String equality without a call to memcmp for the short literals of typical filters.
bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.size() > 16) return a == b;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

bool holds(const SimpleComparison& c, const Value& v) {
  // eval(): a comparison with NULL is NULL, and so is one of values that do not compare.
  if (v.is_null()) return false;
  int r;
  if (v.type == ValueType::kString && c.literal.type == ValueType::kString) {
    if (c.op == ExprOp::kEq || c.op == ExprOp::kNe)
      return same(v.str, c.literal.str) == (c.op == ExprOp::kEq);
  }
  return compare_values(v, c.literal, r) && cmp_holds(c.op, r);
}

}  // namespace

bool simple_comparisons(const ExprProgram& prog, int root, std::vector<SimpleComparison>& out) {
  const ExprNode& n = prog.nodes[static_cast<size_t>(root)];
  if (n.op == ExprOp::kAnd)
    return simple_comparisons(prog, n.args[0], out) && simple_comparisons(prog, n.args[1], out);
  switch (n.op) {
    case ExprOp::kEq:
    case ExprOp::kNe:
    case ExprOp::kLt:
    case ExprOp::kLe:
    case ExprOp::kGt:
    case ExprOp::kGe:
      break;
    default:
      return false;
  }
  const ExprNode& a = prog.nodes[static_cast<size_t>(n.args[0])];
  const ExprNode& b = prog.nodes[static_cast<size_t>(n.args[1])];
  if (a.op == ExprOp::kField && b.op == ExprOp::kLiteral && !b.literal.is_null()) {
    out.push_back({n.op, a.index, b.literal});
    return true;
  }
  if (a.op == ExprOp::kLiteral && b.op == ExprOp::kField && !a.literal.is_null()) {
    out.push_back({mirrored(n.op), b.index, a.literal});
    return true;
  }
  return false;
}

bool all_hold(const std::vector<SimpleComparison>& cs, const Value* fields) {
  for (const SimpleComparison& c : cs)
    if (!holds(c, fields[c.field])) return false;
  return true;
}

RecordReader::RecordReader(const PlanSpec& spec)
    : spec_(spec),
      extractor_(spec.fields),
      values_(spec.fields.size() + 1),
      arg_values_(spec.aggs.size()),
      args_(spec.aggs.size()) {
  ctx_.fields = values_.data();
  ctx_.arena = &arena_;
  if (spec.where >= 0 && !simple_comparisons(spec.prog, spec.where, simple_where_))
    simple_where_.clear();
  // COUNT(*) reads no argument; point it at a null.
  for (size_t a = 0; a < spec.aggs.size(); ++a) args_[a] = &arg_values_[a];
}

const char* RecordReader::check_types() const {
  for (const FieldCheck& c : spec_.field_checks) {
    Mismatch m = mismatch_of(c.type, values_[static_cast<size_t>(c.field)]);
    if (m != Mismatch::kNone) return c.reasons[static_cast<size_t>(m)].c_str();
  }
  return nullptr;
}

const char* RecordReader::build_key() {
  key_.clear();
  for (int root : spec_.group_exprs) {
    const ExprNode& n = spec_.prog.nodes[static_cast<size_t>(root)];
    Value v = n.op == ExprOp::kField ? values_[static_cast<size_t>(n.index)]
                                     : eval(spec_.prog, root, ctx_);
    if (v.type == ValueType::kOther) return "group column is an object or array";
    encode_key_value(key_, v);
  }
  return nullptr;
}

const char* RecordReader::eval_args() {
  for (size_t a = 0; a < spec_.aggs.size(); ++a) {
    const AggSpec& as = spec_.aggs[a];
    if (as.field >= 0) {
      args_[a] = &values_[static_cast<size_t>(as.field)];
    } else if (as.arg >= 0) {
      arg_values_[a] = eval(spec_.prog, as.arg, ctx_);
      args_[a] = &arg_values_[a];
    } else {
      continue;
    }
    if (!agg_accepts(as.kind, *args_[a])) return "aggregated field is not a number";
  }
  return nullptr;
}

}  // namespace freshet::query
