#include "freshet/log/partition_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "freshet/base/assert.h"
#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "freshet/log/segment_format.h"
#include "freshet/log/segment_preparer.h"
#include "segment.h"
#include "varint.h"

namespace freshet::log {

PartitionLog::PartitionLog(io::FileSystem& fs, std::string dir, PartitionOptions options)
    : fs_(fs),
      dir_(std::move(dir)),
      options_(std::move(options)),
      jobs_(std::make_shared<JobTracker>()) {
  if (options_.index_interval_bytes == 0) options_.index_interval_bytes = 1;
}

PartitionLog::~PartitionLog() { jobs_->wait(); }

Result<std::unique_ptr<PartitionLog>> PartitionLog::open(io::FileSystem& fs, std::string dir,
                                                         PartitionOptions options) {
  std::unique_ptr<PartitionLog> log(new PartitionLog(fs, std::move(dir), std::move(options)));
  FRESHET_TRY(fs.mkdirs(log->dir_));
  FRESHET_ASSIGN_OR_RETURN(log->dir_fd_, fs.open(log->dir_, O_RDONLY | O_DIRECTORY, 0));
  FRESHET_TRY(log->recover());
  return log;
}

TimestampMs PartitionLog::now() const {
  return options_.clock ? options_.clock() : wall_clock_ms();
}

Offset PartitionLog::start_offset() const { return segments_.front()->base; }

uint64_t PartitionLog::size_bytes() const {
  uint64_t total = 0;
  for (const auto& s : segments_) total += s->used;
  return total;
}

Result<Offset> PartitionLog::append(std::string& batch) {
  if (failure_) [[unlikely]]
    return tl::unexpected(*failure_);
  FRESHET_DCHECK(batch.size() >= kBatchHeaderSize);
  const TimestampMs t = now();
  {
    const Segment& s = *segments_.back();
    const bool full = s.used + batch.size() > s.capacity();
    const bool old =
        options_.segment_age && s.used > 0 && t - s.first_append_ms >= *options_.segment_age;
    if (full || old) [[unlikely]] {
      if (batch.size() > options_.segment_bytes)
        return make_error(ErrorCode::kInvalidArgument,
                          "a batch of {} bytes does not fit in a segment of {} bytes", batch.size(),
                          options_.segment_bytes);
      if (s.used > 0) FRESHET_TRY(roll());
    }
  }
  Segment& s = *segments_.back();
  const Offset base = end_;
  char* b = batch.data();
  set_base_offset(b, base);
  detail::store_be<int32_t>(b + kPartitionLeaderEpochOffset, 0);
  if (s.used - s.last_indexed_pos >= options_.index_interval_bytes && s.used > 0)
    s.add_entry(static_cast<uint32_t>(base - s.base), static_cast<uint32_t>(s.used), s.max_ts);
  // Into the page cache with pwrite, not a store into the mapping: the first store into each
  // fresh page of a mapped file takes a fault that has ext4 zero the page before the copy
  // (a third of a Nexmark run's CPU went there, with pre-faulting on another thread), while
  // the write path fills whole pages without zeroing them. Readers still read the mapping:
  // both are the same page-cache pages.
  FRESHET_TRY(fs_.pwrite(s.log->fd.get(), b, batch.size(), s.used));
  s.used += batch.size();
  end_ = base + (detail::load_be<int32_t>(b + kLastOffsetDeltaOffset) + 1);
  s.next = end_;
  s.max_ts = std::max(s.max_ts, detail::load_be<int64_t>(b + kMaxTimestampOffset));
  if (s.first_append_ms == 0) s.first_append_ms = t;
  s.last_append_ms = t;
  last_append_ms_ = t;
  if (options_.durable_on_append) {
    durable_end_ = end_;
    sync_requested_ = end_;
    if (!waiters_.empty()) notify_durable();
  }
  maybe_prepare_next(s);
  return base;
}

void PartitionLog::set_durable_on_append(bool on) {
  options_.durable_on_append = on;
  if (on) {
    sync_requested_ = end_;
    complete_sync(end_);
  }
}

PartitionLog::SyncRequest PartitionLog::prepare_sync() {
  SyncRequest r;
  r.fds = std::move(unsynced_sealed_fds_);
  unsynced_sealed_fds_.clear();
  r.keep_alive = std::move(unsynced_sealed_);
  unsynced_sealed_.clear();
  r.datasync.assign(r.fds.size(), true);
  r.fds.push_back(segments_.back()->log->fd.get());
  r.datasync.push_back(true);
  r.keep_alive.push_back(segments_.back()->log);
  if (dir_unsynced_) {
    // New segment files were created or renamed into place since the last sync: their
    // directory entries must be durable before any offset inside them can be.
    r.fds.push_back(dir_fd_.get());
    r.datasync.push_back(false);
    dir_unsynced_ = false;
  }
  r.end = end_;
  sync_requested_ = end_;
  return r;
}

void PartitionLog::complete_sync(Offset end) {
  if (failure_ || end <= durable_end_) return;
  durable_end_ = end;
  notify_durable();
}

void PartitionLog::notify_durable() {
  if (waiters_.empty()) return;
  // Collect first: a callback may append or wait again, which touches waiters_.
  std::vector<shard::UniqueFunction<void(Status)>> ready;
  while (!waiters_.empty() && waiters_.begin()->first < durable_end_) {
    ready.push_back(std::move(waiters_.begin()->second));
    waiters_.erase(waiters_.begin());
  }
  for (auto& f : ready) f(ok());
}

void PartitionLog::when_durable(Offset last, shard::UniqueFunction<void(Status)> done) {
  if (failure_) return done(tl::unexpected(*failure_));
  if (last < durable_end_) return done(ok());
  waiters_.emplace(last, std::move(done));
}

void PartitionLog::fail(Error e) {
  if (failure_) return;
  log::error("{}: partition failed: {}", dir_, e.message);
  failure_ = std::move(e);
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& [offset, f] : waiters) f(tl::unexpected(*failure_));
}

