#pragma once
// A query without window or aggregate (filter, project, route): each record becomes one
// output row or is dropped. Per shard, no exchange, no state between records.

#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "freshet/query/aggregator.h"
#include "freshet/query/merger.h"
#include "freshet/query/plan.h"

namespace freshet::query {

// One per (query, shard) that reads the query's input; used by that shard's thread only (no
// locks; not thread-safe). Holds the plan shared, read-only.
class StatelessOperator {
 public:
  using BatchStats = LocalAggregator::BatchStats;
  using RejectFn = LocalAggregator::RejectFn;

  explicit StatelessOperator(std::shared_ptr<const Plan> plan);
  ~StatelessOperator();
  StatelessOperator(const StatelessOperator&) = delete;
  StatelessOperator& operator=(const StatelessOperator&) = delete;

  // Evaluates a batch of record values (JSON text, same padding contract as
  // LocalAggregator::add_batch) and appends one row per record that passes WHERE, in input
  // order. Row time: with an event-time column (Plan::ts_column() non-empty) a row has
  // window_start = t and window_end = t + 1, so window_end - 1 is the record's event time
  // (the row time of windowed rows too, semantics §3.4); a record without a valid event time
  // is malformed. Without one, window_start = kMinTimestamp and window_end = kMinTimestamp + 1.
  // sort_key is empty: rows keep their input order. Never late: there is no window.
  BatchStats process(std::span<const std::string_view> values, size_t readable_padding,
                     FiredRows& out);

  // Called for each malformed record (optional; default none).
  void set_reject_callback(RejectFn fn);
  // As LocalAggregator::set_future_bound.
  void set_future_bound(TimestampMs bound);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet::query
