#pragma once
// Private to the log module: one segment's files and in-memory state, the prepared-segment
// hand-over slot, and the index helpers (index.cc). Layout in segment_format.h.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "freshet/base/ids.h"
#include "freshet/base/result.h"
#include "freshet/io/file_system.h"
#include "freshet/io/mapped_region.h"
#include "freshet/io/unique_fd.h"

namespace freshet::log {

// A file and its mapping. Shared (shared_ptr) between a Segment and preparer jobs that
// pre-fault, trim or close it, so neither outlives the other's view of it. Fields are set
// before the file is shared and not changed afterwards, except `path` on the owning shard at
// a roll (jobs never read it after being queued).
struct MappedFile {
  std::string path;
  io::UniqueFd fd;
  io::MappedRegion map;
  uint64_t file_size = 0;  // at open, before any preallocation
};

struct IndexEntry {
  uint32_t rel = 0;  // relative offset
  uint32_t pos = 0;  // byte position in the segment
};

// One segment of a PartitionLog; owned by the log (so by its shard).
struct Segment {
  Offset base{0};
  std::shared_ptr<MappedFile> log;
  std::shared_ptr<MappedFile> index;
  std::shared_ptr<MappedFile> timeindex;
  size_t used = 0;                     // bytes of batches
  Offset next{0};                      // the offset after the segment's last batch
  size_t entries = 0;                  // index entries (the same in both indexes)
  size_t last_indexed_pos = 0;         // position of the last indexed batch (0: the first)
  TimestampMs max_ts = kMinTimestamp;  // largest maxTimestamp of its batches
  TimestampMs first_append_ms = 0;     // for roll by age; 0 = nothing appended yet
  TimestampMs last_append_ms = 0;      // for retention's future-skew clamp
  bool sealed = false;
  // Bytes [0, verified_below) were on disk when the log was opened: readers check their CRCs,
  // since storage may have rotted them. Later bytes were appended by this process from
  // batches it encoded itself; they are read without a CRC pass (Kafka does not check CRCs
  // on fetch at all; freshet still does for what it did not write).
  size_t verified_below = 0;

  char* data() const { return reinterpret_cast<char*>(log->map.data()); }
  size_t capacity() const { return log->map.size(); }
  size_t index_capacity() const;
  IndexEntry entry(size_t i) const;
  TimestampMs entry_time(size_t i) const;  // the time index's timestamp of entry i
  // Appends one entry to both indexes; false when they are full (the index gets sparser).
  bool add_entry(uint32_t rel, uint32_t pos, TimestampMs max_before);
  // Zeroes entries [from, entries) and sets entries = from.
  void drop_entries_from(size_t from);
  // The last entry with rel <= `rel` (entry 0 = the segment start if none).
  IndexEntry floor_entry(uint32_t rel) const;
  // The last entry whose timestamp is < t (entry 0 = the segment start if none).
  IndexEntry last_entry_before_time(TimestampMs t) const;
};

// The next segment, prepared by the preparer thread under temporary names. The preparer
// writes the files then publishes `state` with release; the shard reads it with acquire and
// only then touches the files.
struct PreparedSegment {
  enum State : int { kPending, kReady, kFailed };
  std::atomic<int> state{kPending};
  std::shared_ptr<MappedFile> log, index, timeindex;
  std::optional<Error> error;
};

// Counts a log's queued preparer jobs so its destructor can wait for them (the jobs may
// still be writing files in the log's directory).
struct JobTracker {
  std::mutex mu;
  std::condition_variable cv;
  int outstanding = 0;  // guarded by mu
  void begin() {
    std::lock_guard lock(mu);
    ++outstanding;
  }
  void end() {
    std::lock_guard lock(mu);
    if (--outstanding == 0) cv.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [this] { return outstanding == 0; });
  }
};

// How open_mapped sizes a file.
enum class Sizing {
  // Index files, written through the mapping: the file is grown to the mapped size.
  kGrow,
  // Segment data, appended with pwrite: blocks are reserved, but the file ends where its data
  // does. Read-ahead behind a reader then stops at the data; over a preallocated tail it
  // zero-filled pages that the next appends overwrite (a third of a Nexmark q5 run's CPU).
  // The mapping past the file's last page must not be touched (SIGBUS).
  kReserve,
};
// Opens (creating if missing) `path`, sizes it for `size` bytes as `sizing` says and maps
// `size` bytes writable. `truncate` discards previous contents first.
Result<std::shared_ptr<MappedFile>> open_mapped(io::FileSystem& fs, const std::string& path,
                                                uint64_t size, bool truncate, bool exclusive,
                                                Sizing sizing);
// The bytes of `used` that can be read through a segment's mapping: the rest of the page
// holding its last byte reads as zeros, the pages after it fault.
size_t mapped_readable(size_t used, size_t capacity);
// Makes the mapping read-only (sealed segments); addresses stay the same.
void protect_read_only(const io::MappedRegion& map);

std::string index_file_name(Offset base);
std::string time_index_file_name(Offset base);

}  // namespace freshet::log
