#include "freshet/log/partition_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "freshet/base/assert.h"
#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "freshet/log/segment_format.h"
#include "varint.h"

namespace freshet::log {

std::string segment_file_name(Offset base) { return fmt::format("{:020}.log", base.value()); }

PartitionLog::PartitionLog(io::FileSystem& fs, std::string dir, PartitionOptions options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {}

PartitionLog::~PartitionLog() = default;

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(io::FileSystem& fs, std::string dir,
                                                         PartitionOptions options) {
  std::unique_ptr<PartitionLog> log(new PartitionLog(fs, std::move(dir), options));
  FRESHET_TRY(fs.mkdirs(log->dir_));
  FRESHET_TRY(log->recover());
  return log;
}

Result<PartitionLog::Segment> PartitionLog::create_segment(Offset base) {
  Segment s;
  s.base = base;
  s.path = fmt::format("{}/{}", dir_, segment_file_name(base));
  FRESHET_ASSIGN_OR_RETURN(s.fd, fs_.open(s.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  FRESHET_TRY(fs_.fallocate(s.fd.get(), 0, static_cast<off_t>(options_.segment_bytes)));
  FRESHET_ASSIGN_OR_RETURN(s.map, fs_.map(s.fd.get(), options_.segment_bytes, true));
  // The directory entry must be durable before any batch in the file can be.
  FRESHET_TRY(fs_.fsync_dir(dir_));
  return s;
}

Status PartitionLog::recover() {
  FRESHET_ASSIGN_OR_RETURN(auto names, fs_.list_dir(dir_));
  std::vector<std::pair<int64_t, std::string>> found;
  for (const auto& name : names) {
    if (name.size() != 24 || name.substr(20) != ".log") continue;
    char* end = nullptr;
    int64_t base = std::strtoll(name.c_str(), &end, 10);
    if (end != name.c_str() + 20) continue;
    found.emplace_back(base, name);
  }
  std::sort(found.begin(), found.end());
  for (size_t i = 0; i < found.size(); ++i) {
    const bool last = i + 1 == found.size();
    Segment s;
    s.base = Offset(found[i].first);
    s.path = fmt::format("{}/{}", dir_, found[i].second);
    FRESHET_ASSIGN_OR_RETURN(s.fd, fs_.open(s.path, O_RDWR | O_CLOEXEC, 0));
    FRESHET_ASSIGN_OR_RETURN(uint64_t size, fs_.file_size(s.fd.get()));
    if (last && size < options_.segment_bytes) {
      // The active segment was trimmed at a clean shutdown; give it room again.
      FRESHET_TRY(fs_.fallocate(s.fd.get(), 0, static_cast<off_t>(options_.segment_bytes)));
      size = options_.segment_bytes;
    }
    if (size > 0) {
      FRESHET_ASSIGN_OR_RETURN(s.map, fs_.map(s.fd.get(), size, last));
    }
    FRESHET_ASSIGN_OR_RETURN(size_t used, scan_segment(s, last));
    s.used = used;
    s.sealed = !last;
    segments_.push_back(std::move(s));
  }
  if (segments_.empty()) {
    FRESHET_ASSIGN_OR_RETURN(auto s, create_segment(Offset(0)));
    segments_.push_back(std::move(s));
    end_ = Offset(0);
  }
  durable_end_ = end_;
  sync_requested_ = end_;
  return ok();
}

Result<size_t> PartitionLog::scan_segment(Segment& s, bool last) {
  const char* base = reinterpret_cast<const char*>(s.map.data());
  const size_t size = s.map.size();
  size_t pos = 0;
  Offset expect = s.base;
  while (pos + 12 <= size) {
    const uint32_t len = BatchView::peek_batch_length(base + pos);
    if (len == 0 && BatchView::peek_base_offset(base + pos) == Offset(0)) break;  // zeroed tail
    auto batch = BatchView::parse(base + pos, size - pos);
    if (!batch || batch->base_offset() != expect) {
      std::string why =
          batch ? fmt::format("base offset {} where {} was expected", batch->base_offset(), expect)
                : batch.error().message;
      if (!last)
        return make_error(ErrorCode::kCorruption,
                          "{} at byte {}: {}; the partition is marked failed", s.path, pos, why);
      // A torn tail: everything from here was never acknowledged as durable. Zero it so the
      // next scan stops here too, and report what was dropped.
      size_t nonzero_end = pos;
      for (size_t i = size; i > pos; --i)
        if (base[i - 1] != 0) {
          nonzero_end = i;
          break;
        }
      dropped_ = nonzero_end - pos;
      if (dropped_ > 0) {
        log::warn("{}: truncated a torn tail of {} bytes at byte {} ({})", s.path, dropped_, pos,
                  why);
        std::memset(reinterpret_cast<char*>(s.map.data()) + pos, 0, nonzero_end - pos);
        FRESHET_TRY(s.map.sync(0, size));
      }
      break;
    }
    pos += batch->size();
    expect = batch->last_offset() + 1;
  }
  end_ = expect;
  return pos;
}

Offset PartitionLog::start_offset() const { return segments_.front().base; }

Status PartitionLog::roll(size_t need) {
  Segment& active = segments_.back();
  if (need > options_.segment_bytes)
    return make_error(ErrorCode::kInvalidArgument,
                      "a batch of {} bytes does not fit in a segment of {} bytes", need,
                      options_.segment_bytes);
  // Seal: trim to the used size so the file holds exactly its batches.
  FRESHET_TRY(fs_.ftruncate(active.fd.get(), static_cast<off_t>(active.used)));
  active.sealed = true;
  unsynced_sealed_fds_.push_back(active.fd.get());
  FRESHET_ASSIGN_OR_RETURN(auto s, create_segment(end_));
  segments_.push_back(std::move(s));
  return ok();
}

Result<Offset> PartitionLog::append(std::string& batch) {
  FRESHET_DCHECK(batch.size() >= kBatchHeaderSize);
  if (segments_.back().used + batch.size() > segments_.back().map.size())
    FRESHET_TRY(roll(batch.size()));
  Segment& s = segments_.back();
  const Offset base = end_;
  set_base_offset(batch.data(), base);
  std::memcpy(reinterpret_cast<char*>(s.map.data()) + s.used, batch.data(), batch.size());
  s.used += batch.size();
  const auto count = detail::load_be<int32_t>(batch.data() + kRecordCountOffset);
  end_ = base + count;
  last_append_ms_ = wall_clock_ms();
  if (options_.durable_on_append) {
    durable_end_ = end_;
    sync_requested_ = end_;
  }
  return base;
}

PartitionLog::SyncRequest PartitionLog::prepare_sync() {
  SyncRequest r;
  r.fds = std::move(unsynced_sealed_fds_);
  unsynced_sealed_fds_.clear();
  r.fds.push_back(segments_.back().fd.get());
  r.end = end_;
  sync_requested_ = end_;
  return r;
}

void PartitionLog::complete_sync(Offset end) {
  if (end > durable_end_) durable_end_ = end;
}

Status PartitionLog::close() {
  if (segments_.empty()) return ok();
  Segment& s = segments_.back();
  if (!s.sealed && s.fd) {
    FRESHET_TRY(fs_.fsync(s.fd.get()));
    FRESHET_TRY(fs_.ftruncate(s.fd.get(), static_cast<off_t>(s.used)));
    FRESHET_TRY(fs_.fsync(s.fd.get()));
    s.sealed = true;
  }
  return ok();
}

PartitionLog::Reader::Reader(const PartitionLog& log)
    : log_(&log), next_offset_(log.start_offset()) {}

Result<std::optional<BatchView>> PartitionLog::Reader::next() {
  while (segment_ < log_->segments_.size()) {
    const Segment& s = log_->segments_[segment_];
    if (pos_ < s.used) {
      const char* p = reinterpret_cast<const char*>(s.map.data()) + pos_;
      if (BatchView::peek_base_offset(p) >= log_->durable_end_) return std::nullopt;
      auto batch = BatchView::parse(p, s.used - pos_);
      if (!batch) return tl::unexpected(std::move(batch.error()).context(s.path));
      pos_ += batch->size();
      next_offset_ = batch->last_offset() + 1;
      return *batch;
    }
    if (!s.sealed || segment_ + 1 == log_->segments_.size()) return std::nullopt;
    ++segment_;
    pos_ = 0;
  }
  return std::nullopt;
}

size_t PartitionLog::Reader::readable_after(const char* p) const {
  const Segment& s = log_->segments_[std::min(segment_, log_->segments_.size() - 1)];
  const char* base = reinterpret_cast<const char*>(s.map.data());
  // A sealed segment's file ends at `used`: pages of the mapping past the file's last page
  // would fault with SIGBUS, so only the rest of that page counts as readable.
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t limit =
      s.sealed ? std::min(s.map.size(), (s.used + page - 1) / page * page) : s.map.size();
  if (p < base || p > base + limit) return 0;
  return static_cast<size_t>(base + limit - p);
}

}  // namespace freshet::log
