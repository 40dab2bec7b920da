#pragma once
// A file sink: appends result rows as JSON Lines or CSV to a live file that `tail -F` can
// follow, rotating by size and age (rename, then create: a rotated file is never written
// again). Delivery is at-least-once for now: rows are written as soon as their window fires.
//
// Owned by one shard. The sink does no I/O itself on the data path: it hands out one write
// at a time (next_write) for the shard to issue through its io_uring ring and is told the
// result (write_done). One write in flight at a time keeps the file free of holes, so a
// reader never sees zeros where a later row landed first. Opening, rotating and closing are
// rare and use the FileSystem directly.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/base/result.h"
#include "freshet/io/file_system.h"
#include "freshet/io/unique_fd.h"

namespace freshet::sinks {

enum class Format { kJsonl, kCsv };

struct FileSinkOptions {
  std::string name;
  std::string path;
  Format format = Format::kJsonl;
  std::vector<std::string> columns;  // CSV header, in order
  std::optional<uint64_t> rotate_max_bytes;
  std::optional<DurationMs> rotate_max_age;
  bool truncate = false;  // start the live file empty (freshet run --reset)
};

class FileSink {
 public:
  static Result<std::unique_ptr<FileSink>> open(io::FileSystem& fs, FileSinkOptions options);

  // Queues rows (each one JSON object without newline). CSV rows are converted here.
  void add_row(std::string_view json_line);

  struct Write {
    int fd;
    const char* data;
    size_t len;
    uint64_t offset;
  };
  // The next write to issue, or nullopt when nothing is pending or a write is in flight.
  std::optional<Write> next_write();
  // The result of the last write (bytes written or -errno). Short writes are continued.
  Status write_done(int32_t result, TimestampMs now_ms);

  bool idle() const { return !in_flight_ && pending_.empty(); }
  // Bytes added and not written yet, in flight included.
  size_t queued_bytes() const {
    return pending_.size() + (in_flight_ ? in_flight_buf_.size() - in_flight_done_ : 0);
  }
  uint64_t rows_written() const { return rows_written_; }
  const std::string& path() const { return options_.path; }
  // Writes whatever is pending with plain pwrite (used at shutdown, once nothing is in
  // flight) and fsyncs.
  Status flush_blocking();

 private:
  FileSink(io::FileSystem& fs, FileSinkOptions options);
  Status open_live(bool truncate);
  Status maybe_rotate(TimestampMs now_ms);
  std::string rotated_name(TimestampMs now_ms) const;
  void append_csv(std::string_view json_line);

  io::FileSystem& fs_;
  FileSinkOptions options_;
  io::UniqueFd fd_;
  uint64_t size_ = 0;
  TimestampMs opened_ms_ = 0;
  uint32_t rotation_seq_ = 0;
  std::string pending_;
  std::string in_flight_buf_;
  size_t in_flight_done_ = 0;
  bool in_flight_ = false;
  uint64_t pending_rows_ = 0, in_flight_rows_ = 0, rows_written_ = 0;
};

// The CSV rendering of a flat JSON object's values, in `columns` order (RFC 4180 quoting).
std::string json_row_to_csv(std::string_view json_line, const std::vector<std::string>& columns);

}  // namespace freshet::sinks
