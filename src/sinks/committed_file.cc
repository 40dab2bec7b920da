#include "freshet/sinks/committed_file.h"

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

#include "freshet/base/log.h"
#include "freshet/base/time.h"

namespace freshet::sinks {
namespace {

// Copy and compare in pieces this large, so a big epoch never needs its whole output in
// memory.
constexpr size_t kChunk = 256 * 1024;

std::optional<uint64_t> parse_epoch(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

tl::unexpected<Error> corrupt(const std::string& path, std::string_view what) {
  return make_error(ErrorCode::kCorruption, "{}: {}", path, what);
}

// The bytes publish() appends after the committed prefix: the header (when the live file
// starts empty), then the first staging_length bytes of the staging file. Reads any range.
class Appendix {
 public:
  Appendix(io::FileSystem& fs, std::string_view header, int staging_fd)
      : fs_(fs), header_(header), staging_fd_(staging_fd) {}

  Status read(uint64_t from, char* out, size_t len) {
    if (from < header_.size()) {
      const size_t n = std::min<uint64_t>(len, header_.size() - from);
      std::memcpy(out, header_.data() + from, n);
      from += n;
      out += n;
      len -= n;
    }
    if (len == 0) return ok();
    FRESHET_ASSIGN_OR_RETURN(size_t got, fs_.pread(staging_fd_, out, len, from - header_.size()));
    if (got != len) return corrupt(io::fd_path(staging_fd_), "staging file shrank");
    return ok();
  }

 private:
  io::FileSystem& fs_;
  std::string_view header_;
  int staging_fd_;
};

}  // namespace

CommittedFile::CommittedFile(io::FileSystem& fs, CommittedFileOptions options)
    : fs_(fs), options_(std::move(options)) {
  const size_t slash = options_.path.rfind('/');
  dir_ = slash == std::string::npos ? "." : options_.path.substr(0, std::max<size_t>(slash, 1));
  const std::string name =
      slash == std::string::npos ? options_.path : options_.path.substr(slash + 1);
  staging_dir_ = dir_ + "/." + name + ".pending";
}

CommittedFile::~CommittedFile() = default;

Result<std::unique_ptr<CommittedFile>> CommittedFile::open(
    io::FileSystem& fs, CommittedFileOptions options, const checkpoint::SinkFileEntry* committed) {
  if (options.path.empty() || options.path.back() == '/') {
    return make_error(ErrorCode::kInvalidArgument, "sink file path \"{}\" names no file",
                      options.path);
  }
  if (committed != nullptr && committed->live_path != options.path) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sink file {}: the manifest entry is for {} instead", options.path,
                      committed->live_path);
  }
  std::unique_ptr<CommittedFile> f(new CommittedFile(fs, std::move(options)));
  FRESHET_TRY(fs.mkdirs(f->staging_dir_));
  FRESHET_TRY(fs.fsync_dir(f->dir_));

  if (committed != nullptr) {
    // Only the committed epoch's staging file is still needed, to redo its publish; newer
    // ones belong to epochs that never committed, older ones were already published.
    FRESHET_TRY(f->remove_staging_except(committed->staging_path));
    FRESHET_ASSIGN_OR_RETURN(f->committed_length_, f->redo_publish(*committed));
    f->last_precommitted_ = committed->epoch;
  } else {
    // Nothing was ever published by a checkpoint: what is in the live file stays.
    FRESHET_TRY(f->remove_staging_except(""));
    FRESHET_ASSIGN_OR_RETURN(bool exists, fs.exists(f->options_.path));
    if (exists) {
      FRESHET_ASSIGN_OR_RETURN(io::UniqueFd fd, fs.open(f->options_.path, O_RDONLY));
      FRESHET_ASSIGN_OR_RETURN(f->committed_length_, fs.file_size(fd.get()));
    }
  }
  f->projected_length_ = f->committed_length_;
  return f;
}

std::string CommittedFile::staging_path(uint64_t epoch) const {
  return fmt::format("{}/{}", staging_dir_, epoch);
}

