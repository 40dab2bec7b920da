#pragma once
// The binder's state while it resolves one SELECT into a PlanSpec (compile.cc for the
// query's shape, bind_expr.cc for expressions and aggregates, bind_types.cc for the checks
// against the input topic's schema). Used once per compile.

#include <memory>
#include <string>
#include <vector>

#include "ast.h"
#include "diag.h"
#include "freshet/query/plan.h"
#include "plan_spec.h"

namespace freshet::query {

class Binder {
 public:
  // What the binder knows statically of an expression's values. kUnknown for fields without
  // a schema, timestamps (their JSON form varies) and CASE/COALESCE.
  enum class SqlType { kUnknown, kString, kNumber, kBool };

  Binder(const CompileInput& in, DiagSink& diags) : in_(in), diags_(diags) {}

  std::unique_ptr<PlanSpec> bind(const SelectStmt& s);

 private:
  // Where an expression is bound, which decides what its leaves may be.
  enum class Scope {
    kRecord,    // a stateless SELECT item: fields only
    kWhere,     // fields only; no aggregates
    kGroupBy,   // fields only; no aggregates
    kAggArg,    // an aggregate's argument: fields only, no nested aggregates
    kGroupRow,  // SELECT of an aggregation: group expressions, window bounds, aggregates
    kHaving,    // as kGroupRow, plus SELECT aliases
  };

  static bool is_window_column(const Expr& e);
  static bool is_aggregate(std::string_view upper_name);
  bool has_aggregate(const Expr& e) const;
  int field_index(const std::string& path);
  // field_index, after checking `path` against the input's schema; -1 after an error.
  int bind_field(const std::string& path, const Token& at);
  // bind_types.cc: static types, and the E0312 checks that only run over a schema.
  SqlType type_of(int node) const;
  bool check_event_time_column(const Expr& ts);
  bool check_compare(const Expr& e, const std::vector<int>& args);
  bool check_arith(const Expr& e, const std::vector<int>& args);
  bool check_agg_arg(const Expr& call, int arg);
  void build_field_checks();
  bool bind_interval(const Expr& iv, const char* what, DurationMs& out);
  void bind_input(const Expr& e, std::string_view fn);
  void bind_input_name(const std::string& name, const Token& at);
  void bind_from(const TableRef& from);
  void bind_group_by(const SelectStmt& s);
  void bind_select(const SelectStmt& s);
  void add_output(OutputColumn col, const SelectItem& item);
  int bind_aggregate(const Expr& call);  // index into aggs, or -1 after an error
  // Returns the node index, or -1 after reporting an error.
  int bind_expr(const Expr& e, Scope scope);
  int bind_literal(const Expr& e);
  int bind_call(const Expr& e, Scope scope);
  int node(ExprOp op, std::vector<int> args, int index = 0);

  const CompileInput& in_;
  DiagSink& diags_;
  const TopicSchema* schema_ = nullptr;             // the input topic's, if it has one
  std::vector<const SchemaColumn*> field_columns_;  // per spec_->fields; null if untyped
  std::unique_ptr<PlanSpec> spec_ = std::make_unique<PlanSpec>();
  std::vector<std::string> group_canon_;  // canonical SQL of the GROUP BY expressions
  const SelectStmt* select_ = nullptr;
  int alias_depth_ = 0;  // guards HAVING alias resolution against cycles
  bool has_window_start_ = false, has_window_end_ = false;
};

}  // namespace freshet::query
