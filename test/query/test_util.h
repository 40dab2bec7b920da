#pragma once
// Helpers shared by the query tests: compile or fail loudly, and run records through the
// aggregator -> merger pipeline the way the server does.

#include <memory>
#include <string>
#include <vector>

#include "freshet/base/time.h"
#include "freshet/query/aggregator.h"
#include "freshet/query/merger.h"
#include "freshet/query/plan.h"

namespace freshet::query::test {

// Compiles `sql` against topics {"payments", "events"}; fails the test on any diagnostic.
std::shared_ptr<const Plan> compile_ok(std::string_view sql);
// Compiles `sql` expecting errors; returns them.
std::vector<Diagnostic> compile_errors(std::string_view sql, std::vector<SourcePos> origins = {});

// Compiles with an allowed lateness.
std::shared_ptr<const Plan> compile_late(std::string_view sql, DurationMs allowed_lateness);

// Compiles with CompileInput::emit_early (and an allowed lateness).
std::shared_ptr<const Plan> compile_early(std::string_view sql, DurationMs allowed_lateness = 0);

// Compiles `sql` over topics {"payments", "events"} where `payments` has `schema` (none when
// empty), the way the server does; returns the plan or nullptr and the diagnostics.
struct Compiled {
  std::shared_ptr<const Plan> plan;
  std::vector<Diagnostic> diags;
};
Compiled compile_typed(std::string_view sql, const TopicSchema& schema,
                       std::vector<SourcePos> origins = {}, DurationMs allowed_lateness = 0);

// Aggregators and mergers on `shards` simulated shards, driven the way the server drives
// them: add records to a shard, then advance() drains every shard at a watermark, delivers
// the partials to their owners and fires.
struct Harness {
  Harness(std::shared_ptr<const Plan> plan, uint32_t shards);
  void add(uint32_t shard, const std::vector<std::string>& records);
  FiredRows advance(TimestampMs watermark);
  // An early tick as the server does it: drain_all on every shard, deliver, fire_early.
  FiredRows early();

  std::shared_ptr<const Plan> plan;
  std::vector<std::unique_ptr<LocalAggregator>> aggs;
  std::vector<std::unique_ptr<WindowMerger>> mergers;
  std::vector<RejectedRecord> late;  // reason copied into late_reasons
  std::vector<std::string> late_records, late_reasons;
};

// The JSON text of each row, in order.
std::vector<std::string> lines(const FiredRows& rows);

// {"ts":ts,"k":k,"x":x}: a record of the events topic the lateness and early tests query.
std::string ev(TimestampMs ts, const std::string& k = "a", int x = 1);

// A stateless query over the records, in one batch.
std::vector<std::string> run_stateless(const std::shared_ptr<const Plan>& plan,
                                       const std::vector<std::string>& records);

// One aggregator and one merger, all records in one batch, everything fired at +inf.
std::vector<std::string> run_lines(const std::shared_ptr<const Plan>& plan,
                                   const std::vector<std::string>& records);

}  // namespace freshet::query::test
