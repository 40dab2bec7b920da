#pragma once
// The second half of a windowed aggregation: combines the partials for the group keys this
// shard owns and, once the combined watermark passes a window, fires it: applies HAVING and
// formats the output rows.
//
// Lateness (semantics §3.5): window state stays until watermark >= end - 1 + L. A partial
// that arrives for a window that already fired (a late-but-allowed increment) re-fires that
// window for the keys it touched at the next fire(), as a kLateUpdate row with the next
// version. Sessions are merged here exactly: pieces from any shard that overlap or touch
// merge, with their state, and a merged session that had fired re-fires with a new version
// and lists the bounds it replaces.
//
// Early emission (semantics §3.5 `early_every`, CompileInput::emit_early): fire_early() emits
// the current value of windows that have not had their main firing yet, as kEarly rows with
// `_final: false`; the main firing and late updates follow unchanged, with `_final: true`.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/base/result.h"
#include "freshet/query/fired_rows.h"
#include "freshet/query/partial_batch.h"
#include "freshet/query/plan.h"

namespace freshet::query {

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
  // Fires every window with end - 1 <= watermark that has not fired, and re-fires fired
  // windows that late partials changed: applies HAVING, formats rows, and frees the state of
  // windows with end - 1 + allowed_lateness <= watermark. Appends rows sorted by
  // (window_end, window_start, sort_key). Rows failing HAVING are not emitted but still use
  // up a version.
  void fire(TimestampMs watermark, FiredRows& out);
  // fire() in slices, so a watermark that closes many windows at once (the end of a bounded
  // input, a backlog caught up) does not format all their rows into memory in one go: stops
  // after the window that brings `out` to `max_rows` new rows, and returns T: every row
  // ending at or before T + 1 has been appended by now, and later slices append only rows
  // ending after it (T is the last fired window's end - 1; for sessions, the last due time
  // taken). Each slice's rows are sorted. The merger is then mid-fire: call again, with the
  // same or a later watermark, before merge(), fire_early() or snapshot(). Returns
  // `watermark` once everything fire() would do is done. Late data is judged as if the whole
  // watermark had fired at once: results do not depend on the slices.
  TimestampMs fire_some(TimestampMs watermark, FiredRows& out, size_t max_rows);
  // For a plan compiled with emit_early (otherwise a no-op): appends one kEarly row for every
  // (window, group key) whose window has not had its main firing and whose state changed
  // since its last early row (or since it appeared): its current aggregates, HAVING applied
  // (a failing group emits nothing), formatted like a final row but with `_final: false` and
  // version 0. Windows are TUMBLE/HOP/CUMULATE panes combined as fire() combines them, or
  // sessions. Tracking changes per (window, key) rather than per window keeps the rows the
  // same however keys are spread over shards. Rows are sorted as fire() sorts them. Changes
  // neither the state nor what fire() emits later. Cost: nothing when nothing changed;
  // otherwise per changed (pane, key) merged since the last call, with pane windows combined
  // key by key. Call it right after merging what the tick should reflect (drain_all upstream).
  void fire_early(FiredRows& out);
  size_t open_windows() const;

  // Checkpoints (semantics §3.7). Call once every partial up to the barrier has been merged
  // (LocalAggregator::drain_all on every upstream shard). APPENDS to `out` a self-contained,
  // versioned image of all the state fire() depends on: open panes or sessions with their
  // aggregate states, the last fire() watermark, fired windows' versions and pending late
  // re-fires. Layout: src/query/snapshot_format.h. Does not change the merger.
  void snapshot(std::string& out) const;
  // Loads an image written by snapshot() for a plan with the same Plan::state_fingerprint()
  // into this freshly constructed merger (whatever it held is replaced). A truncated,
  // garbled or foreign image, or an unknown format version, is ErrorCode::kCorruption with
  // a message naming the problem; the merger is then unchanged. Early-emission bookkeeping is
  // not in the image: after a restore every open window counts as changed, so the first
  // fire_early() re-emits them all.
  [[nodiscard]] Status restore(std::string_view image);

  class Impl;  // pane windows or sessions; defined in src/query/merger.cc

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet::query
