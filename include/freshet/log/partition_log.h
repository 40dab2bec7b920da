#pragma once
// The log of one topic partition: a sequence of segment files of RecordBatch v2 (layout in
// segment_format.h), the active one preallocated and memory-mapped, appended by copy.
//
// Owned by the shard that owns the partition (p % shards); not thread-safe, and it needs no
// locks because only that shard appends and reads. Offsets below durable_end() are readable;
// what advances durable_end() is the topic's fsync policy (see FlushPolicy), so a reader
// never sees a record that a crash could lose under the configured policy.

#include <memory>
#include <string>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/base/result.h"
#include "freshet/io/file_system.h"
#include "freshet/io/mapped_region.h"
#include "freshet/io/unique_fd.h"
#include "freshet/log/record_batch.h"

namespace freshet::log {

struct PartitionOptions {
  uint64_t segment_bytes = 128ull << 20;
  // With no fsync policy (fsync: never) appended data is visible at once.
  bool durable_on_append = true;
};

class PartitionLog {
 public:
  // Opens or creates the partition in `dir`, recovering what is there: every batch is
  // checked; a torn tail of the last segment is truncated (and logged with the byte count);
  // a bad batch anywhere else is corruption and the partition refuses to open.
  static Result<std::unique_ptr<PartitionLog>> open(io::FileSystem& fs, std::string dir,
                                                    PartitionOptions options);
  ~PartitionLog();
  PartitionLog(const PartitionLog&) = delete;
  PartitionLog& operator=(const PartitionLog&) = delete;

  // Appends an encoded batch (from BatchBuilder): assigns its base offset, patching the
  // bytes in place, and copies it into the active segment, rolling to a new segment when it
  // does not fit. Returns the batch's base offset. Appended is not durable: see durable_end().
  Result<Offset> append(std::string& batch);

  Offset start_offset() const;
  Offset end_offset() const { return end_; }           // the next offset to assign
  Offset durable_end() const { return durable_end_; }  // readers see offsets below this
  TimestampMs last_append_ms() const { return last_append_ms_; }
  const std::string& dir() const { return dir_; }
  uint64_t bytes_dropped_at_recovery() const { return dropped_; }

  // Group commit: the fds to fsync so that everything appended so far is durable, and the
  // end offset that becomes durable once they all are. Then complete_sync(end).
  struct SyncRequest {
    std::vector<int> fds;
    Offset end;
  };
  bool has_unsynced() const { return end_ > sync_requested_; }
  SyncRequest prepare_sync();
  void complete_sync(Offset end);

  // A bounded source that fed this partition has finished: readers that reach the end may
  // treat it as the end of the stream.
  void mark_finished() { finished_ = true; }
  bool finished() const { return finished_; }

  // Trims the active segment to its used size and fsyncs it (clean shutdown).
  Status close();

  // Reads batches in order from an offset, up to durable_end(). Zero-copy: the views point
  // into the segment mappings and stay valid while the PartitionLog lives.
  class Reader {
   public:
    explicit Reader(const PartitionLog& log);
    // The next batch below durable_end(), or nullopt when caught up. Corruption is an error.
    Result<std::optional<BatchView>> next();
    Offset position() const { return next_offset_; }
    // Bytes readable after `p` inside the same mapping (for padded parsers).
    size_t readable_after(const char* p) const;

   private:
    const PartitionLog* log_;
    size_t segment_ = 0;
    size_t pos_ = 0;
    Offset next_offset_{0};
  };

 private:
  struct Segment {
    Offset base;
    std::string path;
    io::UniqueFd fd;
    io::MappedRegion map;
    size_t used = 0;
    bool sealed = false;
  };
  PartitionLog(io::FileSystem& fs, std::string dir, PartitionOptions options);
  Status recover();
  Result<size_t> scan_segment(Segment& s, bool last);
  Status roll(size_t need);
  Result<Segment> create_segment(Offset base);

  io::FileSystem& fs_;
  std::string dir_;
  PartitionOptions options_;
  std::vector<Segment> segments_;
  std::vector<int> unsynced_sealed_fds_;
  Offset end_{0};
  Offset durable_end_{0};
  Offset sync_requested_{0};
  TimestampMs last_append_ms_ = 0;
  uint64_t dropped_ = 0;
  bool finished_ = false;
};

std::string segment_file_name(Offset base);

}  // namespace freshet::log
