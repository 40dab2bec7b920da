// The binder: resolves a parsed SELECT against what this release executes and produces the
// PlanSpec the operators run. Every error is reported (not just the first) at the token it
// concerns.

#include <fmt/format.h>

#include <algorithm>

#include "diag.h"
#include "freshet/query/plan.h"
#include "parser.h"
#include "plan_spec.h"
#include "row_format.h"

namespace freshet::query {

namespace {

const std::vector<std::string_view> kAggregates = {"COUNT", "SUM", "MIN", "MAX", "AVG"};
// Functions users will try that a later release adds; reported as "not supported yet".
const std::vector<std::string_view> kKnownFunctions = {"ABS",
                                                       "ROUND",
                                                       "FLOOR",
                                                       "CEIL",
                                                       "UPPER",
                                                       "LOWER",
                                                       "LENGTH",
                                                       "COALESCE",
                                                       "CONCAT",
                                                       "SUBSTRING",
                                                       "TRIM",
                                                       "NULLIF",
                                                       "IF",
                                                       "CAST",
                                                       "APPROX_COUNT_DISTINCT",
                                                       "APPROX_PERCENTILE",
                                                       "PERCENTILE_CONT",
                                                       "STDDEV",
                                                       "VARIANCE",
                                                       "FIRST_VALUE",
                                                       "LAST_VALUE",
                                                       "NOW",
                                                       "CURRENT_TIMESTAMP",
                                                       "TO_TIMESTAMP",
                                                       "DATE_TRUNC"};

bool is_window_col(const Expr& e, std::string_view which) {
  if (e.kind != ExprKind::kColumn || e.name.size() != which.size()) return false;
  return to_upper(e.name) == to_upper(which);
}
bool is_window_col(const Expr& e) {
  return is_window_col(e, "window_start") || is_window_col(e, "window_end");
}

CompareOp compare_op(std::string_view s) {
  if (s == "=") return CompareOp::kEq;
  if (s == "!=") return CompareOp::kNe;
  if (s == "<") return CompareOp::kLt;
  if (s == "<=") return CompareOp::kLe;
  if (s == ">") return CompareOp::kGt;
  return CompareOp::kGe;
}
// a op b  <=>  b flip(op) a
CompareOp flip(CompareOp op) {
  switch (op) {
    case CompareOp::kLt:
      return CompareOp::kGt;
    case CompareOp::kLe:
      return CompareOp::kGe;
    case CompareOp::kGt:
      return CompareOp::kLt;
    case CompareOp::kGe:
      return CompareOp::kLe;
    default:
      return op;
  }
}

void flatten_and(const Expr* e, std::vector<const Expr*>& out) {
  if (e->kind == ExprKind::kAnd) {
    flatten_and(e->args[0].get(), out);
    flatten_and(e->args[1].get(), out);
  } else {
    out.push_back(e);
  }
}

// The first OR/NOT/arithmetic/... node that this release cannot evaluate, if any.
const Expr* find_kind(const Expr* e, ExprKind kind) {
  if (e->kind == kind) return e;
  for (const auto& a : e->args)
    if (const Expr* f = find_kind(a.get(), kind)) return f;
  return nullptr;
}

class Binder {
 public:
  Binder(const CompileInput& in, DiagSink& diags) : in_(in), diags_(diags) {}

  std::unique_ptr<PlanSpec> bind(const SelectStmt& s);

 private:
  int field_index(const std::string& path) {
    for (size_t i = 0; i < spec_->fields.size(); ++i)
      if (spec_->fields[i] == path) return static_cast<int>(i);
    spec_->fields.push_back(path);
    return static_cast<int>(spec_->fields.size() - 1);
  }
  void bind_from(const TableRef& from);
  void bind_group_by(const SelectStmt& s);
  void bind_select(const SelectStmt& s);
  int bind_aggregate(const Expr& call);  // index into aggs, or -1 after an error
  bool bind_literal(const Expr& e, Literal& out, const char* where);
  void bind_where(const Expr& where);
  void bind_having(const Expr& having, const SelectStmt& s);
  bool reject_unsupported(const Expr& e);

