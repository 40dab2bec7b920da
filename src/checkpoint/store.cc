#include "freshet/checkpoint/store.h"

#include <fcntl.h>

#include <algorithm>
#include <charconv>

#include "freshet/base/crc32c.h"
#include "freshet/base/log.h"

namespace freshet::checkpoint {
namespace {

constexpr std::string_view kManifest = "MANIFEST";
constexpr std::string_view kCurrent = "CURRENT";
constexpr std::string_view kTmpSuffix = ".tmp";

// Parses a canonical decimal epoch ("0", "17"; not "017" or "+1"), so that a directory name
// and epoch_path() always agree.
std::optional<uint64_t> parse_epoch(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_not_found(const Error& e) { return e.code == ErrorCode::kNotFound; }

}  // namespace

Result<std::string> read_file(io::FileSystem& fs, const std::string& path) {
  FRESHET_ASSIGN_OR_RETURN(io::UniqueFd fd, fs.open(path, O_RDONLY));
  FRESHET_ASSIGN_OR_RETURN(uint64_t size, fs.file_size(fd.get()));
  std::string out(size, '\0');
  FRESHET_ASSIGN_OR_RETURN(size_t n, fs.pread(fd.get(), out.data(), out.size(), 0));
  out.resize(n);  // a file that shrank meanwhile; callers validate lengths themselves
  return out;
}

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::open(io::FileSystem& fs,
                                                               std::string dir) {
  FRESHET_TRY(fs.mkdirs(dir));
  FRESHET_TRY(fs.fsync_dir(parent_dir(dir)));
  return std::unique_ptr<CheckpointStore>(new CheckpointStore(fs, std::move(dir)));
}

std::string CheckpointStore::epoch_path(uint64_t epoch) const {
  return fmt::format("{}/{}", dir_, epoch);
}

Result<std::string> CheckpointStore::epoch_dir(uint64_t epoch) {
  std::string path = epoch_path(epoch);
  FRESHET_ASSIGN_OR_RETURN(bool existed, fs_.exists(path));
  if (!existed) {
    FRESHET_TRY(fs_.mkdirs(path));
    FRESHET_TRY(fs_.fsync_dir(dir_));
  }
  return path;
}

Status CheckpointStore::write_durable(const std::string& path, std::string_view bytes,
                                      const std::function<void()>& before_rename) {
  const std::string tmp = path + std::string(kTmpSuffix);
  {
    FRESHET_ASSIGN_OR_RETURN(io::UniqueFd fd, fs_.open(tmp, O_WRONLY | O_CREAT | O_TRUNC));
    FRESHET_TRY(fs_.pwrite(fd.get(), bytes.data(), bytes.size(), 0));
    FRESHET_TRY(fs_.fsync(fd.get()));
  }
  if (before_rename) before_rename();
  FRESHET_TRY(fs_.rename(tmp, path));
  return fs_.fsync_dir(parent_dir(path));
}

Result<StateFileEntry> CheckpointStore::write_state_file(uint64_t epoch, ShardId shard,
                                                         const std::string& file,
                                                         std::string_view bytes) {
  if (file.empty() || file.find('/') != std::string::npos || file == "." || file == ".." ||
      file == kManifest || ends_with(file, kTmpSuffix)) {
    return make_error(ErrorCode::kInvalidArgument, "state file name \"{}\" is not allowed", file);
  }
  FRESHET_ASSIGN_OR_RETURN(std::string dir, epoch_dir(epoch));
  FRESHET_TRY(write_durable(dir + "/" + file, bytes));
  return StateFileEntry{shard, file, bytes.size(), crc32c(0, bytes.data(), bytes.size())};
}

Status CheckpointStore::commit(const Manifest& m, const std::function<void()>& before_rename) {
  FRESHET_ASSIGN_OR_RETURN(std::string dir, epoch_dir(m.epoch));
  // The rename inside write_durable is the commit; the directory fsync after it makes the
  // commit survive a power cut.
  FRESHET_TRY(write_durable(dir + "/" + std::string(kManifest), encode(m), before_rename)
                  .map_error([&](Error e) { return std::move(e).context("commit manifest"); }));
  return write_durable(dir_ + "/" + std::string(kCurrent), fmt::format("{}\n", m.epoch))
      .map_error([&](Error e) {
        return std::move(e).context(
            fmt::format("epoch {} is committed, but updating CURRENT failed", m.epoch));
      });
}

Result<std::vector<uint64_t>> CheckpointStore::epoch_dirs() {
  FRESHET_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.list_dir(dir_));
  std::vector<uint64_t> epochs;
  for (const std::string& name : names) {
    if (auto e = parse_epoch(name)) epochs.push_back(*e);
  }
  std::sort(epochs.begin(), epochs.end());
  return epochs;
}

Result<std::optional<Manifest>> CheckpointStore::read_manifest(uint64_t epoch) {
  const std::string path = epoch_path(epoch) + "/" + std::string(kManifest);
  auto text = read_file(fs_, path);
  if (!text) {
    if (is_not_found(text.error())) return std::nullopt;  // never committed
    return tl::unexpected<Error>(std::move(text).error());
  }
  auto m = decode(*text);
  if (!m) {
    log::warn("checkpoint {}: ignoring damaged {}: {}", epoch, path, m.error().message);
    return std::nullopt;
  }
  if (m->epoch != epoch) {
    log::warn("checkpoint {}: ignoring {}, which names epoch {}", epoch, path, m->epoch);
    return std::nullopt;
  }
  return std::move(*m);
}

Result<std::optional<Manifest>> CheckpointStore::latest() {
  FRESHET_ASSIGN_OR_RETURN(std::vector<uint64_t> epochs, epoch_dirs());
  for (auto it = epochs.rbegin(); it != epochs.rend(); ++it) {
    FRESHET_ASSIGN_OR_RETURN(std::optional<Manifest> m, read_manifest(*it));
    if (m) return m;
  }
  return std::nullopt;
}

Result<std::vector<uint64_t>> CheckpointStore::committed_epochs() {
  FRESHET_ASSIGN_OR_RETURN(std::vector<uint64_t> epochs, epoch_dirs());
  std::vector<uint64_t> committed;
  for (uint64_t e : epochs) {
    FRESHET_ASSIGN_OR_RETURN(std::optional<Manifest> m, read_manifest(e));
    if (m) committed.push_back(e);
  }
  return committed;
}

Status CheckpointStore::remove_epoch(uint64_t epoch) {
  const std::string dir = epoch_path(epoch);
  if (auto r = fs_.unlink(dir + "/" + std::string(kManifest)); !r) {
    if (!is_not_found(r.error())) return r;
  } else {
    FRESHET_TRY(fs_.fsync_dir(dir));
  }
  FRESHET_TRY(fs_.remove_all(dir));
  return fs_.fsync_dir(dir_);
}

Status CheckpointStore::remove_incomplete() {
  FRESHET_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.list_dir(dir_));
  for (const std::string& name : names) {
    const std::string path = dir_ + "/" + name;
    if (ends_with(name, kTmpSuffix)) {
      FRESHET_TRY(fs_.unlink(path));
      continue;
    }
    std::optional<uint64_t> epoch = parse_epoch(name);
    if (!epoch) continue;
    FRESHET_ASSIGN_OR_RETURN(std::optional<Manifest> m, read_manifest(*epoch));
    if (m) {
      // A committed epoch may still hold the temporary of a commit that was redone.
      const std::string tmp = path + "/" + std::string(kManifest) + std::string(kTmpSuffix);
      if (auto r = fs_.unlink(tmp); !r && !is_not_found(r.error())) return r;
      continue;
    }
    log::info("checkpoint {}: removing incomplete epoch directory {}", *epoch, path);
    FRESHET_TRY(fs_.remove_all(path));
  }
  return fs_.fsync_dir(dir_);
}

