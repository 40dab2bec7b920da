#include "journal.h"

#include <fcntl.h>
#include <fmt/format.h>

#include <charconv>
#include <string_view>

namespace freshet::server {
namespace {

// Parses the integer at `text[pos]` and moves past it.
template <typename T>
bool integer(std::string_view text, size_t& pos, T& out) {
  if (pos >= text.size()) return false;
  auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), out);
  if (ec != std::errc()) return false;
  pos = static_cast<size_t>(end - text.data());
  return true;
}

bool expect(std::string_view text, size_t& pos, std::string_view what) {
  if (text.substr(pos, what.size()) != what) return false;
  pos += what.size();
  return true;
}

// The line format is fixed (JournalWriter writes it), so this reads exactly that shape
// rather than general JSON.
bool parse_record(std::string_view line, JournalRecord& out) {
  size_t pos = 0;
  uint32_t shard = 0;
  if (!expect(line, pos, "{\"shard\":") || !integer(line, pos, shard)) return false;
  if (expect(line, pos, ",\"release\":")) {
    if (!integer(line, pos, out.wm)) return false;
    out.kind = JournalRecord::Kind::kRelease;
  } else if (expect(line, pos, ",\"idle\":")) {
    out.kind = JournalRecord::Kind::kIdle;
  } else if (expect(line, pos, ",\"active\":")) {
    out.kind = JournalRecord::Kind::kActive;
  } else if (expect(line, pos, ",\"resume\":")) {
    out.kind = JournalRecord::Kind::kResume;
  } else {
    out.kind = JournalRecord::Kind::kStep;
  }
  const bool has_partition =
      out.kind != JournalRecord::Kind::kStep && out.kind != JournalRecord::Kind::kRelease;
  if (has_partition && !integer(line, pos, out.partition)) return false;
  const bool has_wm =
      out.kind == JournalRecord::Kind::kStep || out.kind == JournalRecord::Kind::kResume;
  if (has_wm && (!expect(line, pos, ",\"wm\":") || !integer(line, pos, out.wm))) return false;
  if (!expect(line, pos, ",\"at_offsets\":{")) return false;
  while (!expect(line, pos, "}")) {
    if (!out.at_offsets.empty() && !expect(line, pos, ",")) return false;
    int32_t partition = 0;
    int64_t offset = 0;
    if (!expect(line, pos, "\"") || !integer(line, pos, partition) || !expect(line, pos, "\":") ||
        !integer(line, pos, offset))
      return false;
    out.at_offsets.emplace_back(partition, Offset(offset));
  }
  return expect(line, pos, "}") && pos == line.size();
}

}  // namespace

std::string journal_path(const std::string& data_dir, const std::string& query, ShardId shard) {
  return fmt::format("{}/journal/{}.{}.jsonl", data_dir, query, shard.value());
}

std::string topic_end_path(const std::string& data_dir, const std::string& topic,
                           int32_t partition) {
  return fmt::format("{}/journal/ended/{}.{}", data_dir, topic, partition);
}

Status record_topic_end(io::FileSystem& fs, const std::string& data_dir, const std::string& topic,
                        const std::vector<int32_t>& partitions) {
  const std::string dir = data_dir + "/journal/ended";
  FRESHET_TRY(fs.mkdirs(dir));
  for (int32_t p : partitions)
    FRESHET_TRY(fs.open(topic_end_path(data_dir, topic, p), O_WRONLY | O_CREAT | O_CLOEXEC));
  return fs.fsync_dir(dir);
}

Status clear_topic_end(io::FileSystem& fs, const std::string& data_dir, const std::string& topic,
                       int32_t partitions) {
  for (int32_t p = 0; p < partitions; ++p) {
    const std::string path = topic_end_path(data_dir, topic, p);
    FRESHET_ASSIGN_OR_RETURN(bool there, fs.exists(path));
    if (there) FRESHET_TRY(fs.unlink(path));
  }
  return ok();
}

Result<JournalWriter> JournalWriter::open(io::FileSystem& fs, const std::string& path,
                                          bool truncate) {
  FRESHET_TRY(fs.mkdirs(path.substr(0, path.rfind('/'))));
  FRESHET_ASSIGN_OR_RETURN(
      auto fd, fs.open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0)));
  FRESHET_ASSIGN_OR_RETURN(uint64_t end, fs.file_size(fd.get()));
  return JournalWriter(fs, std::move(fd), path, end);
}

Status JournalWriter::append(ShardId shard, const JournalRecord& record) {
  std::string line = fmt::format("{{\"shard\":{}", shard.value());
  switch (record.kind) {
    case JournalRecord::Kind::kStep:
      fmt::format_to(std::back_inserter(line), ",\"wm\":{}", record.wm);
      break;
    case JournalRecord::Kind::kRelease:
      fmt::format_to(std::back_inserter(line), ",\"release\":{}", record.wm);
      break;
    case JournalRecord::Kind::kIdle:
      fmt::format_to(std::back_inserter(line), ",\"idle\":{}", record.partition);
      break;
    case JournalRecord::Kind::kActive:
      fmt::format_to(std::back_inserter(line), ",\"active\":{}", record.partition);
      break;
    case JournalRecord::Kind::kResume:
      fmt::format_to(std::back_inserter(line), ",\"resume\":{},\"wm\":{}", record.partition,
                     record.wm);
      break;
  }
  line += ",\"at_offsets\":{";
  for (size_t i = 0; i < record.at_offsets.size(); ++i)
    fmt::format_to(std::back_inserter(line), "{}\"{}\":{}", i == 0 ? "" : ",",
                   record.at_offsets[i].first, record.at_offsets[i].second.value());
  line += "}}\n";
  FRESHET_ASSIGN_OR_RETURN(size_t wrote, fs_->pwrite(fd_.get(), line.data(), line.size(), end_));
  if (wrote != line.size())
    return make_error(ErrorCode::kIo, "{}: wrote {} of {} bytes", path_, wrote, line.size());
  end_ += line.size();
  dirty_ = true;
  return ok();
}

Status JournalWriter::sync() {
  if (!dirty_) return ok();
  dirty_ = false;
  return fs_->fdatasync(fd_.get());
}

Result<std::vector<JournalRecord>> read_journal(io::FileSystem& fs, const std::string& path) {
  std::vector<JournalRecord> records;
  FRESHET_ASSIGN_OR_RETURN(bool exists, fs.exists(path));
  if (!exists) return records;
  FRESHET_ASSIGN_OR_RETURN(auto fd, fs.open(path, O_RDONLY | O_CLOEXEC));
  FRESHET_ASSIGN_OR_RETURN(uint64_t size, fs.file_size(fd.get()));
  std::string text(size, '\0');
  FRESHET_ASSIGN_OR_RETURN(size_t got, fs.pread(fd.get(), text.data(), text.size(), 0));
  text.resize(got);
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // torn tail: never acted on
    ++line_no;
    JournalRecord record;
    if (!parse_record(std::string_view(text).substr(pos, nl - pos), record))
      return make_error(ErrorCode::kCorruption, "{} line {}: not a journal record", path, line_no);
    records.push_back(std::move(record));
    pos = nl + 1;
  }
  return records;
}

}  // namespace freshet::server
