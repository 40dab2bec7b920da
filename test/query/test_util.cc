#include "test_util.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "freshet/query/stateless.h"

namespace freshet::query::test {

namespace {
const std::vector<std::string> kTopics = {"payments", "events"};
}

std::shared_ptr<const Plan> compile_ok(std::string_view sql) {
  std::vector<Diagnostic> diags;
  auto plan = compile({"q", sql, {}, &kTopics}, diags);
  for (const auto& d : diags)
    FAIL_CHECK(d.code << " " << d.pos.line << ":" << d.pos.col << " " << d.message);
  REQUIRE(plan != nullptr);
  return plan;
}

std::vector<Diagnostic> compile_errors(std::string_view sql, std::vector<SourcePos> origins) {
  std::vector<Diagnostic> diags;
  auto plan = compile({"q", sql, std::move(origins), &kTopics}, diags);
  CHECK(plan == nullptr);
  CHECK(!diags.empty());
  return diags;
}

std::shared_ptr<const Plan> compile_late(std::string_view sql, DurationMs allowed_lateness) {
  std::vector<Diagnostic> diags;
  CompileInput in{"q", sql, {}, &kTopics};
  in.allowed_lateness = allowed_lateness;
  auto plan = compile(in, diags);
  for (const auto& d : diags) FAIL_CHECK(d.code << " " << d.message);
  REQUIRE(plan != nullptr);
  return plan;
}

std::shared_ptr<const Plan> compile_early(std::string_view sql, DurationMs allowed_lateness) {
  std::vector<Diagnostic> diags;
  CompileInput in{"q", sql, {}, &kTopics};
  in.allowed_lateness = allowed_lateness;
  in.emit_early = true;
  auto plan = compile(in, diags);
  for (const auto& d : diags) FAIL_CHECK(d.code << " " << d.message);
  REQUIRE(plan != nullptr);
  return plan;
}

Compiled compile_typed(std::string_view sql, const TopicSchema& schema,
                       std::vector<SourcePos> origins, DurationMs allowed_lateness) {
  std::map<std::string, TopicSchema> schemas;
  if (!schema.columns.empty()) schemas["payments"] = schema;
  CompileInput in{"q", sql, std::move(origins), &kTopics};
  in.schemas = &schemas;
  in.allowed_lateness = allowed_lateness;
  Compiled c;
  c.plan = compile(in, c.diags);
  return c;
}

Harness::Harness(std::shared_ptr<const Plan> p, uint32_t shards) : plan(std::move(p)) {
  for (uint32_t s = 0; s < shards; ++s) {
    aggs.push_back(std::make_unique<LocalAggregator>(plan));
    mergers.push_back(std::make_unique<WindowMerger>(plan));
  }
}

void Harness::add(uint32_t shard, const std::vector<std::string>& records) {
  std::vector<std::string_view> views(records.begin(), records.end());
  aggs[shard]->set_reject_callback([&](const RejectedRecord& r) {
    late.push_back(r);
    late_records.push_back(records[r.index]);
    late_reasons.emplace_back(r.reason);
  });
  aggs[shard]->add_batch(views, 0);
}

FiredRows Harness::advance(TimestampMs watermark) {
  const auto n = static_cast<uint32_t>(aggs.size());
  for (auto& a : aggs) {
    std::vector<PartialBatch> out;
    a->drain(watermark, n, out);
    for (uint32_t s = 0; s < n; ++s) mergers[s]->merge(std::move(out[s]));
  }
  FiredRows rows;
  for (auto& m : mergers) m->fire(watermark, rows);
  rows.sort_from(0);
  return rows;
}

FiredRows Harness::early() {
  const auto n = static_cast<uint32_t>(aggs.size());
  for (auto& a : aggs) {
    std::vector<PartialBatch> out;
    a->drain_all(n, out);
    for (uint32_t s = 0; s < n; ++s) mergers[s]->merge(std::move(out[s]));
  }
  FiredRows rows;
  for (auto& m : mergers) m->fire_early(rows);
  rows.sort_from(0);
  return rows;
}

std::vector<std::string> lines(const FiredRows& rows) {
  std::vector<std::string> out;
  for (const FiredRow r : rows) out.emplace_back(r.line);
  return out;
}

std::string ev(TimestampMs ts, const std::string& k, int x) {
  return "{\"ts\":" + std::to_string(ts) + ",\"k\":\"" + k + "\",\"x\":" + std::to_string(x) + "}";
}

std::vector<std::string> run_stateless(const std::shared_ptr<const Plan>& plan,
                                       const std::vector<std::string>& records) {
  StatelessOperator op(plan);
  std::vector<std::string_view> views(records.begin(), records.end());
  FiredRows rows;
  op.process(views, 0, rows);
  return lines(rows);
}

std::vector<std::string> run_lines(const std::shared_ptr<const Plan>& plan,
                                   const std::vector<std::string>& records) {
  LocalAggregator agg(plan);
  WindowMerger merger(plan);
  std::vector<std::string_view> views(records.begin(), records.end());
  agg.add_batch(views, 0);
  std::vector<PartialBatch> parts;
  agg.drain(kMaxTimestamp, 1, parts);
  for (auto& p : parts) merger.merge(std::move(p));
  FiredRows rows;
  merger.fire(kMaxTimestamp, rows);
  return lines(rows);
}

}  // namespace freshet::query::test
