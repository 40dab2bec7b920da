#pragma once
// The second half of a windowed aggregation: combines the partials for the group keys this
// shard owns and, once the combined watermark passes a window, fires it: applies HAVING and
// formats the output rows.

#include <memory>
#include <string>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/query/partial_batch.h"
#include "freshet/query/plan.h"

namespace freshet::query {

struct FiredRow {
  TimestampMs window_start = 0;
  TimestampMs window_end = 0;
  std::string sort_key;  // group key encoding, bytewise comparable
  std::string line;      // one JSON object, no newline, columns in SELECT order
};

// One per (query, shard), as owner of the keys that hash to the shard. Used by that shard's
// thread only (no locks; not thread-safe). Holds the plan shared, read-only.
class WindowMerger {
 public:
  explicit WindowMerger(std::shared_ptr<const Plan> plan);
  ~WindowMerger();
  WindowMerger(const WindowMerger&) = delete;
  WindowMerger& operator=(const WindowMerger&) = delete;

  // Folds a batch (from any shard, in any order) into the open windows.
  void merge(PartialBatch&& batch);
  // Fires every window with end - 1 <= watermark: applies HAVING, formats rows and frees the
  // window's state. Appends rows sorted by (window_end, window_start, sort_key).
  void fire(TimestampMs watermark, std::vector<FiredRow>& out);
  size_t open_windows() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet::query