Status PartitionLog::close() {
  jobs_->wait();  // a preparation may still be writing the temporary files
  if (prepared_ && prepared_->state.load(std::memory_order_acquire) == PreparedSegment::kReady)
    for (const auto& f : {prepared_->log, prepared_->index, prepared_->timeindex})
      FRESHET_TRY(fs_.unlink(f->path));
  prepared_.reset();
  if (segments_.empty() || failure_) return ok();
  Segment& s = *segments_.back();
  if (!s.sealed) {
    // Under `fsync: never` durability is the kernel's writeback, at a clean stop too: a
    // blocking fsync of everything still dirty would make stopping take as long as the disk
    // needs (about a second per GB here) for no promise the policy makes.
    const bool sync = !options_.durable_on_append;
    if (sync) FRESHET_TRY(fs_.fsync(s.log->fd.get()));
    FRESHET_TRY(fs_.ftruncate(s.log->fd.get(), s.used));
    if (sync) FRESHET_TRY(fs_.fsync(s.log->fd.get()));
    FRESHET_TRY(fs_.ftruncate(s.index->fd.get(), s.entries * kOffsetIndexEntrySize));
    FRESHET_TRY(fs_.ftruncate(s.timeindex->fd.get(), s.entries * kTimeIndexEntrySize));
    if (sync) {
      FRESHET_TRY(fs_.fsync(s.index->fd.get()));
      FRESHET_TRY(fs_.fsync(s.timeindex->fd.get()));
      FRESHET_TRY(fs_.fsync_dir(dir_));
    }
    s.sealed = true;
  }
  return ok();
}

size_t PartitionLog::segment_for(Offset offset) const {
  // The last segment whose base is <= offset.
  auto it =
      std::upper_bound(segments_.begin(), segments_.end(), offset,
                       [](Offset o, const std::unique_ptr<Segment>& s) { return o < s->base; });
  return it == segments_.begin() ? 0 : static_cast<size_t>(it - segments_.begin()) - 1;
}

const Segment* PartitionLog::segment_at(uint64_t absolute) const {
  if (absolute < removed_segments_ || absolute - removed_segments_ >= segments_.size())
    return nullptr;
  return segments_[absolute - removed_segments_].get();
}

