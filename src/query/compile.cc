// The binder: resolves a parsed SELECT against what the engine executes and produces the
// PlanSpec the operators run. Every error is reported (not just the first) at the token it
// concerns. Expression binding lives in bind_expr.cc; this file handles the query's shape:
// FROM (window functions, inputs), GROUP BY, SELECT, HAVING.

#include <fmt/format.h>

#include <algorithm>

#include "binder.h"
#include "freshet/query/plan.h"
#include "parser.h"
#include "row_format.h"

namespace freshet::query {

namespace {

bool is_window_col(const Expr& e, std::string_view which) {
  if (e.kind != ExprKind::kColumn || e.name.size() != which.size()) return false;
  return to_upper(e.name) == to_upper(which);
}

const std::vector<std::pair<std::string_view, int64_t>> kUnits = {
    {"MILLISECOND", 1}, {"MILLISECONDS", 1}, {"SECOND", 1000},  {"SECONDS", 1000},
    {"MINUTE", 60000},  {"MINUTES", 60000},  {"HOUR", 3600000}, {"HOURS", 3600000},
    {"DAY", 86400000},  {"DAYS", 86400000}};

}  // namespace

bool Binder::is_window_column(const Expr& e) {
  return is_window_col(e, "window_start") || is_window_col(e, "window_end");
}

int Binder::field_index(const std::string& path) {
  for (size_t i = 0; i < spec_->fields.size(); ++i)
    if (spec_->fields[i] == path) return static_cast<int>(i);
  const SchemaColumn* col = nullptr;
  if (schema_ != nullptr)
    for (const SchemaColumn& c : schema_->columns)
      if (c.name == path) col = &c;
  spec_->fields.push_back(path);
  field_columns_.push_back(col);
  return static_cast<int>(spec_->fields.size() - 1);
}

int Binder::bind_field(const std::string& path, const Token& at) {
  if (schema_ == nullptr) return field_index(path);
  std::vector<std::string_view> names;
  for (const SchemaColumn& c : schema_->columns) {
    if (c.name == path) return field_index(path);
    names.push_back(c.name);
  }
  std::string_view m = closest_name(path, names);
  std::string list;
  for (std::string_view n : names) list += fmt::format("{}{}", list.empty() ? "" : ", ", n);
  diags_.error(kEUnknownColumn, at,
               fmt::format("unknown column `{}` in topic `{}`", path, spec_->topic),
               m.empty() ? "not in the topic's schema" : fmt::format("did you mean `{}`?", m),
               fmt::format("columns of `{}`: {}", spec_->topic, list));
  return -1;
}

bool Binder::bind_interval(const Expr& iv, const char* what, DurationMs& out) {
  out = 0;
  if (iv.kind != ExprKind::kInterval) {
    diags_.error(kEInterval, iv.token, fmt::format("the {} must be an interval", what),
                 "expected INTERVAL 'n' UNIT");
    return false;
  }
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
    return false;
  }
  if (unit == 0) return false;
  if (__builtin_mul_overflow(n, unit, &out) || out > 100LL * 365 * 86400000) {
    out = 0;
    diags_.error(kEInterval, q.token, fmt::format("interval `{}` {} is too long", q.text, iv.name),
                 "at most 100 years");
    return false;
  }
  return true;
}

void Binder::bind_input(const Expr& e, std::string_view fn) {
  if (e.kind != ExprKind::kColumn || e.name.find('.') != std::string::npos) {
    diags_.error(kEFunction, e.token,
                 fmt::format("the first argument of {} must be a topic or query name", fn),
                 "expected a topic");
    return;
  }
  bind_input_name(e.name, e.token);
}

void Binder::bind_input_name(const std::string& name, const Token& at) {
  spec_->topic = name;
  auto has = [&](const std::vector<std::string>* v) {
    return v != nullptr && std::find(v->begin(), v->end(), name) != v->end();
  };
  if (has(in_.known_topics) || in_.known_topics == nullptr) {
    if (in_.schemas != nullptr) {
      auto it = in_.schemas->find(name);
      if (it != in_.schemas->end()) schema_ = &it->second;
    }
  }
  if (has(in_.known_topics)) return;
  if (has(in_.known_queries)) {
    spec_->input_is_query = true;
    if (name == in_.name)
      diags_.error(kEUnknownTopic, at, fmt::format("query `{}` cannot read itself", name));
    return;
  }
  if (in_.known_topics == nullptr) return;
  std::vector<std::string_view> cands(in_.known_topics->begin(), in_.known_topics->end());
  if (in_.known_queries != nullptr)
    for (const auto& q : *in_.known_queries)
      if (q != in_.name) cands.push_back(q);
  std::string_view m = closest_match(name, cands);
  std::string known;
  for (const auto& k : *in_.known_topics) known += (known.empty() ? "" : ", ") + k;
  diags_.error(kEUnknownTopic, at, fmt::format("unknown topic `{}`", name),
               m.empty() ? "not a topic of this pipeline" : fmt::format("did you mean `{}`?", m),
               known.empty() ? "no topics are defined" : fmt::format("topics: {}", known));
}

