// Retention: deleting whole sealed segments from the front of the partition, by age and by
// size, below the lowest offset a live checkpoint has pinned.

#include <algorithm>

#include "freshet/base/log.h"
#include "freshet/log/partition_log.h"
#include "freshet/log/segment_preparer.h"
#include "segment.h"

namespace freshet::log {

PinId PartitionLog::pin(Offset offset) {
  const uint64_t id = next_pin_++;
  pins_.emplace(id, offset);
  return PinId(id);
}

void PartitionLog::unpin(PinId id) { pins_.erase(id.value()); }

std::optional<Offset> PartitionLog::lowest_pin() const {
  std::optional<Offset> low;
  for (const auto& [id, offset] : pins_)
    if (!low || offset < *low) low = offset;
  return low;
}

Result<RetentionReport> PartitionLog::apply_retention(TimestampMs now_ms) {
  if (failure_) return tl::unexpected(*failure_);
  RetentionReport report;
  const std::optional<Offset> pinned = lowest_pin();
  uint64_t total = size_bytes();
  // Only a prefix goes, so the partition stays one contiguous range of offsets; the active
  // (last) segment never does.
  size_t n = 0;
  while (n + 1 < segments_.size()) {
    const Segment& s = *segments_[n];
    if (pinned && s.next > *pinned) break;  // it holds an offset at or above the pin
    bool expired = false;
    if (options_.retention) {
      // KIP-937: a far-future timestamp counts only up to the last append plus the skew.
      const TimestampMs newest = std::min(s.max_ts, s.last_append_ms + options_.max_future_skew);
      expired = newest < now_ms - *options_.retention;
    }
    const bool too_big = options_.retention_bytes && total > *options_.retention_bytes;
    if (!expired && !too_big) break;
    total -= s.used;
    report.bytes_deleted += s.used;
    ++n;
  }
  for (size_t i = 0; i < n; ++i) {
    Segment& s = *segments_.front();
    // Indexes first: a crash in between leaves a segment whose index gets rebuilt, or orphan
    // indexes that recovery removes, never a segment without its data.
    FRESHET_TRY(fs_.unlink(s.index->path));
    FRESHET_TRY(fs_.unlink(s.timeindex->path));
    FRESHET_TRY(fs_.unlink(s.log->path));
    info("{}: retention deleted {} (offsets {} to {}, {} bytes)", dir_, segment_file_name(s.base),
         s.base, s.next, s.used);
    if (options_.preparer != nullptr) {
      // The last close of an unlinked file frees its blocks, and the munmap tears down page
      // tables: both can take milliseconds, so they happen on the preparer's thread.
      jobs_->begin();
      options_.preparer->submit([log = std::move(s.log), index = std::move(s.index),
                                 timeindex = std::move(s.timeindex), jobs = jobs_]() mutable {
        log.reset();
        index.reset();
        timeindex.reset();
        jobs->end();
      });
    }
    segments_.erase(segments_.begin());
    ++removed_segments_;
    ++report.segments_deleted;
  }
  report.start_offset = start_offset();
  return report;
}

}  // namespace freshet::log
