#include "freshet/query/merger.h"

#include <algorithm>
#include <map>

#include "agg_table.h"
#include "freshet/base/assert.h"
#include "plan_spec.h"
#include "row_format.h"

namespace freshet::query {

class WindowMerger::Impl {
 public:
  explicit Impl(std::shared_ptr<const Plan> plan) : plan_(std::move(plan)), spec_(plan_->spec()) {}

  void merge(PartialBatch&& batch) {
    const auto n = static_cast<uint32_t>(spec_.aggs.size());
    FRESHET_ASSERT(batch.empty() || batch.aggs_per_entry == n, "partial batch of another plan");
    const char* src_bytes = batch.bytes.data();
    for (size_t i = 0; i < batch.entries.size(); ++i) {
      const PartialBatch::Entry& e = batch.entries[i];
      auto it = windows_.find(e.window_start);
      if (it == windows_.end()) it = windows_.emplace(e.window_start, AggTable(n)).first;
      AggTable& t = it->second;
      AggState* dst = t.find_or_insert({src_bytes + e.key_off, e.key_len}, e.hash);
      const AggState* src = batch.states.data() + i * n;
      for (uint32_t a = 0; a < n; ++a)
        agg_merge(spec_.aggs[a].kind, dst[a], t.bytes(), src[a], src_bytes);
    }
    batch.clear();
  }

  void fire(TimestampMs watermark, std::vector<FiredRow>& out) {
    const DurationMs size = spec_.window_size;
    // Tumbling windows all have the same size, so start order is end order.
    for (auto it = windows_.begin(); it != windows_.end() && it->first + size - 1 <= watermark;) {
      const AggTable& t = it->second;
      order_.resize(t.size());
      for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
      std::sort(order_.begin(), order_.end(),
                [&](size_t a, size_t b) { return t.key(t.entries()[a]) < t.key(t.entries()[b]); });
      for (size_t e : order_) {
        const AggState* states = t.states(e);
        bool keep = true;
        for (const HavingPredicate& h : spec_.having) {
          if (!agg_compare(spec_.aggs[h.agg].kind, states[h.agg], t.bytes().data(), h.op,
                           h.literal)) {
            keep = false;
            break;
          }
        }
        if (!keep) continue;
        FiredRow row;
        row.window_start = it->first;
        row.window_end = it->first + size;
        row.sort_key = std::string(t.key(t.entries()[e]));
        bool ok = format_row(spec_, it->first, row.sort_key, states, t.bytes().data(), row.line);
        FRESHET_ASSERT(ok, "undecodable group key");
        out.push_back(std::move(row));
      }
      it = windows_.erase(it);
    }
  }

  std::shared_ptr<const Plan> plan_;
  const PlanSpec& spec_;
  std::map<TimestampMs, AggTable> windows_;
  std::vector<size_t> order_;
};

WindowMerger::WindowMerger(std::shared_ptr<const Plan> plan)
    : impl_(std::make_unique<Impl>(std::move(plan))) {}
WindowMerger::~WindowMerger() = default;
void WindowMerger::merge(PartialBatch&& batch) { impl_->merge(std::move(batch)); }
void WindowMerger::fire(TimestampMs watermark, std::vector<FiredRow>& out) {
  impl_->fire(watermark, out);
}
size_t WindowMerger::open_windows() const { return impl_->windows_.size(); }

}  // namespace freshet::query