void Binder::bind_from(const TableRef& from) {
  const Token& t = from.name;
  std::string fn = to_upper(t.text);
  if (!from.is_call) {
    bind_input_name(t.text, t);
    if (in_.event_time_fields != nullptr) {
      auto it = in_.event_time_fields->find(t.text);
      if (it != in_.event_time_fields->end() && !it->second.empty()) {
        spec_->ts_column = it->second;
        spec_->ts_field = field_index(it->second);
      }
    }
    return;
  }
  struct Fn {
    std::string_view name;
    WindowKind kind;
    size_t args;
    const char* shape;
  };
  static const Fn kFns[] = {
      {"TUMBLE", WindowKind::kTumble, 3, "TUMBLE(topic, ts_column, INTERVAL 'n' UNIT)"},
      {"HOP", WindowKind::kHop, 4, "HOP(topic, ts_column, slide, size)"},
      {"CUMULATE", WindowKind::kCumulate, 4, "CUMULATE(topic, ts_column, step, max)"},
      {"SESSION", WindowKind::kSession, 3, "SESSION(topic, ts_column, gap)"}};
  const Fn* f = nullptr;
  for (const Fn& c : kFns)
    if (fn == c.name) f = &c;
  if (f == nullptr) {
    std::string_view m = keyword_typo(t.text, {"TUMBLE", "HOP", "SESSION", "CUMULATE"});
    diags_.error(kEFunction, t, fmt::format("unknown window function `{}`", t.text),
                 m.empty() ? "unknown window function" : fmt::format("did you mean `{}`?", m),
                 "the window functions are TUMBLE, HOP, SESSION and CUMULATE");
    return;
  }
  spec_->window = f->kind;
  if (from.args.size() != f->args) {
    diags_.error(kEFunction, t,
                 fmt::format("{} takes {} arguments, found {}", fn, f->args, from.args.size()),
                 fmt::format("expected {}", f->shape));
    return;
  }
  bind_input(*from.args[0], fn);
  const Expr& ts = *from.args[1];
  if (ts.kind != ExprKind::kColumn) {
    diags_.error(kEFunction, ts.token,
                 fmt::format("the second argument of {} must be the event-time column", fn),
                 "expected a column");
  } else if (check_event_time_column(ts)) {
    spec_->ts_column = ts.name;
    spec_->ts_field = field_index(ts.name);
  }
  switch (f->kind) {
    case WindowKind::kTumble:
      if (bind_interval(*from.args[2], "third argument of TUMBLE", spec_->window_size))
        spec_->slide = spec_->pane = spec_->window_size;
      return;
    case WindowKind::kSession:
      bind_interval(*from.args[2], "gap of SESSION", spec_->gap);
      return;
    default:
      break;
  }
  // HOP(slide, size) and CUMULATE(step, max): windows are unions of panes of `slide` ms.
  bool hop = f->kind == WindowKind::kHop;
  DurationMs slide = 0, size = 0;
  bool ok = bind_interval(*from.args[2], hop ? "slide of HOP" : "step of CUMULATE", slide);
  ok = bind_interval(*from.args[3], hop ? "size of HOP" : "max of CUMULATE", size) && ok;
  if (!ok) return;
  if (size % slide != 0) {
    diags_.error(
        kEInterval, from.args[3]->token,
        fmt::format("the {} of {} must be a multiple of its {}", hop ? "size" : "max", fn,
                    hop ? "slide" : "step"),
        fmt::format("{} ms is not a multiple of {} ms", size, slide),
        hop ? "records are pre-aggregated per slide and windows combine whole slides; pick a "
              "slide that divides the size (the size comes last: HOP(t, ts, slide, size))"
            : "the windows grow by whole steps up to max");
    return;
  }
  spec_->window_size = size;
  spec_->slide = spec_->pane = slide;
}

