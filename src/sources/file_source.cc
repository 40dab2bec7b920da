#include "freshet/sources/file_source.h"

#include <fcntl.h>
#include <glob.h>

#include <algorithm>
#include <atomic>
#include <chrono>

#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "freshet/sources/source_position.h"

namespace freshet::sources {
namespace {
constexpr size_t kReadSize = 1 << 20;
// Batches of up to 256 KiB: the log appends each with one pwrite, and the kernel's cost per
// byte falls by a third from 64 KiB writes to 256 KiB ones (log_bench). Still far below a
// segment (1 MiB at least) and Kafka's default max.message.bytes (1 MiB).
constexpr size_t kBatchBytes = 256 << 10;
// Open batches are handed over after a full read only past this many bytes in all: with
// many partitions each one's batch would otherwise stay open, and small, for many reads.
constexpr size_t kMaxOpenBytes = 2 << 20;
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kBackoff = std::chrono::milliseconds(1);
}  // namespace

Result<std::vector<std::string>> expand_glob(const std::string& pattern) {
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &g);
  std::vector<std::string> out;
  if (rc == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH)
    return make_error(ErrorCode::kIo, "cannot expand `{}` (glob error {})", pattern, rc);
  return out;  // glob sorts its matches
}

FileSource::FileSource(shard::Shard& shard, io::FileSystem& fs, FileSourceOptions options,
                       Deliver deliver, Backlogged backlogged, std::function<void()> on_finished)
    : shard_(shard),
      fs_(fs),
      options_(std::move(options)),
      deliver_(std::move(deliver)),
      backlogged_(std::move(backlogged)),
      on_finished_(std::move(on_finished)),
      batcher_(
          options_.key_field, options_.partitions,
          [this](int32_t p, std::string&& b, uint32_t n) { deliver_(p, std::move(b), n); },
          kBatchBytes) {}

FileSource::~FileSource() { stopped_ = true; }

Status FileSource::start() {
  FRESHET_ASSIGN_OR_RETURN(files_, expand_glob(options_.pattern));
  if (files_.empty() && options_.bounded)
    return make_error(ErrorCode::kNotFound, "source `{}`: no file matches `{}`", options_.name,
                      options_.pattern);
  if (files_.empty()) {
    // Unbounded: wait for the file to appear.
    shard_.schedule_after(kPollInterval, [this] { (void)start(); });
    return ok();
  }
  FRESHET_ASSIGN_OR_RETURN(const bool resumed, resume());
  if (!resumed) {
    // read_from: end starts at the end of the last file, like `tail -F -n0`.
    file_index_ = options_.read_from_beginning ? 0 : files_.size() - 1;
    offset_ = 0;
    FRESHET_ASSIGN_OR_RETURN(fd_, fs_.open(files_[file_index_], O_RDONLY | O_CLOEXEC, 0));
    if (!options_.read_from_beginning) {
      FRESHET_ASSIGN_OR_RETURN(offset_, fs_.file_size(fd_.get()));
    }
    batcher_.track_positions(options_.name, files_[file_index_], offset_);
    batcher_.begin_file(files_[file_index_], offset_);
  }
  log::info("source {}: reading {} file(s) matching {}", options_.name, files_.size(),
            options_.pattern);
  read_next();
  return ok();
}

size_t FileSource::file_at_or_after(const std::string& path) const {
  // glob(3) sorts with strcoll, which is strcmp order in the C locale freshet runs in.
  return static_cast<size_t>(std::lower_bound(files_.begin(), files_.end(), path) - files_.begin());
}

