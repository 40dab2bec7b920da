// Start-up recovery: find the segments, trust each index up to its last entry that agrees
// with the segment, check the batches after it (all of them with validate_sealed_segments),
// repair what a crash can leave behind (a torn tail, an untrimmed sealed segment, a prepared
// or empty next segment, missing or stale indexes), and fail the partition, without
// truncating anything, on corruption that a crash cannot explain.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "freshet/log/partition_log.h"
#include "freshet/log/segment_format.h"
#include "segment.h"
#include "varint.h"

namespace freshet::log {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "<20 digits><suffix>" -> the base offset.
std::optional<int64_t> parse_base(std::string_view name, std::string_view suffix) {
  if (name.size() != 20 + suffix.size() || !ends_with(name, suffix)) return std::nullopt;
  int64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    v = v * 10 + (name[i] - '0');
  }
  return v;
}

TimestampMs mtime_ms(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 0;
  return static_cast<TimestampMs>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

// Why the batch at `p` is not the one expected there, or empty if it is.
std::string check_batch(const char* p, size_t available, Offset expect, size_t* size) {
  auto b = BatchView::parse(p, available);
  if (!b) return b.error().message;
  if (b->base_offset() != expect)
    return fmt::format("base offset {} where {} was expected", b->base_offset(), expect);
  if (detail::load_be<int32_t>(p + kPartitionLeaderEpochOffset) != 0)
    return fmt::format("partition leader epoch {} where 0 was expected",
                       detail::load_be<int32_t>(p + kPartitionLeaderEpochOffset));
  *size = b->size();
  return {};
}

// The first position after `from` (and before `nonzero`, where the non-zero bytes end) where
// a whole, CRC-valid batch with an offset at or after `expect` starts, if any: a torn tail is
// followed by nothing valid.
std::optional<size_t> find_valid_batch_after(const char* data, size_t from, size_t nonzero,
                                             size_t size, Offset expect) {
  for (size_t q = from + 1; q + kMagicOffset < nonzero && q + kBatchHeaderSize <= size; ++q) {
    if (data[q + kMagicOffset] != kMagicV2) continue;
    const uint32_t len = BatchView::peek_batch_length(data + q);
    if (len < kMinBatchLength || q + 12 + size_t{len} > size) continue;
    auto b = BatchView::parse(data + q, size - q);
    if (b && b->base_offset() >= expect) return q;
  }
  return std::nullopt;
}

// Whether a whole page-aligned page of zeros lies in [from, to): the mark of a write that
// never reached the disk (a page written back later than the ones after it), which no bit
// flip produces.
bool has_zero_page(const char* data, size_t from, size_t to) {
  constexpr size_t kPage = 4096;
  for (size_t p = (from + kPage - 1) / kPage * kPage; p + kPage <= to; p += kPage) {
    bool zero = true;
    for (size_t i = 0; i < kPage && zero; i += 8) {
      uint64_t w;
      std::memcpy(&w, data + p + i, 8);
      zero = w == 0;
    }
    if (zero) return true;
  }
  return false;
}

// One past the last non-zero byte in [from, end), or `from` if all are zero.
size_t nonzero_end(const char* data, size_t from, size_t end) {
  size_t i = end;
  while (i > from && (i - from) % 8 != 0 && data[i - 1] == 0) --i;
  while (i - from >= 8) {
    uint64_t w;
    std::memcpy(&w, data + i - 8, 8);
    if (w != 0) break;
    i -= 8;
  }
  while (i > from && data[i - 1] == 0) --i;
  return i;
}

}  // namespace

