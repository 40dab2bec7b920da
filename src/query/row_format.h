#pragma once
// Output rows: one flat JSON object per fired (window, group), columns in SELECT order.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "arena.h"
#include "expr.h"
#include "freshet/base/ids.h"
#include "freshet/base/json.h"
#include "freshet/query/partial_batch.h"
#include "plan_spec.h"

namespace freshet::query {

using freshet::append_json_string;  // freshet/base/json.h

struct ByteStore;

// Evaluates the post-aggregation view of one (window, group): the group values decoded from
// the key and every aggregate's final value, for HAVING and SELECT expressions. Reused
// across rows (no allocation once warm); views stay valid until the next row.
class GroupRow {
 public:
  // False if the key does not decode (a bug).
  bool load(const PlanSpec& plan, TimestampMs window_start, TimestampMs window_end,
            std::string_view key, const AggState* states, const ByteStore& store);
  // Whether HAVING holds (true without HAVING).
  bool having(const PlanSpec& plan);
  // Appends the JSON row; `version` fills the _version column and `final` the _final column
  // if the plan has them.
  void format(const PlanSpec& plan, uint32_t version, bool final, std::string& out);

 private:
  // A fire formats every row of a window with the same bounds: text them once.
  struct Bound {
    TimestampMs at = 0;
    std::string text;
  };
  void append_bound(int which, TimestampMs t, std::string& out);
  Bound bounds_[2];

  std::vector<Value> groups_, aggs_;
  std::vector<std::string_view> group_enc_;
  StringArena arena_;
  const AggState* states_ = nullptr;
  const ByteStore* store_ = nullptr;
  EvalContext ctx_;
};

}  // namespace freshet::query