Result<bool> FileSource::resume() {
  std::optional<FilePosition> origin;
  std::optional<FilePosition> lowest;
  std::vector<uint64_t> holds(static_cast<size_t>(options_.partitions), 0);
  bool all = options_.resume_from.size() >= holds.size();
  for (size_t p = 0; p < options_.resume_from.size(); ++p) {
    if (!options_.resume_from[p]) {
      all = false;
      continue;
    }
    FRESHET_ASSIGN_OR_RETURN(auto pos, FilePosition::decode(*options_.resume_from[p]));
    if (origin &&
        (origin->origin_path != pos.origin_path || origin->origin_offset != pos.origin_offset))
      return make_error(ErrorCode::kCorruption,
                        "source `{}`: partitions disagree on where the stream began: `{}` and `{}`",
                        options_.name, origin->encode(), pos.encode());
    if (p < holds.size()) holds[p] = pos.line;
    if (!lowest || pos.line < lowest->line) lowest = pos;
    if (!origin) origin = std::move(pos);
  }
  if (!origin) return false;
  // A partition with no position holds nothing yet: read it from the stream's origin.
  FilePosition from = all ? *lowest : *origin;
  if (!all) {
    from.line = 0;
    from.path = origin->origin_path;
    from.offset = origin->origin_offset;
  }
  file_index_ = file_at_or_after(from.path);
  offset_ = from.offset;
  if (file_index_ >= files_.size() || files_[file_index_] != from.path) {
    // The file was removed: its unread lines are gone, and the line numbers of what follows
    // no longer match the first run's.
    log::warn("source {}: {} was removed; resuming at the next file", options_.name, from.path);
    offset_ = 0;
    if (file_index_ >= files_.size()) file_index_ = files_.size() - 1;
  }
  FRESHET_ASSIGN_OR_RETURN(fd_, fs_.open(files_[file_index_], O_RDONLY | O_CLOEXEC, 0));
  batcher_.track_positions(options_.name, origin->origin_path, origin->origin_offset);
  batcher_.resume_at(from.line, std::move(holds));
  batcher_.begin_file(files_[file_index_], offset_);
  log::info("source {}: resuming at line {} ({} byte {})", options_.name, from.line,
            files_[file_index_], offset_);
  return true;
}

bool FileSource::any_backlogged() const {
  for (int32_t p = 0; p < options_.partitions; ++p)
    if (backlogged_(p)) return true;
  return false;
}

void FileSource::read_next() {
  if (stopped_ || finished_ || reading_) return;
  if (any_backlogged()) {
    shard_.schedule_after(kBackoff, [this] { read_next(); });
    return;
  }
  reading_ = true;
  reading_buf_ = free_buffer();
  shard_.ring().read(fd_.get(), reading_buf_->data(), static_cast<unsigned>(reading_buf_->size()),
                     offset_, this);
}

std::shared_ptr<std::vector<char>> FileSource::free_buffer() {
  for (const auto& b : buffers_) {
    if (b.use_count() == 1) {
      // The other shards' last reads of it happened before they let go of it.
      std::atomic_thread_fence(std::memory_order_acquire);
      return b;
    }
  }
  buffers_.push_back(std::make_shared<std::vector<char>>(kReadSize));
  return buffers_.back();
}

void FileSource::complete(int32_t res, uint32_t) {
  reading_ = false;
  if (stopped_) return;
  if (res < 0) {
    error_ = fmt::format("source {}: reading {}: {}", options_.name, files_[file_index_],
                         std::strerror(-res));
    log::error("{}", error_);
    finish();
    return;
  }
  const TimestampMs now = wall_clock_ms();
  if (res > 0) {
    at_end_ = false;
    const std::shared_ptr<std::vector<char>> done = std::move(reading_buf_);
    offset_ += static_cast<uint64_t>(res);
    read_next();  // the next read runs while these lines are batched
    batcher_.feed(std::string_view(done->data(), static_cast<size_t>(res)), now, done);
    // A full read means more is there and its read is already under way: batches stay open
    // to fill up (fewer, larger appends). A short one means the reader caught up with the
    // file: hand over everything, latency over batch size.
    if (static_cast<size_t>(res) < done->size() || batcher_.open_bytes() >= kMaxOpenBytes)
      batcher_.flush();
    return;
  }
  // End of this file.
  if (file_index_ + 1 < files_.size()) {
    batcher_.end_of_file(now);
    next_file();
    return;
  }
  if (options_.bounded) {
    batcher_.end_of_file(now);
    batcher_.flush();
    finish();
    return;
  }
  at_end_ = true;
  batcher_.flush();  // the last read may have been a full one
  shard_.schedule_after(kPollInterval, [this] { read_next(); });
}

void FileSource::next_file() {
  ++file_index_;
  auto fd = fs_.open(files_[file_index_], O_RDONLY | O_CLOEXEC, 0);
  if (!fd) {
    error_ = fmt::format("source {}: {}", options_.name, fd.error().message);
    log::error("{}", error_);
    finish();
    return;
  }
  fd_ = std::move(*fd);
  offset_ = 0;
  batcher_.begin_file(files_[file_index_], 0);
  read_next();
}

void FileSource::finish() {
  if (finished_) return;
  finished_ = true;
  log::info("source {}: {} lines read from {} file(s)", options_.name, batcher_.lines(),
            files_.size());
  if (on_finished_) on_finished_();
}

}  // namespace freshet::sources