std::string CommittedFile::rotated_name(TimestampMs now, uint64_t epoch, uint32_t attempt) const {
  // <stem>-20261125T100000Z-000042.<ext>: sorts by time; the epoch keeps two rotations in
  // one second apart, and `attempt` any file that happens to hold the name already.
  const std::string ts = format_rfc3339_ms(now);
  const std::string compact = ts.substr(0, 4) + ts.substr(5, 2) + ts.substr(8, 5) +
                              ts.substr(14, 2) + ts.substr(17, 2) + "Z";
  const std::string& path = options_.path;
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  const std::string stem = has_ext ? path.substr(0, dot) : path;
  const std::string ext = has_ext ? path.substr(dot) : "";
  std::string name = fmt::format("{}-{}-{:06}", stem, compact, epoch);
  if (attempt > 0) name += fmt::format("-{}", attempt);
  return name + ext;
}

Status CommittedFile::remove_staging_except(const std::string& keep) {
  FRESHET_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.list_dir(staging_dir_));
  for (const std::string& name : names) {
    const std::string path = staging_dir_ + "/" + name;
    if (path == keep) continue;
    log::debug("sink file {}: removing orphan staging file {}", options_.path, path);
    FRESHET_TRY(fs_.remove_all(path));
  }
  return ok();
}

Status CommittedFile::stage(uint64_t epoch, std::string_view bytes) {
  if (last_precommitted_ && epoch <= *last_precommitted_) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sink file {}: staging rows for epoch {}, which is already sealed",
                      options_.path, epoch);
  }
  Staging& s = staging_[epoch];
  if (!s.fd) {
    // O_TRUNC: a file left by an earlier run under this epoch number never committed.
    FRESHET_ASSIGN_OR_RETURN(s.fd, fs_.open(staging_path(epoch), O_WRONLY | O_CREAT | O_TRUNC));
  }
  FRESHET_TRY(fs_.pwrite(s.fd.get(), bytes.data(), bytes.size(), s.length));
  s.length += bytes.size();
  return ok();
}

Result<checkpoint::SinkFileEntry> CommittedFile::precommit(uint64_t epoch, TimestampMs now) {
  if (last_precommitted_ && epoch <= *last_precommitted_) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sink file {}: epoch {} precommitted after epoch {}", options_.path, epoch,
                      *last_precommitted_);
  }
  checkpoint::SinkFileEntry e;
  e.sink = options_.sink;
  e.kind = options_.kind;
  e.epoch = epoch;
  e.live_path = options_.path;
  e.staging_path = staging_path(epoch);
  e.header = options_.header;
  if (auto it = staging_.find(epoch); it != staging_.end()) {
    FRESHET_TRY(fs_.fsync(it->second.fd.get()));
    FRESHET_TRY(fs_.fsync_dir(staging_dir_));  // the staging file's name must survive too
    e.staging_length = it->second.length;
    staging_.erase(it);
  }

  if (!projected_started_ms_) projected_started_ms_ = now;
  // A live file holding no more than its header has no rows worth a rotated file.
  const bool has_rows = projected_length_ > options_.header.size();
  const bool by_size = options_.rotate_max_bytes && projected_length_ >= *options_.rotate_max_bytes;
  const bool by_age =
      options_.rotate_max_age && now - *projected_started_ms_ >= *options_.rotate_max_age;
  e.live_length = projected_length_;
  uint64_t base = projected_length_;
  if (has_rows && (by_size || by_age)) {
    for (uint32_t attempt = 0;; ++attempt) {
      e.rotate_to = rotated_name(now, epoch, attempt);
      FRESHET_ASSIGN_OR_RETURN(bool taken, fs_.exists(e.rotate_to));
      if (!taken) break;
    }
    base = 0;
    projected_started_ms_ = now;
  }
  projected_length_ = base + (base == 0 ? e.header.size() : 0) + e.staging_length;
  last_precommitted_ = epoch;
  return e;
}

Status CommittedFile::publish(const checkpoint::SinkFileEntry& entry) {
  if (entry.live_path != options_.path) {
    return make_error(ErrorCode::kInvalidArgument, "sink file {}: publishing an entry for {}",
                      options_.path, entry.live_path);
  }
  FRESHET_ASSIGN_OR_RETURN(committed_length_, redo_publish(entry));
  return ok();
}