Status PartitionLog::recover() {
  FRESHET_ASSIGN_OR_RETURN(auto names, fs_.list_dir(dir_));
  std::vector<int64_t> bases;
  for (const auto& name : names)
    if (auto b = parse_base(name, kLogSuffix)) bases.push_back(*b);
  std::sort(bases.begin(), bases.end());
  for (const auto& name : names) {
    // A segment prepared but never rolled into place, or indexes whose segment is gone
    // (retention deletes indexes first, so a crash can leave only those behind).
    auto ib = parse_base(name, kIndexSuffix);
    auto tb = parse_base(name, kTimeIndexSuffix);
    const bool orphan = (ib && !std::binary_search(bases.begin(), bases.end(), *ib)) ||
                        (tb && !std::binary_search(bases.begin(), bases.end(), *tb));
    if (ends_with(name, kTempSuffix) || orphan) {
      info("{}: removing {} left by an interrupted roll or deletion", dir_, name);
      FRESHET_TRY(fs_.unlink(fmt::format("{}/{}", dir_, name)));
    }
  }
  for (size_t i = 0; i < bases.size(); ++i) {
    auto s = std::make_unique<Segment>();
    s->base = Offset(bases[i]);
    const Offset expected = segments_.empty() ? s->base : segments_.back()->next;
    Status st = recover_segment(*s, i + 1 == bases.size(), expected);
    segments_.push_back(std::move(s));
    if (!st) return st;
    if (failed()) break;
  }
  // A crash between creating the next segment and writing into it leaves an empty last
  // segment. If it does not start where the previous one ends (that one lost an unsynced
  // tail), it is not the next segment: drop it and make the previous one active again.
  if (!failed() && segments_.size() >= 2) {
    Segment& tail = *segments_.back();
    const Offset prev_next = segments_[segments_.size() - 2]->next;
    if (tail.base != prev_next && tail.used > 0) {
      fail(Error{ErrorCode::kCorruption,
                 fmt::format("{}: the segment starts at offset {} but the previous one ends at "
                             "{}; the partition is marked failed",
                             tail.log->path, tail.base, prev_next),
                 0});
    } else if (tail.base != prev_next) {
      warn("{}: removing empty segment {} that does not follow offset {}", dir_, tail.log->path,
           prev_next);
      for (const auto& f : {tail.index, tail.timeindex, tail.log}) FRESHET_TRY(fs_.unlink(f->path));
      segments_.pop_back();
      auto s = std::make_unique<Segment>();
      s->base = segments_.back()->base;
      segments_.pop_back();
      Status st = recover_segment(*s, true, s->base);
      segments_.push_back(std::move(s));
      if (!st) return st;
    }
  }
  if (segments_.empty()) {
    FRESHET_ASSIGN_OR_RETURN(auto s, create_segment_inline(Offset(0)));
    segments_.push_back(std::move(s));
  }
  end_ = segments_.back()->next;
  // What recovery read back may still sit only in the page cache (after kill -9, say): make it
  // durable before calling it durable.
  if (!failed() && segments_.back()->used > 0)
    FRESHET_TRY(fs_.fdatasync(segments_.back()->log->fd.get()));
  durable_end_ = end_;
  sync_requested_ = end_;
  return ok();
}

