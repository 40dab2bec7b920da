#include "test_util.h"

#include <doctest/doctest.h>

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

std::vector<std::string> run_lines(const std::shared_ptr<const Plan>& plan,
                                   const std::vector<std::string>& records) {
  LocalAggregator agg(plan);
  WindowMerger merger(plan);
  std::vector<std::string_view> views(records.begin(), records.end());
  agg.add_batch(views, 0);
  std::vector<PartialBatch> parts;
  agg.drain(kMaxTimestamp, 1, parts);
  for (auto& p : parts) merger.merge(std::move(p));
  std::vector<FiredRow> rows;
  merger.fire(kMaxTimestamp, rows);
  std::vector<std::string> lines;
  for (auto& r : rows) lines.push_back(r.line);
  return lines;
}

}  // namespace freshet::query::test