namespace {

// The position an index entry names, if the batch header there agrees with it; else the
// segment start. Recovery checks a sealed index only at its end, so an entry in the middle
// may be damaged: one header read keeps a lookup from landing inside a batch.
size_t checked_position(const Segment& s, IndexEntry e) {
  if (e.pos == 0) return 0;
  const char* p = s.data() + e.pos;
  if (e.pos + kBatchHeaderSize <= s.used && p[kMagicOffset] == kMagicV2 &&
      BatchView::peek_base_offset(p) == s.base + e.rel)
    return e.pos;
  warn("{}: index entry ({}, {}) does not match the segment; scanning from its start", s.log->path,
       e.rel, e.pos);
  return 0;
}

}  // namespace

Result<std::optional<Offset>> PartitionLog::offset_for_time(TimestampMs t) const {
  if (failure_) return tl::unexpected(*failure_);
  for (const auto& s : segments_) {
    if (s->max_ts < t) continue;  // timestamps may go back: the first segment that reaches t
    size_t pos = checked_position(*s, s->last_entry_before_time(t));
    while (pos < s->used) {
      const char* p = s->data() + pos;
      if (BatchView::peek_base_offset(p) >= durable_end_) return std::nullopt;
      if (detail::load_be<int64_t>(p + kMaxTimestampOffset) >= t)
        return BatchView::peek_base_offset(p);
      pos += size_t{BatchView::peek_batch_length(p)} + 12;
    }
  }
  return std::nullopt;
}

PartitionLog::Reader::Reader(const PartitionLog& log)
    : log_(&log), segment_(log.removed_segments_), next_offset_(log.start_offset()) {}

Status PartitionLog::Reader::seek(Offset offset) {
  if (log_->failure_) return tl::unexpected(*log_->failure_);
  if (offset > log_->end_)
    return make_error(ErrorCode::kInvalidArgument,
                      "{}: offset {} is beyond the end of the partition ({})", log_->dir_, offset,
                      log_->end_);
  offset = std::max(offset, log_->start_offset());
  size_t idx = log_->segment_for(offset);
  const Segment* s = log_->segments_[idx].get();
  size_t pos = checked_position(*s, s->floor_entry(static_cast<uint32_t>(offset - s->base)));
  while (pos < s->used) {
    const char* p = s->data() + pos;
    const Offset last =
        BatchView::peek_base_offset(p) + detail::load_be<int32_t>(p + kLastOffsetDeltaOffset);
    if (last >= offset) break;
    pos += size_t{BatchView::peek_batch_length(p)} + 12;
  }
  segment_ = log_->removed_segments_ + idx;
  pos_ = pos;
  next_offset_ = offset;
  return ok();
}

Result<std::optional<BatchView>> PartitionLog::Reader::next() {
  if (log_->failure_) [[unlikely]]
    return tl::unexpected(*log_->failure_);
  for (;;) {
    const Segment* s = log_->segment_at(segment_);
    if (s == nullptr) {
      if (segment_ < log_->removed_segments_)
        return make_error(ErrorCode::kNotFound,
                          "{}: offset {} is out of range: retention deleted it (the partition "
                          "now starts at {})",
                          log_->dir_, next_offset_, log_->start_offset());
      return std::nullopt;
    }
    if (pos_ < s->used) {
      const char* p = s->data() + pos_;
      if (BatchView::peek_base_offset(p) >= log_->durable_end_) return std::nullopt;
      // The fast path: a batch this process appended needs no CRC pass (see
      // Segment::verified_below); what was on disk at open does.
      auto batch = pos_ >= s->verified_below ? BatchView::parse_own(p, s->used - pos_)
                                             : BatchView::parse(p, s->used - pos_);
      if (!batch)
        return tl::unexpected(
            std::move(batch.error()).context(fmt::format("{} at byte {}", s->log->path, pos_)));
      pos_ += batch->size();
      next_offset_ = batch->last_offset() + 1;
      return *batch;
    }
    if (!s->sealed || segment_ + 1 - log_->removed_segments_ >= log_->segments_.size())
      return std::nullopt;
    ++segment_;
    pos_ = 0;
  }
}

size_t PartitionLog::Reader::readable_after(const char* p) const {
  const Segment* s = log_->segment_at(segment_);
  if (s == nullptr) return 0;
  const char* base = s->data();
  const size_t limit = mapped_readable(s->used, s->capacity());
  if (p < base || p > base + limit) return 0;
  return static_cast<size_t>(base + limit - p);
}

}  // namespace freshet::log