Status PartitionLog::recover_segment(Segment& s, bool last, Offset expected_base) {
  const std::string path = fmt::format("{}/{}", dir_, segment_file_name(s.base));
  FRESHET_ASSIGN_OR_RETURN(auto fd, fs_.open(path, O_RDWR, 0));
  FRESHET_ASSIGN_OR_RETURN(const uint64_t file_size, fs_.file_size(fd.get()));
  auto file = std::make_shared<MappedFile>();
  file->path = path;
  file->file_size = file_size;
  uint64_t map_size = file_size;
  if (last && file_size < options_.segment_bytes) {
    // The active segment takes appends again: room for them, the file still ending at its
    // data (Sizing::kReserve). Segments written before that sizing are full-size files with
    // a zero tail, which the scan below reads as the end of the data.
    FRESHET_TRY(fs_.reserve(fd.get(), options_.segment_bytes));
    map_size = options_.segment_bytes;
  }
  if (map_size > 0) {
    FRESHET_ASSIGN_OR_RETURN(file->map, fs_.map(fd.get(), map_size, last));
  }
  file->fd = std::move(fd);
  s.log = std::move(file);
  const char* data = s.log->map ? s.data() : nullptr;
  // Batches can only lie within the file's bytes; the mapping past them faults.
  const size_t data_size = static_cast<size_t>(std::min(file_size, map_size));

  const size_t cap = index_capacity(std::max<uint64_t>(map_size, 1), options_.index_interval_bytes);
  FRESHET_ASSIGN_OR_RETURN(s.index,
                           open_mapped(fs_, fmt::format("{}/{}", dir_, index_file_name(s.base)),
                                       cap * kOffsetIndexEntrySize, false, false, Sizing::kGrow));
  FRESHET_ASSIGN_OR_RETURN(
      s.timeindex, open_mapped(fs_, fmt::format("{}/{}", dir_, time_index_file_name(s.base)),
                               cap * kTimeIndexEntrySize, false, false, Sizing::kGrow));
  const size_t on_disk = std::min(
      {static_cast<size_t>(s.index->file_size / kOffsetIndexEntrySize),
       static_cast<size_t>(s.timeindex->file_size / kTimeIndexEntrySize), s.index_capacity()});

  // 1. The structurally sound prefix of the index pair: strictly increasing offsets and
  // positions inside the data, matching time entries, timestamps that never decrease.
  size_t sound = 0;
  {
    IndexEntry prev;
    TimestampMs prev_ts = kMinTimestamp;
    for (; sound < on_disk; ++sound) {
      const IndexEntry e = s.entry(sound);
      const char* t =
          reinterpret_cast<const char*>(s.timeindex->map.data()) + sound * kTimeIndexEntrySize;
      const TimestampMs ts = detail::load_be<int64_t>(t);
      if (e.rel <= prev.rel || e.pos <= prev.pos || e.pos + kBatchHeaderSize > data_size ||
          detail::load_be<uint32_t>(t + 8) != e.rel || ts < prev_ts)
        break;
      prev = e;
      prev_ts = ts;
    }
  }
  if (last && sound > 0) {
    // The active segment may have lost pages in the middle of its unsynced part, under
    // entries that still look right. Walk the batch headers (no CRC: one cache line per
    // batch) from the start and trust only the entries the walk lands on exactly.
    size_t wpos = 0, agree = 0;
    Offset wexp = s.base;
    while (agree < sound && wpos + 12 <= data_size) {
      const IndexEntry e = s.entry(agree);
      if (wpos == e.pos) {
        if (s.base + e.rel != wexp) break;
        ++agree;
        continue;
      }
      if (wpos > e.pos) break;
      const uint32_t len = BatchView::peek_batch_length(data + wpos);
      if (len < kMinBatchLength || wpos + 12 + size_t{len} > data_size ||
          wpos + kBatchHeaderSize > data_size || BatchView::peek_base_offset(data + wpos) != wexp)
        break;
      wexp = wexp + (detail::load_be<int32_t>(data + wpos + kLastOffsetDeltaOffset) + 1);
      wpos += 12 + size_t{len};
    }
    sound = agree;
  }
  size_t written = sound;  // entries present in the file, sound or not (for the log line)
  while (written < on_disk && (s.entry(written).rel != 0 || s.entry(written).pos != 0)) ++written;
  s.entries = sound;
  // 2. The last of those that points at a valid batch with the offset it claims.
  size_t trusted = sound;
  while (trusted > 0) {
    const IndexEntry e = s.entry(trusted - 1);
    size_t size = 0;
    if (check_batch(data + e.pos, data_size - e.pos, s.base + e.rel, &size).empty()) break;
    --trusted;
  }
  const bool full = !last && options_.validate_sealed_segments;
  const size_t keep = full ? 0 : trusted;
  s.drop_entries_from(keep);
  s.last_indexed_pos = keep == 0 ? 0 : s.entry(keep - 1).pos;
  size_t pos = 0;
  Offset expect = expected_base;
  TimestampMs max_ts = kMinTimestamp;
  if (s.base != expected_base && !last) {  // the caller judges a last segment
    fail(Error{ErrorCode::kCorruption,
               fmt::format("{}: the segment starts at offset {} but the previous one ends at {}; "
                           "the partition is marked failed",
                           path, s.base, expected_base),
               0});
    return ok();
  }
  expect = s.base;
  if (keep > 0) {
    const IndexEntry e = s.entry(keep - 1);
    pos = e.pos;
    expect = s.base + e.rel;
    max_ts = s.entry_time(keep - 1);
  }

  // 3. Scan, check and index the batches after the trusted entry.
  const uint32_t interval = options_.index_interval_bytes;
  // Bytes [from, end) were never acknowledged as durable: zero them, so that no later scan
  // takes them for batches, and report them.
  auto drop = [&](size_t from, size_t end, std::string_view what) -> Status {
    dropped_ += end - from;
    warn("{}: dropped {} bytes at byte {}: {}", path, end - from, from, what);
    std::memset(s.data() + from, 0, end - from);
    return s.log->map.sync(from, end - from);
  };
  while (data != nullptr && pos + 12 <= data_size) {
    const char* p = data + pos;
    if (BatchView::peek_batch_length(p) == 0 && BatchView::peek_base_offset(p) == Offset(0)) {
      // Zeros: the end of the data. Bytes after it were written without the bytes before
      // them reaching the disk (unsynced, unacknowledged); clear them so that they can never
      // be mistaken for batches later.
      if (last) {
        const size_t nz = nonzero_end(data, pos, data_size);
        if (nz > pos) FRESHET_TRY(drop(pos, nz, "unsynced bytes after a gap"));
      }
      break;
    }
    size_t size = 0;
    std::string why = check_batch(p, data_size - pos, expect, &size);
    if (!why.empty()) {
      const size_t nz = nonzero_end(data, pos, data_size);
      std::optional<size_t> later;
      if (last) later = find_valid_batch_after(data, pos, nz, data_size, expect);
      // Valid batches after a page that never reached the disk were never acknowledged
      // either (an fsync covers every page before them): a torn tail, however long.
      const bool lost_write = later && has_zero_page(data, pos, *later);
      if (!last || (later && !lost_write)) {
        // Valid data after a bad batch is not a torn tail: refuse to serve or truncate it.
        fail(Error{ErrorCode::kCorruption,
                   fmt::format("{} is corrupt at byte {}: {}{}; the partition is marked failed "
                               "and nothing was truncated",
                               path, pos, why,
                               later ? fmt::format(" (a valid batch follows at byte {})", *later)
                                     : std::string()),
                   0});
        return ok();
      }
      // A torn tail: the last write did not complete, so it was never acknowledged as durable.
      FRESHET_TRY(drop(pos, nz, fmt::format("a torn tail ({})", why)));
      break;
    }
    const auto rel = static_cast<uint32_t>(expect - s.base);
    if (pos > 0 && pos - s.last_indexed_pos >= interval)
      s.add_entry(rel, static_cast<uint32_t>(pos), max_ts);
    max_ts = std::max(max_ts, detail::load_be<int64_t>(p + kMaxTimestampOffset));
    expect = expect + (detail::load_be<int32_t>(p + kLastOffsetDeltaOffset) + 1);
    pos += size;
  }
  // Fewer bytes than a batch header after the last batch: a write cut short. (The file ends
  // at its data now, so the scan above can stop short of a header.)
  if (last && data != nullptr && pos < data_size && pos + 12 > data_size) {
    if (const size_t nz = nonzero_end(data, pos, data_size); nz > pos)
      FRESHET_TRY(drop(pos, nz, "a torn tail shorter than a batch header"));
  }
  s.used = pos;
  s.verified_below = pos;
  s.next = expect;
  s.max_ts = max_ts;
  s.sealed = !last;
  s.last_append_ms = mtime_ms(s.log->fd.get());
  if (last) {
    s.first_append_ms = s.used > 0 ? now() : 0;
  }

  const bool rebuilt = trusted != written || s.entries != written;
  if (rebuilt) {
    ++stats_.index_rebuilds;
    info("{}: rebuilt the index of {} ({} entries were on disk, {} checked out, {} now)", dir_,
         segment_file_name(s.base), written, trusted, s.entries);
  }
  if (rebuilt) {
    FRESHET_TRY(s.index->map.sync(0, std::max<size_t>(written, s.entries) * kOffsetIndexEntrySize));
    FRESHET_TRY(
        s.timeindex->map.sync(0, std::max<size_t>(written, s.entries) * kTimeIndexEntrySize));
  }
  if (!last) {
    if (file_size > s.used)
      info("{}: trimming sealed segment {} from {} to {} bytes (interrupted seal)", dir_,
           segment_file_name(s.base), file_size, s.used);
    // Also releases blocks reserved past the end by a seal the crash cut short.
    FRESHET_TRY(fs_.ftruncate(s.log->fd.get(), s.used));
    FRESHET_TRY(fs_.ftruncate(s.index->fd.get(), s.entries * kOffsetIndexEntrySize));
    FRESHET_TRY(fs_.ftruncate(s.timeindex->fd.get(), s.entries * kTimeIndexEntrySize));
    protect_read_only(s.log->map);
    protect_read_only(s.index->map);
    protect_read_only(s.timeindex->map);
  }
  return ok();
}

}  // namespace freshet::log
