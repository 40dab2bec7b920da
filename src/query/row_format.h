#pragma once
// Output rows: one flat JSON object per fired (window, group), columns in SELECT order.

#include <string>
#include <string_view>

#include "freshet/base/ids.h"
#include "freshet/query/partial_batch.h"
#include "plan_spec.h"

namespace freshet::query {

// Appends `s` as a JSON string: quoted; `"`, `\` and control characters escaped; other
// bytes (UTF-8) as they are.
void append_json_string(std::string& out, std::string_view s);

// Formats the row of one group: `key` is its group key encoding, `states` its aggregates
// (plan.aggs.size() of them), `bytes` the store their strings live in. Returns false if the
// key does not decode (a bug).
bool format_row(const PlanSpec& plan, TimestampMs window_start, std::string_view key,
                const AggState* states, const char* bytes, std::string& out);

}  // namespace freshet::query