  const CompileInput& in_;
  DiagSink& diags_;
  std::unique_ptr<PlanSpec> spec_ = std::make_unique<PlanSpec>();
  std::vector<std::string> group_names_;  // GROUP BY column names (without window cols)
  bool has_window_start_ = false, has_window_end_ = false;
};

bool Binder::reject_unsupported(const Expr& e) {
  if (const Expr* f = find_kind(&e, ExprKind::kOr)) {
    diags_.error(kEUnsupported, f->token, "OR is not supported yet", "not supported yet",
                 "split the query, or use AND only");
    return true;
  }
  if (const Expr* f = find_kind(&e, ExprKind::kNot)) {
    diags_.error(kEUnsupported, f->token, "NOT is not supported yet", "not supported yet");
    return true;
  }
  if (const Expr* f = find_kind(&e, ExprKind::kArith)) {
    diags_.error(kEUnsupported, f->token, "arithmetic is not supported yet", "not supported yet");
    return true;
  }
  if (const Expr* f = find_kind(&e, ExprKind::kNegate)) {
    diags_.error(kEUnsupported, f->token, "arithmetic is not supported yet", "not supported yet");
    return true;
  }
  return false;
}

void Binder::bind_from(const TableRef& from) {
  const Token& t = from.name;
  std::string fn = to_upper(t.text);
  if (!from.is_call) {
    diags_.error(
        kEUnsupported, t, "queries without a window are not supported yet", "not supported yet",
        fmt::format("read it through a window: TUMBLE({}, ts, INTERVAL '1' MINUTE)", t.text));
    return;
  }
  if (fn == "HOP" || fn == "SESSION" || fn == "CUMULATE") {
    diags_.error(kEUnsupported, t, fmt::format("{} windows are not supported yet", fn),
                 "not supported yet", "use TUMBLE(topic, ts, INTERVAL 'n' UNIT)");
    return;
  }
  if (fn != "TUMBLE") {
    std::string_view m = keyword_typo(t.text, {"TUMBLE", "HOP", "SESSION", "CUMULATE"});
    diags_.error(kEFunction, t, fmt::format("unknown window function `{}`", t.text),
                 m.empty() ? "unknown window function" : fmt::format("did you mean `{}`?", m),
                 "the window functions are TUMBLE, HOP, SESSION and CUMULATE");
    return;
  }
  if (from.args.size() != 3) {
    diags_.error(kEFunction, t, fmt::format("TUMBLE takes 3 arguments, found {}", from.args.size()),
                 "expected TUMBLE(topic, ts_column, INTERVAL 'n' UNIT)");
    return;
  }
  const Expr& topic = *from.args[0];
  if (topic.kind != ExprKind::kColumn || topic.name.find('.') != std::string::npos) {
    diags_.error(kEFunction, topic.token, "the first argument of TUMBLE must be a topic name",
                 "expected a topic");
  } else {
    spec_->topic = topic.name;
    if (in_.known_topics != nullptr && std::find(in_.known_topics->begin(), in_.known_topics->end(),
                                                 topic.name) == in_.known_topics->end()) {
      std::vector<std::string_view> cands(in_.known_topics->begin(), in_.known_topics->end());
      std::string_view m = closest_match(topic.name, cands);
      std::string known;
      for (const auto& k : *in_.known_topics) known += (known.empty() ? "" : ", ") + k;
      diags_.error(
          kEUnknownTopic, topic.token, fmt::format("unknown topic `{}`", topic.name),
          m.empty() ? "not a topic of this pipeline" : fmt::format("did you mean `{}`?", m),
          known.empty() ? "no topics are defined" : fmt::format("topics: {}", known));
    }
  }
  const Expr& ts = *from.args[1];
  if (ts.kind != ExprKind::kColumn) {
    diags_.error(kEFunction, ts.token,
                 "the second argument of TUMBLE must be the event-time column",
                 "expected a column");
  } else {
    spec_->ts_column = ts.name;
    spec_->ts_field = field_index(ts.name);
  }
  const Expr& iv = *from.args[2];
  if (iv.kind != ExprKind::kInterval) {
    diags_.error(kEInterval, iv.token, "the third argument of TUMBLE must be an interval",
                 "expected INTERVAL 'n' UNIT");
    return;
  }
  static const std::vector<std::pair<std::string_view, int64_t>> kUnits = {
      {"MILLISECOND", 1}, {"MILLISECONDS", 1}, {"SECOND", 1000},  {"SECONDS", 1000},
      {"MINUTE", 60000},  {"MINUTES", 60000},  {"HOUR", 3600000}, {"HOURS", 3600000},
      {"DAY", 86400000},  {"DAYS", 86400000}};
  int64_t unit = 0;
  for (const auto& [name, ms] : kUnits)
    if (iv.name == name) unit = ms;
  if (unit == 0) {
    std::vector<std::string_view> names;
    for (const auto& u : kUnits) names.push_back(u.first);
    std::string_view m = keyword_typo(iv.name, names);
    diags_.error(kEInterval, iv.unit_token,
                 fmt::format("unknown interval unit `{}`", iv.unit_token.text),
                 m.empty() ? "unknown unit" : fmt::format("did you mean `{}`?", m),
                 "units: MILLISECOND, SECOND, MINUTE, HOUR, DAY (or plural)");
  }
  const Expr& q = *iv.args[0];
  int64_t n = 0;
  bool ok = !q.text.empty() && q.text.size() <= 12;
  for (char c : q.text) {
    if (c < '0' || c > '9')
      ok = false;
    else
      n = n * 10 + (c - '0');
  }
  if (!ok || n <= 0) {
    diags_.error(kEInterval, q.token, fmt::format("invalid interval quantity `{}`", q.text),
                 "expected a positive whole number such as '5'");
    return;
  }
  if (unit == 0) return;
  if (__builtin_mul_overflow(n, unit, &spec_->window_size) ||
      spec_->window_size > 100LL * 365 * 86400000) {
    spec_->window_size = 0;
    diags_.error(kEInterval, q.token, fmt::format("interval `{}` {} is too long", q.text, iv.name),
                 "at most 100 years");
  }
}

void Binder::bind_group_by(const SelectStmt& s) {
  for (const ExprPtr& g : s.group_by) {
    if (is_window_col(*g, "window_start")) {
      has_window_start_ = true;
    } else if (is_window_col(*g, "window_end")) {
      has_window_end_ = true;
    } else if (g->kind == ExprKind::kColumn) {
      if (std::find(group_names_.begin(), group_names_.end(), g->name) != group_names_.end())
        continue;
      group_names_.push_back(g->name);
      spec_->group_fields.push_back(field_index(g->name));
    } else if (g->kind == ExprKind::kCall &&
               std::find(kAggregates.begin(), kAggregates.end(), g->name) != kAggregates.end()) {
      diags_.error(kENotGrouped, g->token, "aggregates are not allowed in GROUP BY");
    } else {
      diags_.error(kEUnsupported, g->token, "grouping by an expression is not supported yet",
                   "not supported yet", "group by columns");
    }
  }
  if (!has_window_start_ || !has_window_end_) {
    const Token& at = s.group_token.kind == TokenKind::kEnd ? s.from.name : s.group_token;
    std::string missing = !has_window_start_ && !has_window_end_ ? "window_start and window_end"
                          : !has_window_start_                   ? "window_start"
                                                                 : "window_end";
    diags_.error(kEWindowGroup, at, fmt::format("GROUP BY must list {}", missing),
                 s.group_token.kind == TokenKind::kEnd ? "this windowed query has no GROUP BY" : "",
                 fmt::format("add `{}` to GROUP BY", missing));
  }
}

int Binder::bind_aggregate(const Expr& call) {
  const Token& t = call.token;
  if (std::find(kAggregates.begin(), kAggregates.end(), call.name) == kAggregates.end()) {
    if (std::find(kKnownFunctions.begin(), kKnownFunctions.end(), call.name) !=
        kKnownFunctions.end()) {
      diags_.error(kEUnsupported, t, fmt::format("function `{}` is not supported yet", call.name),
                   "not supported yet", "aggregates: COUNT(*), SUM, MIN, MAX, AVG");
    } else {
      std::string_view m = keyword_typo(call.name, kAggregates);
      diags_.error(kEFunction, t, fmt::format("unknown function `{}`", t.text),
                   m.empty() ? "unknown function" : fmt::format("did you mean `{}`?", m),
                   "aggregates: COUNT(*), SUM, MIN, MAX, AVG");
    }
    return -1;
  }
  if (call.distinct) {
    diags_.error(kEUnsupported, t, fmt::format("{}(DISTINCT ...) is not supported yet", call.name),
                 "not supported yet");
    return -1;
  }
  AggSpec a;
  a.kind = call.name == "COUNT" ? AggKind::kCount
           : call.name == "SUM" ? AggKind::kSum
           : call.name == "MIN" ? AggKind::kMin
           : call.name == "MAX" ? AggKind::kMax
                                : AggKind::kAvg;
  if (a.kind == AggKind::kCount) {
    if (call.args.size() != 1 || call.args[0]->kind != ExprKind::kStar) {
      diags_.error(kEUnsupported, t, "COUNT of a column is not supported yet", "not supported yet",
                   "use COUNT(*)");
      return -1;
    }
  } else {
    if (call.args.size() != 1) {
      diags_.error(
          kEFunction, t,
          fmt::format("{} takes one column, found {} arguments", call.name, call.args.size()));
      return -1;
    }
    const Expr& arg = *call.args[0];
    if (arg.kind == ExprKind::kStar) {
      diags_.error(kEFunction, arg.token, fmt::format("{}(*) is not valid", call.name),
                   "expected a column");
      return -1;
    }
    if (arg.kind == ExprKind::kCall) {
      diags_.error(kEUnsupported, arg.token, "nested function calls are not supported yet",
                   "not supported yet");
      return -1;
    }
    if (arg.kind != ExprKind::kColumn) {
      if (!reject_unsupported(arg))
        diags_.error(kEUnsupported, arg.token, "aggregating an expression is not supported yet",
                     "not supported yet", "aggregate a column");
      return -1;
    }
    if (is_window_col(arg)) {
      diags_.error(kEFunction, arg.token, fmt::format("cannot aggregate `{}`", arg.name));
      return -1;
    }
    a.field = field_index(arg.name);
  }
  a.canonical = to_sql(call);
  for (size_t i = 0; i < spec_->aggs.size(); ++i)
    if (spec_->aggs[i].canonical == a.canonical) return static_cast<int>(i);
  spec_->aggs.push_back(std::move(a));
  return static_cast<int>(spec_->aggs.size() - 1);
}

void Binder::bind_select(const SelectStmt& s) {
  std::vector<std::string_view> grouped;
  for (const auto& g : group_names_) grouped.push_back(g);
  grouped.push_back("window_start");
  grouped.push_back("window_end");
  for (const SelectItem& item : s.items) {
    const Expr& e = *item.expr;
    OutputColumn col;
    if (is_window_col(e, "window_start")) {
      col.kind = OutputKind::kWindowStart;
      col.name = "window_start";
    } else if (is_window_col(e, "window_end")) {
      col.kind = OutputKind::kWindowEnd;
      col.name = "window_end";
    } else if (e.kind == ExprKind::kColumn) {
      auto it = std::find(group_names_.begin(), group_names_.end(), e.name);
      if (it == group_names_.end()) {
        std::string_view m = closest_name(e.name, grouped);
        diags_.error(
            kENotGrouped, e.token,
            fmt::format("column `{}` must appear in GROUP BY or be used in an aggregate", e.name),
            m.empty() ? "not grouped" : fmt::format("did you mean `{}`?", m),
            fmt::format("add `{}` to GROUP BY, or aggregate it, e.g. MAX({})", e.name, e.name));
        continue;
      }
      col.kind = OutputKind::kGroup;
      col.index = static_cast<int>(it - group_names_.begin());
      col.name = e.name;
    } else if (e.kind == ExprKind::kCall) {
      int a = bind_aggregate(e);
      if (a < 0) continue;
      col.kind = OutputKind::kAggregate;
      col.index = a;
      col.name = to_sql(e);
    } else if (e.kind == ExprKind::kStar) {
      continue;  // reported by the parser
    } else {
      if (!reject_unsupported(e))
        diags_.error(kEUnsupported, e.token, "expressions in SELECT are not supported yet",
                     "not supported yet",
                     "select group columns, window_start, window_end and aggregates");
      continue;
    }
    if (!item.alias.empty()) col.name = item.alias;
    bool dup = std::any_of(spec_->outputs.begin(), spec_->outputs.end(),
                           [&](const OutputColumn& o) { return o.name == col.name; });
    if (dup) {
      diags_.error(kEDuplicateColumn, item.alias.empty() ? e.token : item.alias_token,
                   fmt::format("duplicate output column `{}`", col.name), "",
                   "give it another alias with AS");
      continue;
    }
    spec_->outputs.push_back(std::move(col));
  }
  for (size_t i = 0; i < spec_->outputs.size(); ++i) {
    OutputColumn& c = spec_->outputs[i];
    c.json_prefix = i == 0 ? "" : ",";
    append_json_string(c.json_prefix, c.name);
    c.json_prefix.push_back(':');
    spec_->output_names.push_back(c.name);
  }
}

bool Binder::bind_literal(const Expr& e, Literal& out, const char* where) {
  if (e.kind != ExprKind::kLiteral) {
    diags_.error(kECondition, e.token, fmt::format("expected a literal in {}", where),
                 "expected a number, 'string', TRUE or FALSE");
    return false;
  }
  out.type = e.literal_type;
  switch (e.literal_type) {
    case LiteralType::kNull:
      diags_.error(kECondition, e.token, "a comparison with NULL is never true",
                   "IS NULL is not supported yet");
      return false;
    case LiteralType::kBool:
      out.boolean = e.text == "TRUE";
      return true;
    case LiteralType::kString:
      out.str = e.text;
      return true;
    case LiteralType::kNumber: {
      // SQL allows ".5" and "5."; JSON does not.
      std::string text = e.text;
      bool neg = !text.empty() && text[0] == '-';
      if (text.size() > (neg ? 1u : 0u) && text[neg ? 1 : 0] == '.') text.insert(neg ? 1 : 0, "0");
      if (!text.empty() && text.back() == '.') text.push_back('0');
      switch (parse_json_number(text, out.dec, out.dbl)) {
        case NumberParse::kExact:
          out.exact = true;
          return true;
        case NumberParse::kInexact:
          out.exact = false;
          return true;
        case NumberParse::kInvalid:
          diags_.error(kECondition, e.token, fmt::format("invalid number `{}`", e.text));
          return false;
      }
    }
  }
  return false;
}

void Binder::bind_where(const Expr& where) {
  if (reject_unsupported(where)) return;
  std::vector<const Expr*> conj;
  flatten_and(&where, conj);
  for (const Expr* c : conj) {
    if (c->kind != ExprKind::kCompare) {
      diags_.error(kECondition, c->token, "a WHERE condition must be `column <op> literal`",
                   "expected a comparison");
      continue;
    }
    const Expr* col = c->args[0].get();
    const Expr* lit = c->args[1].get();
    CompareOp op = compare_op(c->name);
    if (col->kind == ExprKind::kLiteral && lit->kind != ExprKind::kLiteral) {
      std::swap(col, lit);
      op = flip(op);
    }
    if (col->kind == ExprKind::kCall) {
      bool agg = std::find(kAggregates.begin(), kAggregates.end(), col->name) != kAggregates.end();
      diags_.error(agg ? kECondition : kEUnsupported, col->token,
                   agg ? "aggregates are not allowed in WHERE"
                       : fmt::format("function `{}` is not supported yet", col->name),
                   agg ? "" : "not supported yet", agg ? "use HAVING to filter on aggregates" : "");
      continue;
    }
    if (col->kind != ExprKind::kColumn) {
      diags_.error(kECondition, col->token, "a WHERE condition must be `column <op> literal`",
                   "expected a column");
      continue;
    }
    if (is_window_col(*col)) {
      diags_.error(kEUnsupported, col->token,
                   fmt::format("filtering on `{}` is not supported yet", col->name),
                   "not supported yet", "filter on the event-time column instead");
      continue;
    }
    if (lit->kind == ExprKind::kColumn) {
      diags_.error(kEUnsupported, lit->token, "comparing two columns is not supported yet",
                   "not supported yet");
      continue;
    }
    FieldPredicate p;
    p.op = op;
    if (!bind_literal(*lit, p.literal, "WHERE")) continue;
    p.field = field_index(col->name);
    spec_->where.push_back(std::move(p));
  }
}

void Binder::bind_having(const Expr& having, const SelectStmt& s) {
  if (reject_unsupported(having)) return;
  std::vector<const Expr*> conj;
  flatten_and(&having, conj);
  std::vector<std::string_view> aliases;
  for (const SelectItem& it : s.items)
    if (!it.alias.empty() && it.expr->kind == ExprKind::kCall) aliases.push_back(it.alias);
  for (const Expr* c : conj) {
    if (c->kind != ExprKind::kCompare) {
      diags_.error(kECondition, c->token, "a HAVING condition must be `aggregate <op> literal`",
                   "expected a comparison");
      continue;
    }
    const Expr* agg = c->args[0].get();
    const Expr* lit = c->args[1].get();
    CompareOp op = compare_op(c->name);
    if (agg->kind == ExprKind::kLiteral && lit->kind != ExprKind::kLiteral) {
      std::swap(agg, lit);
      op = flip(op);
    }
    int index = -1;
    if (agg->kind == ExprKind::kCall) {
      index = bind_aggregate(*agg);
      if (index < 0) continue;
    } else if (agg->kind == ExprKind::kColumn) {
      const SelectItem* target = nullptr;
      for (const SelectItem& it : s.items)
        if (it.alias == agg->name) target = &it;
      if (target != nullptr && target->expr->kind == ExprKind::kCall) {
        index = bind_aggregate(*target->expr);
        if (index < 0) continue;  // already reported at the SELECT item
      } else if (std::find(group_names_.begin(), group_names_.end(), agg->name) !=
                     group_names_.end() ||
                 is_window_col(*agg)) {
        diags_.error(kEUnsupported, agg->token,
                     fmt::format("HAVING on the group column `{}` is not supported yet", agg->name),
                     "not supported yet", "filter rows with WHERE instead");
        continue;
      } else {
        std::string_view m = closest_name(agg->name, aliases);
        diags_.error(kECondition, agg->token,
                     fmt::format("`{}` is not an aggregate or the alias of one", agg->name),
                     m.empty() ? "unknown alias" : fmt::format("did you mean `{}`?", m));
        continue;
      }
    } else {
      diags_.error(kECondition, agg->token, "a HAVING condition must be `aggregate <op> literal`",
                   "expected an aggregate");
      continue;
    }
    HavingPredicate h;
    h.agg = index;
    h.op = op;
    if (!bind_literal(*lit, h.literal, "HAVING")) continue;
    spec_->having.push_back(std::move(h));
  }
}

std::unique_ptr<PlanSpec> Binder::bind(const SelectStmt& s) {
  spec_->name = std::string(in_.name);
  bind_from(s.from);
  bind_group_by(s);
  bind_select(s);
  if (s.where) bind_where(*s.where);
  if (s.having) bind_having(*s.having, s);
  return std::move(spec_);
}

}  // namespace

std::shared_ptr<const Plan> compile(const CompileInput& input, std::vector<Diagnostic>& diags) {
  DiagSink sink(input.sql_line_origins, diags);
  std::optional<SelectStmt> stmt = parse_select(input.sql, sink);
  if (!stmt) return nullptr;
  Binder binder(input, sink);
  std::unique_ptr<PlanSpec> spec = binder.bind(*stmt);
  if (sink.count() != 0) return nullptr;
  return std::make_shared<const Plan>(std::move(spec));
}

}  // namespace freshet::query
