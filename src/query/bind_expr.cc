// Binding expressions and aggregates: names become field, group and aggregate references in
// the plan's ExprProgram; literals become Values; each error points at its token.

#include <fmt/format.h>

#include <algorithm>

#include "binder.h"

namespace freshet::query {

namespace {

const std::vector<std::string_view> kAggregates = {
    "COUNT",       "SUM",       "MIN", "MAX", "AVG", "APPROX_COUNT_DISTINCT", "APPROX_PERCENTILE",
    "FIRST_VALUE", "LAST_VALUE"};

struct ScalarFn {
  std::string_view name;
  ExprOp op;
  size_t min_args, max_args;
};
const ScalarFn kScalars[] = {
    {"LOWER", ExprOp::kLower, 1, 1},       {"UPPER", ExprOp::kUpper, 1, 1},
    {"CONCAT", ExprOp::kConcat, 1, 16},    {"SUBSTRING", ExprOp::kSubstring, 2, 3},
    {"SUBSTR", ExprOp::kSubstring, 2, 3},  {"COALESCE", ExprOp::kCoalesce, 1, 64},
    {"ABS", ExprOp::kAbs, 1, 1},           {"ROUND", ExprOp::kRound, 1, 2},
    {"FLOOR", ExprOp::kFloor, 1, 1},       {"CEIL", ExprOp::kCeil, 1, 1},
    {"CEILING", ExprOp::kCeil, 1, 1},      {"LENGTH", ExprOp::kLength, 1, 1},
    {"CHAR_LENGTH", ExprOp::kLength, 1, 1}};

// Functions users will try that a later release adds; reported as "not supported yet".
const std::vector<std::string_view> kLaterFunctions = {
    "TRIM",         "NULLIF",     "IF",      "PERCENTILE_CONT",
    "STDDEV",       "VARIANCE",   "NOW",     "CURRENT_TIMESTAMP",
    "TO_TIMESTAMP", "DATE_TRUNC", "REPLACE", "SPLIT_PART"};

}  // namespace

bool Binder::is_aggregate(std::string_view upper_name) {
  return std::find(kAggregates.begin(), kAggregates.end(), upper_name) != kAggregates.end();
}

int Binder::node(ExprOp op, std::vector<int> args, int index) {
  ExprNode n;
  n.op = op;
  n.args = std::move(args);
  n.index = index;
  return spec_->prog.add(std::move(n));
}

int Binder::bind_literal(const Expr& e) {
  ExprNode n;
  n.op = ExprOp::kLiteral;
  switch (e.literal_type) {
    case LiteralType::kNull:
      n.literal = Value::null();
      break;
    case LiteralType::kBool:
      n.literal = Value::boolean(e.text == "TRUE");
      break;
    case LiteralType::kString:
      n.literal = Value::string(spec_->prog.own(e.text));
      break;
    case LiteralType::kNumber: {
      // SQL allows ".5" and "5."; JSON does not.
      std::string text = e.text;
      bool neg = !text.empty() && text[0] == '-';
      if (text.size() > (neg ? 1u : 0u) && text[neg ? 1 : 0] == '.') text.insert(neg ? 1 : 0, "0");
      if (!text.empty() && text.back() == '.') text.push_back('0');
      Value v;
      switch (parse_json_number(text, v.dec, v.dbl)) {
        case NumberParse::kExact:
          v.type = ValueType::kDecimal;
          break;
        case NumberParse::kInexact:
          v.type = ValueType::kDouble;
          break;
        case NumberParse::kInvalid:
          diags_.error(kECondition, e.token, fmt::format("invalid number `{}`", e.text));
          return -1;
      }
      n.literal = v;
      break;
    }
  }
  return spec_->prog.add(std::move(n));
}

int Binder::bind_aggregate(const Expr& call) {
  const Token& t = call.token;
  AggSpec a;
  if (call.distinct && call.name != "COUNT") {
    diags_.error(kEUnsupported, t, fmt::format("{}(DISTINCT ...) is not supported yet", call.name),
                 "not supported yet", "COUNT(DISTINCT x) is; for the others, aggregate x");
    return -1;
  }
  size_t want = call.name == "APPROX_PERCENTILE" ? 2 : 1;
  if (call.args.size() != want) {
    diags_.error(
        kEFunction, t,
        fmt::format("{} takes {}, found {} arguments", call.name,
                    want == 2 ? "a column and a fraction" : "one argument", call.args.size()));
    return -1;
  }
  const Expr& arg = *call.args[0];
  if (call.name == "COUNT") {
    if (arg.kind == ExprKind::kStar) {
      if (call.distinct) {
        diags_.error(kEFunction, arg.token, "COUNT(DISTINCT *) is not valid", "expected a column");
        return -1;
      }
      a.kind = AggKind::kCount;
    } else {
      a.kind = call.distinct ? AggKind::kCountDistinct : AggKind::kCountValue;
    }
  } else {
    a.kind = call.name == "SUM"                     ? AggKind::kSum
             : call.name == "MIN"                   ? AggKind::kMin
             : call.name == "MAX"                   ? AggKind::kMax
             : call.name == "AVG"                   ? AggKind::kAvg
             : call.name == "APPROX_COUNT_DISTINCT" ? AggKind::kApproxDistinct
             : call.name == "APPROX_PERCENTILE"     ? AggKind::kPercentile
             : call.name == "FIRST_VALUE"           ? AggKind::kFirst
                                                    : AggKind::kLast;
    if (arg.kind == ExprKind::kStar) {
      diags_.error(kEFunction, arg.token, fmt::format("{}(*) is not valid", call.name),
                   "expected a column");
      return -1;
    }
  }
  if (a.kind == AggKind::kPercentile) {
    const Expr& p = *call.args[1];
    Value v;
    double dummy;
    bool ok = p.kind == ExprKind::kLiteral && p.literal_type == LiteralType::kNumber &&
              parse_json_number(p.text[0] == '.' ? "0" + p.text : p.text, v.dec, dummy) ==
                  NumberParse::kExact;
    double frac = ok ? decimal_to_double(v.dec.mantissa, v.dec.scale) : -1;
    if (!ok || frac < 0 || frac > 1) {
      diags_.error(kEFunction, p.token,
                   "the fraction of APPROX_PERCENTILE must be a number literal "
                   "from 0 to 1",
                   "expected e.g. 0.95");
      return -1;
    }
    a.percentile = frac;
  }
  if (a.kind != AggKind::kCount) {
    if (is_window_column(arg)) {
      diags_.error(kEFunction, arg.token, fmt::format("cannot aggregate `{}`", arg.name));
      return -1;
    }
    a.arg = bind_expr(arg, Scope::kAggArg);
    if (a.arg < 0 || !check_agg_arg(call, a.arg)) return -1;
    const ExprNode& n = spec_->prog.nodes[static_cast<size_t>(a.arg)];
    if (n.op == ExprOp::kField) a.field = n.index;
  }
  a.canonical = to_sql(call);
  for (size_t i = 0; i < spec_->aggs.size(); ++i)
    if (spec_->aggs[i].canonical == a.canonical) return static_cast<int>(i);
  spec_->aggs.push_back(std::move(a));
  return static_cast<int>(spec_->aggs.size() - 1);
}

int Binder::bind_call(const Expr& e, Scope scope) {
  const Token& t = e.token;
  if (is_aggregate(e.name)) {
    if (scope == Scope::kGroupRow || scope == Scope::kHaving) {
      int a = bind_aggregate(e);
      return a < 0 ? -1 : node(ExprOp::kAgg, {}, a);
    }
    if (scope == Scope::kWhere) {
      diags_.error(kECondition, t, "aggregates are not allowed in WHERE", "",
                   "use HAVING to filter on aggregates");
    } else if (scope == Scope::kGroupBy) {
      diags_.error(kENotGrouped, t, "aggregates are not allowed in GROUP BY");
    } else if (scope == Scope::kAggArg) {
      diags_.error(kEFunction, t, "aggregates cannot be nested");
    } else {
      diags_.error(kEUnsupported, t, "aggregation without a window is not supported yet",
                   "not supported yet");
    }
    return -1;
  }
  const ScalarFn* f = nullptr;
  for (const ScalarFn& c : kScalars)
    if (e.name == c.name) f = &c;
  if (f == nullptr) {
    if (std::find(kLaterFunctions.begin(), kLaterFunctions.end(), e.name) !=
        kLaterFunctions.end()) {
      diags_.error(kEUnsupported, t, fmt::format("function `{}` is not supported yet", e.name),
                   "not supported yet");
      return -1;
    }
    std::vector<std::string_view> names(kAggregates.begin(), kAggregates.end());
    for (const ScalarFn& c : kScalars) names.push_back(c.name);
    std::string_view m = keyword_typo(e.name, names);
    diags_.error(kEFunction, t, fmt::format("unknown function `{}`", t.text),
                 m.empty() ? "unknown function" : fmt::format("did you mean `{}`?", m),
                 "aggregates: COUNT, SUM, MIN, MAX, AVG, APPROX_COUNT_DISTINCT, "
                 "APPROX_PERCENTILE, FIRST_VALUE, LAST_VALUE");
    return -1;
  }
  if (e.distinct) {
    diags_.error(kEFunction, t,
                 fmt::format("DISTINCT is only valid in aggregates, not {}", e.name));
    return -1;
  }
  if (e.args.size() < f->min_args || e.args.size() > f->max_args) {
    std::string want = f->min_args == f->max_args
                           ? std::to_string(f->min_args)
                           : fmt::format("{} to {}", f->min_args, f->max_args);
    diags_.error(kEFunction, t,
                 fmt::format("{} takes {} arguments, found {}", e.name, want, e.args.size()));
    return -1;
  }
  std::vector<int> args;
  bool ok = true;
  for (const auto& a : e.args) {
    int r = bind_expr(*a, scope);
    ok = ok && r >= 0;
    args.push_back(r);
  }
  if (!ok) return -1;
  return node(f->op, std::move(args));
}

int Binder::bind_expr(const Expr& e, Scope scope) {
  const bool grouped = scope == Scope::kGroupRow || scope == Scope::kHaving;
  if (grouped) {
    auto g = std::find(group_canon_.begin(), group_canon_.end(), to_sql(e));
    if (g != group_canon_.end())
      return node(ExprOp::kGroup, {}, static_cast<int>(g - group_canon_.begin()));
  }
  auto bind_args = [&](std::vector<int>& out) {
    bool ok = true;
    for (const auto& a : e.args) {
      int r = bind_expr(*a, scope);
      ok = ok && r >= 0;
      out.push_back(r);
    }
    return ok;
  };
  switch (e.kind) {
    case ExprKind::kLiteral:
      return bind_literal(e);
    case ExprKind::kInterval: {
      DurationMs ms;
      if (!bind_interval(e, "interval", ms)) return -1;
      ExprNode n;
      n.literal = Value::decimal(ms);
      return spec_->prog.add(std::move(n));
    }
    case ExprKind::kStar:
      diags_.error(kEFunction, e.token, "`*` is only valid in COUNT(*)");
      return -1;
    case ExprKind::kColumn: {
      if (is_window_column(e)) {
        if (grouped) {
          return node(
              to_upper(e.name) == "WINDOW_START" ? ExprOp::kWindowStart : ExprOp::kWindowEnd, {});
        }
        diags_.error(kEUnsupported, e.token,
                     fmt::format("filtering on `{}` is not supported yet", e.name),
                     "not supported yet", "filter on the event-time column instead");
        return -1;
      }
      if (!grouped) {
        int f = bind_field(e.name, e.token);
        return f < 0 ? -1 : node(ExprOp::kField, {}, f);
      }
      // HAVING may name a SELECT alias.
      if (scope == Scope::kHaving && select_ != nullptr && alias_depth_ < 4) {
        for (const SelectItem& it : select_->items) {
          if (it.alias != e.name || it.expr->kind == ExprKind::kStar) continue;
          ++alias_depth_;
          int r = bind_expr(*it.expr, Scope::kGroupRow);
          --alias_depth_;
          return r;
        }
      }
      std::vector<std::string_view> cands;
      for (const auto& g : group_canon_) cands.push_back(g);
      if (scope == Scope::kHaving && select_ != nullptr)
        for (const SelectItem& it : select_->items)
          if (!it.alias.empty()) cands.push_back(it.alias);
      cands.push_back("window_start");
      cands.push_back("window_end");
      std::string_view m = closest_name(e.name, cands);
      diags_.error(
          kENotGrouped, e.token,
          fmt::format("column `{}` must appear in GROUP BY or be used in an aggregate", e.name),
          m.empty() ? "not grouped" : fmt::format("did you mean `{}`?", m),
          fmt::format("add `{}` to GROUP BY, or aggregate it, e.g. MAX({})", e.name, e.name));
      return -1;
    }
    case ExprKind::kCall:
      return bind_call(e, scope);
    case ExprKind::kCompare: {
      std::vector<int> args;
      if (!bind_args(args) || !check_compare(e, args)) return -1;
      ExprOp op = e.name == "="    ? ExprOp::kEq
                  : e.name == "!=" ? ExprOp::kNe
                  : e.name == "<"  ? ExprOp::kLt
                  : e.name == "<=" ? ExprOp::kLe
                  : e.name == ">"  ? ExprOp::kGt
                                   : ExprOp::kGe;
      return node(op, std::move(args));
    }
    case ExprKind::kAnd:
    case ExprKind::kOr:
    case ExprKind::kNot:
    case ExprKind::kNegate:
    case ExprKind::kConcatOp:
    case ExprKind::kIsNull:
    case ExprKind::kIn: {
      std::vector<int> args;
      if (!bind_args(args)) return -1;
      if (e.kind == ExprKind::kIn && !check_compare(e, args)) return -1;
      if (e.kind == ExprKind::kNegate && !check_arith(e, args)) return -1;
      ExprOp op = e.kind == ExprKind::kAnd        ? ExprOp::kAnd
                  : e.kind == ExprKind::kOr       ? ExprOp::kOr
                  : e.kind == ExprKind::kNot      ? ExprOp::kNot
                  : e.kind == ExprKind::kNegate   ? ExprOp::kNeg
                  : e.kind == ExprKind::kConcatOp ? ExprOp::kConcatOp
                  : e.kind == ExprKind::kIsNull ? (e.negated ? ExprOp::kIsNotNull : ExprOp::kIsNull)
                                                : (e.negated ? ExprOp::kNotIn : ExprOp::kIn);
      return node(op, std::move(args));
    }
    case ExprKind::kArith: {
      std::vector<int> args;
      if (!bind_args(args) || !check_arith(e, args)) return -1;
      ExprOp op = e.name == "+"   ? ExprOp::kAdd
                  : e.name == "-" ? ExprOp::kSub
                  : e.name == "*" ? ExprOp::kMul
                  : e.name == "/" ? ExprOp::kDiv
                                  : ExprOp::kMod;
      return node(op, std::move(args));
    }
    case ExprKind::kBetween: {
      std::vector<int> a;
      if (!bind_args(a) || !check_compare(e, a)) return -1;
      int r =
          node(ExprOp::kAnd, {node(ExprOp::kGe, {a[0], a[1]}), node(ExprOp::kLe, {a[0], a[2]})});
      return e.negated ? node(ExprOp::kNot, {r}) : r;
    }
    case ExprKind::kCase: {
      std::vector<int> args;
      if (!bind_args(args)) return -1;
      int r = node(e.has_operand ? ExprOp::kCaseSimple : ExprOp::kCase, std::move(args));
      spec_->prog.nodes[static_cast<size_t>(r)].flag = e.has_else;
      return r;
    }
    case ExprKind::kCast: {
      std::vector<int> args;
      if (!bind_args(args)) return -1;
      static const std::vector<std::pair<std::string_view, CastType>> kTypes = {
          {"BIGINT", CastType::kBigint},      {"INT", CastType::kBigint},
          {"INTEGER", CastType::kBigint},     {"SMALLINT", CastType::kBigint},
          {"TINYINT", CastType::kBigint},     {"DOUBLE", CastType::kDouble},
          {"FLOAT", CastType::kDouble},       {"REAL", CastType::kDouble},
          {"DECIMAL", CastType::kDecimal},    {"NUMERIC", CastType::kDecimal},
          {"VARCHAR", CastType::kVarchar},    {"STRING", CastType::kVarchar},
          {"TEXT", CastType::kVarchar},       {"CHAR", CastType::kVarchar},
          {"BOOLEAN", CastType::kBoolean},    {"BOOL", CastType::kBoolean},
          {"TIMESTAMP", CastType::kTimestamp}};
      const CastType* type = nullptr;
      for (const auto& [name, ct] : kTypes)
        if (e.name == name) type = &ct;
      if (type == nullptr) {
        std::vector<std::string_view> names;
        for (const auto& kt : kTypes) names.push_back(kt.first);
        std::string_view m = keyword_typo(e.name, names);
        diags_.error(kEFunction, e.unit_token, fmt::format("unknown type `{}`", e.unit_token.text),
                     m.empty() ? "unknown type" : fmt::format("did you mean `{}`?", m),
                     "types: BIGINT, DOUBLE, DECIMAL, VARCHAR, BOOLEAN, TIMESTAMP");
        return -1;
      }
      int r = node(ExprOp::kCast, std::move(args));
      ExprNode& n = spec_->prog.nodes[static_cast<size_t>(r)];
      n.cast = *type;
      if (*type == CastType::kDecimal && !e.text.empty()) {
        n.flag = true;
        n.index = std::min(std::atoi(e.text.c_str()), kMaxScale);
      }
      return r;
    }
  }
  return -1;
}

}  // namespace freshet::query
