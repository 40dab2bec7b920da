// Segment files: creating them (inline, or ahead of need on the SegmentPreparer), rolling to
// the next one, sealing the old one, and pre-faulting the active one ahead of the appender.

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "freshet/log/partition_log.h"
#include "freshet/log/segment_format.h"
#include "freshet/log/segment_preparer.h"
#include "segment.h"

namespace freshet::log {
namespace {

std::string prepared_path(const std::string& dir, std::string_view suffix) {
  return fmt::format("{}/{}{}{}", dir, kPreparedStem, suffix, kTempSuffix);
}

}  // namespace

std::string segment_file_name(Offset base) {
  return fmt::format("{:020}{}", base.value(), kLogSuffix);
}
std::string index_file_name(Offset base) {
  return fmt::format("{:020}{}", base.value(), kIndexSuffix);
}
std::string time_index_file_name(Offset base) {
  return fmt::format("{:020}{}", base.value(), kTimeIndexSuffix);
}

Result<std::shared_ptr<MappedFile>> open_mapped(io::FileSystem& fs, const std::string& path,
                                                uint64_t size, bool truncate, bool exclusive,
                                                Sizing sizing) {
  auto f = std::make_shared<MappedFile>();
  f->path = path;
  int flags = O_RDWR | O_CREAT | (truncate ? O_TRUNC : 0) | (exclusive ? O_EXCL : 0);
  FRESHET_ASSIGN_OR_RETURN(f->fd, fs.open(path, flags, 0644));
  Status st = [&]() -> Status {
    FRESHET_ASSIGN_OR_RETURN(f->file_size, fs.file_size(f->fd.get()));
    if (sizing == Sizing::kReserve)
      FRESHET_TRY(fs.reserve(f->fd.get(), size));
    else if (f->file_size < size)
      FRESHET_TRY(fs.fallocate(f->fd.get(), 0, size));
    if (size > 0) {
      FRESHET_ASSIGN_OR_RETURN(f->map, fs.map(f->fd.get(), size, true));
    }
    return ok();
  }();
  if (!st) {
    // A file this call created exclusively must not stay behind half made: a retry would
    // find it and fail.
    if (exclusive) (void)fs.unlink(path);
    return tl::unexpected(std::move(st).error());
  }
  return f;
}

size_t mapped_readable(size_t used, size_t capacity) {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return std::min(capacity, (used + page - 1) / page * page);
}

void protect_read_only(const io::MappedRegion& map) {
  if (map) (void)::mprotect(map.data(), map.size(), PROT_READ);
}

Result<std::unique_ptr<Segment>> PartitionLog::create_segment_inline(Offset base) {
  auto s = std::make_unique<Segment>();
  s->base = base;
  s->next = base;
  const size_t cap = index_capacity(options_.segment_bytes, options_.index_interval_bytes);
  const std::string log_path = fmt::format("{}/{}", dir_, segment_file_name(base));
  FRESHET_ASSIGN_OR_RETURN(
      s->log, open_mapped(fs_, log_path, options_.segment_bytes, false, true, Sizing::kReserve));
  auto indexes = [&]() -> Status {
    FRESHET_ASSIGN_OR_RETURN(s->index,
                             open_mapped(fs_, fmt::format("{}/{}", dir_, index_file_name(base)),
                                         cap * kOffsetIndexEntrySize, true, false, Sizing::kGrow));
    FRESHET_ASSIGN_OR_RETURN(
        s->timeindex, open_mapped(fs_, fmt::format("{}/{}", dir_, time_index_file_name(base)),
                                  cap * kTimeIndexEntrySize, true, false, Sizing::kGrow));
    return ok();
  }();
  if (!indexes) {
    (void)fs_.unlink(log_path);  // so that a retry can create the segment again
    return tl::unexpected(std::move(indexes).error());
  }
  // The directory entries become durable with the next sync (prepare_sync adds the
  // directory), before any offset in the new file can count as durable.
  dir_unsynced_ = true;
  return s;
}

Status PartitionLog::roll() {
  std::unique_ptr<Segment> next;
  if (prepared_ && prepared_->state.load(std::memory_order_acquire) == PreparedSegment::kReady) {
    // The common case: the preparer made the files ahead of need; renaming them into place
    // and swapping is all the shard does.
    std::shared_ptr<PreparedSegment> p = std::move(prepared_);
    auto s = std::make_unique<Segment>();
    s->base = end_;
    s->next = end_;
    const std::string index_path = fmt::format("{}/{}", dir_, index_file_name(end_));
    const std::string time_path = fmt::format("{}/{}", dir_, time_index_file_name(end_));
    const std::string log_path = fmt::format("{}/{}", dir_, segment_file_name(end_));
    FRESHET_TRY(fs_.rename(p->index->path, index_path));
    FRESHET_TRY(fs_.rename(p->timeindex->path, time_path));
    FRESHET_TRY(fs_.rename(p->log->path, log_path));
    p->index->path = index_path;
    p->timeindex->path = time_path;
    p->log->path = log_path;
    s->log = std::move(p->log);
    s->index = std::move(p->index);
    s->timeindex = std::move(p->timeindex);
    dir_unsynced_ = true;
    next = std::move(s);
    ++stats_.rolls_prepared;
  } else {
    if (prepared_ && prepared_->state.load(std::memory_order_acquire) == PreparedSegment::kFailed) {
      warn("{}: preparing the next segment failed ({}); creating it inline", dir_,
           prepared_->error ? prepared_->error->message : "unknown");
      prepared_.reset();
    }
    // A pending preparation stays in prepared_ and serves the roll after this one.
    prepare_early_ = true;
    FRESHET_ASSIGN_OR_RETURN(next, create_segment_inline(end_));
    ++stats_.rolls_inline;
  }
  FRESHET_TRY(seal(*segments_.back()));
  segments_.push_back(std::move(next));
  ++stats_.rolls;
  return ok();
}

Status PartitionLog::seal(Segment& s) {
  s.sealed = true;
  // Read-only in place rather than re-mapped: batch views handed out before the seal keep
  // pointing at valid memory.
  protect_read_only(s.log->map);
  protect_read_only(s.index->map);
  protect_read_only(s.timeindex->map);
  unsynced_sealed_.push_back(s.log);
  unsynced_sealed_fds_.push_back(s.log->fd.get());
  // Trim the files to what they hold. Off the shard when possible: ftruncate of a large
  // preallocated file frees extents and journals. If a crash comes first, recovery trims.
  auto trim = [fs = &fs_, log = s.log, index = s.index, timeindex = s.timeindex, used = s.used,
               entries = s.entries]() -> Status {
    FRESHET_TRY(fs->ftruncate(log->fd.get(), used));
    FRESHET_TRY(fs->ftruncate(index->fd.get(), entries * kOffsetIndexEntrySize));
    FRESHET_TRY(fs->ftruncate(timeindex->fd.get(), entries * kTimeIndexEntrySize));
    return ok();
  };
  if (options_.preparer == nullptr) return trim();
  jobs_->begin();
  options_.preparer->submit([trim = std::move(trim), jobs = jobs_]() mutable {
    if (auto st = trim(); !st) warn("sealing a segment: {}", st.error().message);
    jobs->end();
  });
  return ok();
}

void PartitionLog::maybe_prepare_next(Segment& active) {
  if (options_.preparer == nullptr || prepared_) return;
  // Half full is early enough at ordinary rates and keeps at most half a segment of
  // prepared memory per partition on average. A partition whose roll once had to create its
  // segment inline fills segments faster than the preparer can make them: it starts at the
  // first append from then on.
  const bool half_full = active.used >= (prepare_early_ ? 0 : active.capacity() / 2);
  const bool half_old = options_.segment_age && active.first_append_ms != 0 &&
                        last_append_ms_ - active.first_append_ms >= *options_.segment_age / 2;
  if (!half_full && !half_old) return;
  auto slot = std::make_shared<PreparedSegment>();
  prepared_ = slot;
  const size_t cap = index_capacity(options_.segment_bytes, options_.index_interval_bytes);
  jobs_->begin();
  options_.preparer->submit(
      [slot, fs = &fs_, dir = dir_, bytes = options_.segment_bytes, cap, jobs = jobs_] {
        auto make = [&](std::string_view suffix, uint64_t size, Sizing sizing,
                        std::shared_ptr<MappedFile>& out) -> Status {
          // O_TRUNC: a leftover from a crash is garbage, and its blocks are released first.
          FRESHET_ASSIGN_OR_RETURN(
              out, open_mapped(*fs, prepared_path(dir, suffix), size, true, false, sizing));
          return ok();
        };
        Status st = make(kLogSuffix, bytes, Sizing::kReserve, slot->log);
        if (st) st = make(kIndexSuffix, cap * kOffsetIndexEntrySize, Sizing::kGrow, slot->index);
        if (st)
          st = make(kTimeIndexSuffix, cap * kTimeIndexEntrySize, Sizing::kGrow, slot->timeindex);
        if (!st) slot->error = st.error();
        slot->state.store(st ? PreparedSegment::kReady : PreparedSegment::kFailed,
                          std::memory_order_release);
        jobs->end();
      },
      /*urgent=*/true);
}

}  // namespace freshet::log