Result<std::string> CheckpointStore::read_state_file(const Manifest& m, ShardId shard) {
  auto it = std::find_if(m.state_files.begin(), m.state_files.end(),
                         [&](const StateFileEntry& s) { return s.shard == shard; });
  if (it == m.state_files.end()) {
    return make_error(ErrorCode::kNotFound, "checkpoint {} has no state file for shard {}", m.epoch,
                      shard);
  }
  const std::string path = epoch_path(m.epoch) + "/" + it->file;
  FRESHET_ASSIGN_OR_RETURN(std::string bytes, read_file(fs_, path));
  if (bytes.size() != it->bytes) {
    return make_error(ErrorCode::kCorruption, "{}: {} bytes, the manifest says {}", path,
                      bytes.size(), it->bytes);
  }
  const uint32_t crc = crc32c(0, bytes.data(), bytes.size());
  if (crc != it->crc32c) {
    return make_error(ErrorCode::kCorruption, "{}: crc32c {}, the manifest says {}", path, crc,
                      it->crc32c);
  }
  return bytes;
}

Result<std::optional<uint64_t>> CheckpointStore::current() {
  auto text = read_file(fs_, dir_ + "/" + std::string(kCurrent));
  if (!text) {
    if (is_not_found(text.error())) return std::nullopt;
    return tl::unexpected<Error>(std::move(text).error());
  }
  std::string_view s = *text;
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  std::optional<uint64_t> epoch = parse_epoch(s);
  if (!epoch) return make_error(ErrorCode::kCorruption, "{}/CURRENT is damaged", dir_);
  return epoch;
}

}  // namespace freshet::checkpoint
