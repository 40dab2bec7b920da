#pragma once
// The log of one topic partition: a sequence of segment files of RecordBatch v2 with a sparse
// offset index and a time index each (layout in segment_format.h). The active segment is
// preallocated, memory-mapped and appended by copy; sealed segments are trimmed to their
// batches and their mappings made read-only.
//
// Owned by the shard that owns the partition (p % shards); not thread-safe, and it needs no
// locks because only that shard appends and reads. The one exception is the optional
// SegmentPreparer (borrowed through PartitionOptions), whose thread prepares the next segment
// and pre-faults the active one; it shares only files and mappings with the log, handed over
// through a PreparedSegment slot. Offsets below durable_end() are readable; what advances
// durable_end() is the topic's flush policy (see Flusher), so a reader never sees a record that
// a crash could lose under the configured policy.
//
// Failure: corruption found in the middle of the data (a sealed segment, or before the tail
// of the active one), or a failed fsync, marks the partition failed: failed() is true,
// failure() says where and why, appends, reads and waiters get that error, and nothing is
// truncated or served. Other partitions keep running.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/base/result.h"
#include "freshet/io/file_system.h"
#include "freshet/log/record_batch.h"
#include "freshet/shard/task.h"

namespace freshet::log {

class SegmentPreparer;
struct Segment;
struct PreparedSegment;
struct JobTracker;
struct PartitionLogTestAccess;

struct PartitionOptions {
  uint64_t segment_bytes = 128ull << 20;
  // Roll the active segment this long after its first append (Kafka segment.ms). For a
  // segment recovered with data, the clock starts at open().
  std::optional<DurationMs> segment_age;
  // One offset/time index entry per this many segment bytes (Kafka index.interval.bytes).
  uint32_t index_interval_bytes = 4096;
  // With no fsync policy (fsync: never) appended data is visible at once.
  bool durable_on_append = true;
  // Check the CRC of every batch of every sealed segment at open(), not only the batches after
  // each segment's last valid index entry. The active segment's tail is always checked.
  bool validate_sealed_segments = false;
  // Retention (applied by apply_retention): delete sealed segments whose newest timestamp is
  // older than now - retention, and the oldest sealed segments while the partition holds
  // more than retention_bytes.
  std::optional<DurationMs> retention;
  std::optional<uint64_t> retention_bytes;
  // KIP-937: a segment's newest timestamp counts as at most its last append time plus this,
  // so a record stamped far in the future cannot keep a segment alive forever.
  DurationMs max_future_skew = 60 * 60 * 1000;
  // Where blocking segment work runs ahead of need (borrowed; must outlive the log). Null:
  // the next segment is created inline at roll time and nothing is pre-faulted.
  SegmentPreparer* preparer = nullptr;
  // The wall clock for append times (segment age, retention). Null: wall_clock_ms().
  std::function<TimestampMs()> clock;
};

// What the appender and the preparer did; for tests, benches and metrics.
struct PartitionStats {
  uint64_t rolls = 0;
  uint64_t rolls_prepared = 0;  // the next segment was ready: rename and swap only
  uint64_t rolls_inline = 0;    // it was not: created (unpopulated) on the caller's thread
  uint64_t index_rebuilds = 0;  // segments whose index was missing, short or stale at open
};

struct RetentionReport {
  size_t segments_deleted = 0;
  uint64_t bytes_deleted = 0;
  Offset start_offset{0};  // the partition's first offset afterwards
};

struct PinIdTag {};
using PinId = StrongId<uint64_t, PinIdTag>;

class PartitionLog {
 public:
  // Opens or creates the partition in `dir`, recovering what is there: each segment's index is
  // trusted up to its last entry that agrees with the segment and the batches after it are
  // checked (all batches of sealed segments with validate_sealed_segments); a torn tail of the
  // last segment is zeroed (and logged with the byte count); missing or stale indexes are
  // rebuilt. Corruption before the tail does not fail open(): the log comes back failed()
  // so the caller can report it and keep its other partitions. Errors are I/O errors.
  static Result<std::unique_ptr<PartitionLog>> open(io::FileSystem& fs, std::string dir,
                                                    PartitionOptions options);
  // Waits for this log's outstanding preparer jobs; does not trim or sync (see close()).
  ~PartitionLog();
  PartitionLog(const PartitionLog&) = delete;
  PartitionLog& operator=(const PartitionLog&) = delete;

  // Appends an encoded batch: assigns its base offset and partition leader epoch, patching the
  // bytes in place, and copies it into the active segment, rolling first when the segment is
  // full or old. Returns the batch's base offset. Appended is not durable: see durable_end()
  // and when_durable(). The caller vouches for the bytes (BatchBuilder made them in this
  // process): neither this nor a Reader checks the CRC of an appended batch, so a batch from
  // outside (a client's produce) must pass BatchView::parse first.
  Result<Offset> append(std::string& batch);

  Offset start_offset() const;
  Offset end_offset() const { return end_; }           // the next offset to assign
  Offset durable_end() const { return durable_end_; }  // readers see offsets below this
  TimestampMs last_append_ms() const { return last_append_ms_; }
  const std::string& dir() const { return dir_; }
  uint64_t bytes_dropped_at_recovery() const { return dropped_; }
  const PartitionStats& stats() const { return stats_; }
  size_t segment_count() const { return segments_.size(); }
  uint64_t size_bytes() const;  // bytes of batches in all segments