void Binder::bind_group_by(const SelectStmt& s) {
  for (const ExprPtr& g : s.group_by) {
    if (is_window_col(*g, "window_start")) {
      has_window_start_ = true;
      continue;
    }
    if (is_window_col(*g, "window_end")) {
      has_window_end_ = true;
      continue;
    }
    // A name that is a SELECT alias groups by the aliased expression: without a schema any
    // name could be a JSON field, so the alias wins.
    const Expr* target = g.get();
    if (g->kind == ExprKind::kColumn) {
      for (const SelectItem& it : s.items) {
        if (it.alias == g->name && it.expr->kind != ExprKind::kStar &&
            !(it.expr->kind == ExprKind::kColumn && it.expr->name == g->name))
          target = it.expr.get();
      }
    }
    std::string canon = to_sql(*target);
    if (std::find(group_canon_.begin(), group_canon_.end(), canon) != group_canon_.end()) continue;
    int root = bind_expr(*target, Scope::kGroupBy);
    if (root < 0) continue;
    group_canon_.push_back(canon);
    spec_->group_exprs.push_back(root);
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

void Binder::add_output(OutputColumn col, const SelectItem& item) {
  if (!item.alias.empty()) col.name = item.alias;
  bool dup = std::any_of(spec_->outputs.begin(), spec_->outputs.end(),
                         [&](const OutputColumn& o) { return o.name == col.name; });
  if (dup) {
    diags_.error(kEDuplicateColumn, item.alias.empty() ? item.expr->token : item.alias_token,
                 fmt::format("duplicate output column `{}`", col.name), "",
                 "give it another alias with AS");
    return;
  }
  spec_->outputs.push_back(std::move(col));
}

void Binder::bind_select(const SelectStmt& s) {
  select_ = &s;
  for (const SelectItem& item : s.items) {
    const Expr& e = *item.expr;
    if (e.kind == ExprKind::kStar) continue;  // reported by the parser
    OutputColumn col;
    col.name = e.kind == ExprKind::kColumn ? e.name : to_sql(e);
    if (spec_->stateless()) {
      if (is_window_column(e)) {
        diags_.error(kEUnsupported, e.token,
                     fmt::format("`{}` needs a window function in FROM", e.name), "no window",
                     "read the input through TUMBLE, HOP, CUMULATE or SESSION");
        continue;
      }
      int root = bind_expr(e, Scope::kRecord);
      if (root < 0) continue;
      col.kind = OutputKind::kExpr;
      col.index = root;
    } else if (is_window_col(e, "window_start")) {
      col.kind = OutputKind::kWindowStart;
      col.name = "window_start";
    } else if (is_window_col(e, "window_end")) {
      col.kind = OutputKind::kWindowEnd;
      col.name = "window_end";
    } else {
      auto g = std::find(group_canon_.begin(), group_canon_.end(), to_sql(e));
      if (g != group_canon_.end()) {
        col.kind = OutputKind::kGroup;
        col.index = static_cast<int>(g - group_canon_.begin());
      } else if (e.kind == ExprKind::kCall && is_aggregate(e.name)) {
        int a = bind_aggregate(e);
        if (a < 0) continue;
        col.kind = OutputKind::kAggregate;
        col.index = a;
      } else {
        int root = bind_expr(e, Scope::kGroupRow);
        if (root < 0) continue;
        col.kind = OutputKind::kExpr;
        col.index = root;
      }
    }
    add_output(std::move(col), item);
  }
  if (spec_->allowed_lateness > 0 && !spec_->stateless()) {
    OutputColumn v;
    v.kind = OutputKind::kVersion;
    v.name = "_version";
    if (std::none_of(spec_->outputs.begin(), spec_->outputs.end(),
                     [](const OutputColumn& o) { return o.name == "_version"; }))
      spec_->outputs.push_back(std::move(v));
  }
  if (spec_->emit_early) {
    // Like `_version`, a SELECT column of that name wins over the added one.
    OutputColumn f;
    f.kind = OutputKind::kFinal;
    f.name = "_final";
    if (std::none_of(spec_->outputs.begin(), spec_->outputs.end(),
                     [](const OutputColumn& o) { return o.name == "_final"; }))
      spec_->outputs.push_back(std::move(f));
  }
  for (size_t i = 0; i < spec_->outputs.size(); ++i) {
    OutputColumn& c = spec_->outputs[i];
    c.json_prefix = i == 0 ? "" : ",";
    append_json_string(c.json_prefix, c.name);
    c.json_prefix.push_back(':');
    spec_->output_names.push_back(c.name);
  }
}

bool Binder::has_aggregate(const Expr& e) const {
  if (e.kind == ExprKind::kCall && is_aggregate(e.name)) return true;
  for (const auto& a : e.args)
    if (has_aggregate(*a)) return true;
  return false;
}

std::unique_ptr<PlanSpec> Binder::bind(const SelectStmt& s) {
  spec_->name = std::string(in_.name);
  spec_->allowed_lateness = in_.allowed_lateness;
  bind_from(s.from);
  // A stateless plan has no windows to emit early: no effect, no column.
  spec_->emit_early = in_.emit_early && !spec_->stateless();
  if (spec_->stateless()) {
    // Aggregation without a window: say so once, at the first aggregate or GROUP BY.
    const Expr* agg = nullptr;
    for (const SelectItem& it : s.items)
      if (agg == nullptr && has_aggregate(*it.expr)) agg = it.expr.get();
    if (agg != nullptr || s.group_token.kind != TokenKind::kEnd || s.having) {
      const Token& at = agg != nullptr ? agg->token : s.group_token;
      diags_.error(kEUnsupported, at, "aggregation without a window is not supported yet",
                   "not supported yet",
                   fmt::format("read it through a window: TUMBLE({}, ts, INTERVAL '1' MINUTE)",
                               s.from.name.text));
      return std::move(spec_);
    }
  } else {
    bind_group_by(s);
  }
  bind_select(s);
  if (s.where) spec_->where = bind_expr(*s.where, Scope::kWhere);
  if (s.having) spec_->having = bind_expr(*s.having, Scope::kHaving);
  build_field_checks();
  return std::move(spec_);
}

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
