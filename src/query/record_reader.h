#pragma once
// The per-record front half shared by LocalAggregator and StatelessOperator: extracts the
// referenced fields (projection pushdown), reads the event time, evaluates WHERE, and builds
// the group key and the aggregate arguments. Everything is reused across records: no
// allocation per record once the buffers are warm.
//
// Not thread-safe; owned by one operator on one shard.

#include <string>
#include <string_view>
#include <vector>

#include "arena.h"
#include "json_extract.h"
#include "plan_spec.h"

namespace freshet::query {

// A comparison of a field with a non-null literal (`type = 'bid'`, `price > 100`): WHERE
// clauses that are ANDs of these are decided without the expression evaluator, with the same
// result (only TRUE passes; a missing, null or incomparable field does not).
struct SimpleComparison {
  ExprOp op;  // field op literal (mirrored when the SQL has the literal first)
  int field;
  Value literal;
};

// The comparisons of `root` if it is one or an AND of them; false (and `out` unspecified)
// if it is anything else.
bool simple_comparisons(const ExprProgram& prog, int root, std::vector<SimpleComparison>& out);

// Whether every comparison is TRUE over the record's fields.
bool all_hold(const std::vector<SimpleComparison>& cs, const Value* fields);

// Event time from the ts field: integer epoch ms, or an RFC 3339 string.
bool event_time_of(const Value& v, TimestampMs& ts);

// How `v` fails a column of type `t` (null and missing never do).
Mismatch mismatch_of(ColumnType t, const Value& v);

class RecordReader {
 public:
  explicit RecordReader(const PlanSpec& spec);

  // Parses one record and checks its fields against the input's schema, if any; nullptr on
  // success, else a reason that lives as long as the plan.
  const char* read(std::string_view record, size_t padding) {
    arena_.reset();
    if (const char* err = extractor_.extract(record, padding, values_.data())) return err;
    return spec_.field_checks.empty() ? nullptr : check_types();
  }
  // The event time; nullptr on success, else a static reason.
  const char* event_time(TimestampMs& ts) const {
    const Value& v = values_[static_cast<size_t>(spec_.ts_field)];
    if (event_time_of(v, ts)) return nullptr;
    return v.is_null() ? "missing event time" : "invalid event time";
  }
  bool passes_where() {
    if (spec_.where < 0) return true;
    if (!simple_where_.empty()) return all_hold(simple_where_, values_.data());
    return is_true(eval(spec_.prog, spec_.where, ctx_));
  }
  // Builds the group key encoding into key(); nullptr on success, else a static reason.
  const char* build_key();
  // Evaluates the aggregate arguments; nullptr on success, else a static reason.
  const char* eval_args();

  const std::string& key() const { return key_; }
  // The argument of aggregate a (valid after eval_args until the next read).
  const Value& arg(size_t a) const { return *args_[a]; }
  Value eval_expr(int root) { return eval(spec_.prog, root, ctx_); }

 private:
  const char* check_types() const;

  const PlanSpec& spec_;
  std::vector<SimpleComparison> simple_where_;  // empty: WHERE goes through eval()
  FieldExtractor extractor_;
  std::vector<Value> values_;
  std::vector<Value> arg_values_;
  std::vector<const Value*> args_;
  StringArena arena_;
  EvalContext ctx_;
  std::string key_;
};

}  // namespace freshet::query
