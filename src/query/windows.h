#pragma once
// Window arithmetic shared by the operators. TUMBLE, HOP and CUMULATE windows are unions of
// consecutive panes of `pane` ms (the tumble size, the hop slide, the cumulate step), so the
// aggregator keeps one partial per (pane, key) whatever the overlap, and windows are put
// together from panes when they fire (Flink's pane optimisation): a HOP element costs one
// update, not size/slide.
//
//   TUMBLE(size):       pane p belongs to [p, p + size)
//   HOP(slide, size):   pane p belongs to [e - size, e) for e = p + slide, ..., p + size
//   CUMULATE(step, max): with S = floor(p / max) * max, pane p belongs to [S, e) for
//                       e = p + step, ..., S + max
//
// Semantics §3.5: a window fires when watermark >= end - 1 and is cleaned up when
// watermark >= end - 1 + allowed_lateness.

#include "freshet/base/ids.h"
#include "plan_spec.h"

namespace freshet::query {

inline TimestampMs floor_to(TimestampMs t, DurationMs unit) {
  TimestampMs mod = t % unit;
  if (mod < 0) mod += unit;
  return t - mod;
}

// t + d, saturating at kMaxTimestamp (cleanup times of windows near the end of time).
inline TimestampMs saturating_add(TimestampMs t, DurationMs d) {
  TimestampMs r;
  if (__builtin_add_overflow(t, d, &r)) return d > 0 ? kMaxTimestamp : kMinTimestamp;
  return r;
}

class PaneWindows {
 public:
  explicit PaneWindows(const PlanSpec& s)
      : kind_(s.window), size_(s.window_size), pane_(s.pane), lateness_(s.allowed_lateness) {}

  DurationMs pane() const { return pane_; }
  TimestampMs pane_of(TimestampMs ts) const { return floor_to(ts, pane_); }
  // Whether every window of the pane starting at p ends within the int64 range.
  bool in_range(TimestampMs p) const { return p <= kMaxTimestamp - size_; }
  TimestampMs first_end(TimestampMs p) const { return p + pane_; }
  TimestampMs last_end(TimestampMs p) const {
    return kind_ == WindowKind::kCumulate ? floor_to(p, size_) + size_ : p + size_;
  }
  TimestampMs start_of(TimestampMs end) const {
    return kind_ == WindowKind::kCumulate ? floor_to(end - 1, size_) : end - size_;
  }
  TimestampMs cleanup_at(TimestampMs end) const { return saturating_add(end - 1, lateness_); }
  // Windows are single panes (TUMBLE, or HOP with slide == size): nothing to combine.
  bool single_pane() const { return kind_ == WindowKind::kTumble || pane_ == size_; }

 private:
  WindowKind kind_;
  DurationMs size_, pane_, lateness_;
};

}  // namespace freshet::query