Result<uint64_t> CommittedFile::redo_publish(const checkpoint::SinkFileEntry& e) {
  const std::string& live = e.live_path;
  if (!e.rotate_to.empty()) {
    FRESHET_ASSIGN_OR_RETURN(bool rotated, fs_.exists(e.rotate_to));
    if (!rotated) {
      // The rotated file must hold exactly the committed prefix: it is never written again.
      FRESHET_ASSIGN_OR_RETURN(io::UniqueFd fd, fs_.open(live, O_RDWR));
      FRESHET_ASSIGN_OR_RETURN(uint64_t size, fs_.file_size(fd.get()));
      if (size < e.live_length) {
        return corrupt(live, fmt::format("{} bytes, but {} were committed", size, e.live_length));
      }
      if (size > e.live_length) {
        FRESHET_TRY(fs_.ftruncate(fd.get(), e.live_length));
        FRESHET_TRY(fs_.fdatasync(fd.get()));
      }
      FRESHET_TRY(fs_.rename(live, e.rotate_to));
      FRESHET_TRY(fs_.fsync_dir(dir_));
      log::info("sink file {}: rotated to {} ({} bytes)", live, e.rotate_to, e.live_length);
    }
  }
  const uint64_t base = e.rotate_to.empty() ? e.live_length : 0;
  const std::string_view header = base == 0 ? std::string_view(e.header) : std::string_view();
  const uint64_t appendix = header.size() + e.staging_length;
  const uint64_t final_length = base + appendix;

  io::UniqueFd staging;
  if (e.staging_length > 0) {
    FRESHET_ASSIGN_OR_RETURN(staging, fs_.open(e.staging_path, O_RDONLY));
    FRESHET_ASSIGN_OR_RETURN(uint64_t have, fs_.file_size(staging.get()));
    if (have < e.staging_length) {
      return corrupt(e.staging_path,
                     fmt::format("{} bytes, but {} were staged", have, e.staging_length));
    }
  }
  Appendix expected(fs_, header, staging.get());

  FRESHET_ASSIGN_OR_RETURN(bool existed, fs_.exists(live));
  FRESHET_ASSIGN_OR_RETURN(io::UniqueFd fd, fs_.open(live, O_RDWR | O_CREAT));
  FRESHET_ASSIGN_OR_RETURN(uint64_t size, fs_.file_size(fd.get()));
  if (size < base) {
    return corrupt(live, fmt::format("{} bytes, but {} were committed", size, base));
  }

  // Keep whatever a cut-short earlier publish already wrote correctly, so a reader that has
  // seen those bytes is not shown a truncation; only wrong or surplus bytes go.
  std::vector<char> want(kChunk), have(kChunk);
  uint64_t done = 0;
  const uint64_t comparable = std::min(size, final_length) - base;
  while (done < comparable) {
    const size_t n = std::min<uint64_t>(kChunk, comparable - done);
    FRESHET_TRY(expected.read(done, want.data(), n));
    FRESHET_ASSIGN_OR_RETURN(size_t got, fs_.pread(fd.get(), have.data(), n, base + done));
    auto mismatch =
        std::mismatch(want.begin(), want.begin() + static_cast<ptrdiff_t>(got), have.begin());
    done += static_cast<uint64_t>(mismatch.first - want.begin());
    if (mismatch.first != want.begin() + static_cast<ptrdiff_t>(n)) break;
  }
  if (size > base + done) {
    log::warn("sink file {}: dropping {} bytes that epoch {} did not commit", live,
              size - base - done, e.epoch);
    FRESHET_TRY(fs_.ftruncate(fd.get(), base + done));
  }
  while (done < appendix) {
    const size_t n = std::min<uint64_t>(kChunk, appendix - done);
    FRESHET_TRY(expected.read(done, want.data(), n));
    FRESHET_TRY(fs_.pwrite(fd.get(), want.data(), n, base + done));
    done += n;
  }
  FRESHET_TRY(fs_.fdatasync(fd.get()));
  // A new live file (first one, or after a rotation) must not vanish in a power cut.
  if (!existed || base == 0) FRESHET_TRY(fs_.fsync_dir(dir_));
  return final_length;
}

Status CommittedFile::forget_before(uint64_t epoch) {
  FRESHET_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.list_dir(staging_dir_));
  for (const std::string& name : names) {
    std::optional<uint64_t> e = parse_epoch(name);
    if (!e || *e >= epoch || staging_.count(*e) != 0) continue;
    if (auto r = fs_.unlink(staging_dir_ + "/" + name);
        !r && r.error().code != ErrorCode::kNotFound) {
      return r;
    }
  }
  return ok();
}

}  // namespace freshet::sinks