  bool failed() const { return failure_.has_value(); }
  // Only when failed(): what failed, with the path, byte position and reason.
  const Error& failure() const { return *failure_; }
  // Marks the partition failed for good (a failed fsync: never retried, never advanced) and
  // completes every waiter with the error. The first failure wins.
  void fail(Error error);

  // Calls done(ok) once durable_end() > last (at once if it already is), or done(error) if
  // the partition fails. A tailing reader waits with when_durable(reader.position(), ...).
  // `done` runs on this shard, possibly inside this call or inside append()/complete_sync(),
  // and may append or wait again.
  void when_durable(Offset last, shard::UniqueFunction<void(Status)> done);

  // Group commit: the fds to fsync so that everything appended so far is durable (sealed
  // segments not yet synced, the active one, and the directory after a roll), and the end
  // offset that becomes durable once they all are. Then complete_sync(end). `keep_alive`
  // holds the files open until the caller drops the request.
  struct SyncRequest {
    std::vector<int> fds;
    std::vector<bool> datasync;  // per fd: false for the directory, which needs a full fsync
    Offset end;
    std::vector<std::shared_ptr<const void>> keep_alive;
  };
  // Whether appends count as durable at once (fsync: never); the Flusher sets it.
  void set_durable_on_append(bool on);
  bool has_unsynced() const { return end_ > sync_requested_ || dir_unsynced_; }
  SyncRequest prepare_sync();
  void complete_sync(Offset end);

  // The first offset whose batch has maxTimestamp >= t (Kafka ListOffsets by time), among
  // durable batches; nullopt when there is none (a consumer would start at the end).
  Result<std::optional<Offset>> offset_for_time(TimestampMs t) const;

  // Retention never deletes a segment holding an offset >= the lowest pinned offset.
  PinId pin(Offset offset);
  void unpin(PinId id);
  std::optional<Offset> lowest_pin() const;
  // Deletes whole sealed segments (the .log and its indexes) as `retention` and
  // `retention_bytes` say, oldest first, and advances start_offset(). Never the active segment.
  // Readers positioned in a deleted segment get an out-of-range error.
  Result<RetentionReport> apply_retention(TimestampMs now);

  // A bounded source that fed this partition has finished: readers that reach the end may
  // treat it as the end of the stream.
  void mark_finished() { finished_ = true; }
  bool finished() const { return finished_; }

  // Trims the active segment and its indexes to their used size and fsyncs them, and removes
  // an unused prepared segment (clean shutdown). A failed partition is left as it is.
  Status close();

  // Reads batches in order from an offset, up to durable_end(). Zero-copy: the views point
  // into the segment mappings and stay valid while the PartitionLog lives, until retention
  // deletes their segment (sealing only makes a mapping read-only; addresses do not move).
  class Reader {
   public:
    // Positioned at start_offset().
    explicit Reader(const PartitionLog& log);
    // Positions the reader at the batch holding `offset`. Offsets below start_offset() clamp
    // to it; an offset above end_offset() is kInvalidArgument; end_offset() itself is fine.
    Status seek(Offset offset);
    // The next batch below durable_end(), or nullopt when caught up. Corruption, a failed
    // partition, or a position retention deleted are errors. CRCs are checked for the bytes
    // that were on disk when the log was opened, not for those this process appended.
    Result<std::optional<BatchView>> next();
    Offset position() const { return next_offset_; }
    // Bytes readable after `p` inside the same mapping (for padded parsers).
    size_t readable_after(const char* p) const;

   private:
    const PartitionLog* log_;
    uint64_t segment_ = 0;  // absolute segment number (counting deleted ones)
    size_t pos_ = 0;
    Offset next_offset_{0};
  };

 private:
  friend struct PartitionLogTestAccess;

  PartitionLog(io::FileSystem& fs, std::string dir, PartitionOptions options);
  TimestampMs now() const;
  // recovery.cc
  Status recover();
  Status recover_segment(Segment& s, bool last, Offset expected_base);
  // segment.cc
  Result<std::unique_ptr<Segment>> create_segment_inline(Offset base);
  Status roll();
  Status seal(Segment& s);
  void maybe_prepare_next(Segment& active);
  void notify_durable();
  const Segment* segment_at(uint64_t absolute) const;
  size_t segment_for(Offset offset) const;  // index into segments_; requires offset >= start

  io::FileSystem& fs_;
  std::string dir_;
  PartitionOptions options_;
  io::UniqueFd dir_fd_;  // for fsyncing the directory after a roll
  std::vector<std::unique_ptr<Segment>> segments_;
  uint64_t removed_segments_ = 0;  // segments deleted by retention so far
  std::vector<std::shared_ptr<const void>> unsynced_sealed_;
  std::vector<int> unsynced_sealed_fds_;
  std::shared_ptr<PreparedSegment> prepared_;
  std::shared_ptr<JobTracker> jobs_;
  Offset end_{0};
  Offset durable_end_{0};
  Offset sync_requested_{0};
  bool dir_unsynced_ = false;
  bool prepare_early_ = false;  // see maybe_prepare_next
  TimestampMs last_append_ms_ = 0;
  uint64_t dropped_ = 0;
  bool finished_ = false;
  std::optional<Error> failure_;
  std::multimap<Offset, shard::UniqueFunction<void(Status)>> waiters_;
  std::map<uint64_t, Offset> pins_;
  uint64_t next_pin_ = 1;
  PartitionStats stats_;
};

std::string segment_file_name(Offset base);

}  // namespace freshet::log
