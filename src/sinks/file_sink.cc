#include "freshet/sinks/file_sink.h"

#include <fcntl.h>

#include <cerrno>

#include "freshet/base/log.h"
#include "freshet/base/time.h"

namespace freshet::sinks {

FileSink::FileSink(io::FileSystem& fs, FileSinkOptions options)
    : fs_(fs), options_(std::move(options)) {}

Result<std::unique_ptr<FileSink>> FileSink::open(io::FileSystem& fs, FileSinkOptions options) {
  std::unique_ptr<FileSink> sink(new FileSink(fs, std::move(options)));
  const auto slash = sink->options_.path.rfind('/');
  if (slash != std::string::npos && slash > 0)
    FRESHET_TRY(fs.mkdirs(sink->options_.path.substr(0, slash)));
  FRESHET_TRY(sink->open_live(sink->options_.truncate));
  return sink;
}

Status FileSink::open_live(bool truncate) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  FRESHET_ASSIGN_OR_RETURN(fd_, fs_.open(options_.path, flags, 0644));
  FRESHET_ASSIGN_OR_RETURN(size_, fs_.file_size(fd_.get()));
  opened_ms_ = wall_clock_ms();
  if (options_.format == Format::kCsv && size_ == 0) {
    for (size_t i = 0; i < options_.columns.size(); ++i) {
      if (i > 0) pending_ += ',';
      pending_ += options_.columns[i];
    }
    pending_ += '\n';
  }
  return ok();
}

void FileSink::add_row(std::string_view json_line) {
  if (options_.format == Format::kCsv) {
    append_csv(json_line);
  } else {
    pending_.append(json_line);
    pending_ += '\n';
  }
  ++pending_rows_;
}

void FileSink::append_csv(std::string_view json_line) {
  pending_ += json_row_to_csv(json_line, options_.columns);
  pending_ += '\n';
}

std::optional<FileSink::Write> FileSink::next_write() {
  if (in_flight_ || pending_.empty()) return std::nullopt;
  std::swap(in_flight_buf_, pending_);
  pending_.clear();
  in_flight_done_ = 0;
  in_flight_ = true;
  in_flight_rows_ = pending_rows_;
  pending_rows_ = 0;
  return Write{fd_.get(), in_flight_buf_.data(), in_flight_buf_.size(), size_};
}

Status FileSink::write_done(int32_t result, TimestampMs now_ms) {
  if (result < 0) {
    in_flight_ = false;
    // Keep the unwritten bytes in front of anything queued since, so no row is lost or
    // reordered; the caller decides whether to retry.
    pending_.insert(0, in_flight_buf_, in_flight_done_, std::string::npos);
    pending_rows_ += in_flight_rows_;
    return errno_error(-result, fmt::format("write {}", options_.path));
  }
  in_flight_done_ += static_cast<size_t>(result);
  size_ += static_cast<uint64_t>(result);
  if (in_flight_done_ < in_flight_buf_.size()) {
    // A short write: queue the rest first.
    pending_.insert(0, in_flight_buf_, in_flight_done_, std::string::npos);
    pending_rows_ += in_flight_rows_;
    in_flight_ = false;
    return ok();
  }
  in_flight_ = false;
  rows_written_ += in_flight_rows_;
  return maybe_rotate(now_ms);
}

std::string FileSink::rotated_name(TimestampMs now_ms) const {
  // stem.20261125T100000Z.000001.ext: sorts by time, and the sequence keeps two rotations
  // within one second apart.
  std::string ts = format_rfc3339_ms(now_ms);
  std::string compact = ts.substr(0, 4) + ts.substr(5, 2) + ts.substr(8, 5) + ts.substr(14, 2) +
                        ts.substr(17, 2) + "Z";
  const auto& path = options_.path;
  const auto slash = path.rfind('/');
  const auto dot = path.rfind('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  std::string stem = has_ext ? path.substr(0, dot) : path;
  std::string ext = has_ext ? path.substr(dot) : "";
  return fmt::format("{}.{}.{:06}{}", stem, compact, rotation_seq_ + 1, ext);
}

Status FileSink::maybe_rotate(TimestampMs now_ms) {
  const bool by_size = options_.rotate_max_bytes && size_ >= *options_.rotate_max_bytes;
  const bool by_age =
      options_.rotate_max_age && size_ > 0 && now_ms - opened_ms_ >= *options_.rotate_max_age;
  if (!by_size && !by_age) return ok();
  FRESHET_TRY(fs_.fsync(fd_.get()));
  const std::string to = rotated_name(now_ms);
  FRESHET_TRY(fs_.rename(options_.path, to));
  ++rotation_seq_;
  log::info("sink {}: rotated {} to {} ({} bytes)", options_.name, options_.path, to, size_);
  // CSV files each get their header again.
  std::string keep;
  std::swap(keep, pending_);
  FRESHET_TRY(open_live(true));
  pending_ += keep;
  return ok();
}

Status FileSink::flush_blocking() {
  if (in_flight_) return make_error(ErrorCode::kInternal, "flush with a write in flight");
  size_t done = 0;
  while (done < pending_.size()) {
    FRESHET_ASSIGN_OR_RETURN(
        size_t n, fs_.pwrite(fd_.get(), pending_.data() + done, pending_.size() - done, size_));
    done += n;
    size_ += n;
  }
  rows_written_ += pending_rows_;
  pending_rows_ = 0;
  pending_.clear();
  return fs_.fsync(fd_.get());
}

}  // namespace freshet::sinks
