#include "alignment.h"

#include <algorithm>

namespace freshet::server {

Marks marks_of(std::span<const PartitionMark> partitions) {
  Marks m;
  for (const auto& p : partitions) {
    if (!p.active) continue;
    m.low = std::min(m.low, p.wm);
    if (p.wm != kMinTimestamp) m.high = std::max(m.high, p.wm);
  }
  return m;
}

void WatermarkAlignment::reset(uint32_t shards, ShardId self, std::optional<DurationMs> max_drift) {
  max_drift_ = max_drift;
  lows_.assign(shards, kMinTimestamp);
  self_ = self.value();
  max_spread_ = -1;
}

void WatermarkAlignment::on_report(ShardId from, TimestampMs low) { lows_[from.value()] = low; }

TimestampMs WatermarkAlignment::group_low(TimestampMs local_low) const {
  TimestampMs low = local_low;
  for (size_t s = 0; s < lows_.size(); ++s)
    if (s != self_) low = std::min(low, lows_[s]);
  return low;
}

bool WatermarkAlignment::may_read(TimestampMs wm, TimestampMs local_low) const {
  if (!max_drift_) return true;
  const TimestampMs low = group_low(local_low);
  // No active partition anywhere: nothing to align with.
  if (low == kMaxTimestamp) return true;
  // Saturating: a low mark of kMinTimestamp (a partition about to read its first record)
  // lets only the partitions without a watermark read.
  if (low < kMinTimestamp + *max_drift_) return wm == kMinTimestamp;
  return wm <= low + *max_drift_;
}

void WatermarkAlignment::observe(const Marks& local) {
  const TimestampMs low = group_low(local.low);
  if (local.high == kMinTimestamp || low == kMinTimestamp || low == kMaxTimestamp) return;
  max_spread_ = std::max(max_spread_, local.high > low ? local.high - low : 0);
}

}  // namespace freshet::server
