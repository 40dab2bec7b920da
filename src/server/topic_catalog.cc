#include "freshet/server/topic_catalog.h"

#include <fcntl.h>
#include <simdjson.h>

#include <algorithm>

#include "freshet/base/time.h"

namespace freshet::server {

bool valid_topic_name(const std::string& name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string TopicCatalog::topic_dir(const std::string& topic) const {
  return fmt::format("{}/topics/{}", data_dir_, topic);
}

std::string TopicCatalog::partition_dir(const std::string& topic, int32_t p) const {
  return fmt::format("{}/{}", topic_dir(topic), p);
}

namespace {

std::string encode(const TopicMeta& m) {
  const auto& t = m.config;
  return fmt::format(
      "{{\"version\":{},\"name\":\"{}\",\"partitions\":{},\"key\":\"{}\",\"segment_bytes\":{},"
      "\"fsync\":\"{}\",\"fsync_interval_ms\":{},\"created\":\"{}\"}}\n",
      kTopicMetaVersion, t.name, t.partitions, t.key_field, t.segment_bytes,
      config::to_string(t.fsync), t.fsync_interval, format_rfc3339_ms(m.created_ms));
}

Result<TopicMeta> decode(const std::string& path, const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto bad = [&](std::string_view what) {
    return make_error(ErrorCode::kCorruption, "{}: {}", path, what);
  };
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) return bad("not valid JSON");
  int64_t version = 0, partitions = 0, fsync_interval = 0;
  uint64_t segment_bytes = 0;
  std::string_view name, key, fsync, created;
  if (doc["version"].get(version) || version != kTopicMetaVersion)
    return bad(fmt::format("unsupported version (this build reads version {})", kTopicMetaVersion));
  if (doc["name"].get(name) || doc["partitions"].get(partitions) || doc["key"].get(key) ||
      doc["segment_bytes"].get(segment_bytes) || doc["fsync"].get(fsync) ||
      doc["fsync_interval_ms"].get(fsync_interval) || doc["created"].get(created))
    return bad("a field is missing or has the wrong type");
  if (partitions < 1 || partitions > 100000) return bad("partitions out of range");
  TopicMeta m;
  m.config.name = std::string(name);
  m.config.partitions = static_cast<int32_t>(partitions);
  m.config.key_field = std::string(key);
  m.config.segment_bytes = segment_bytes;
  if (fsync == "always")
    m.config.fsync = config::FsyncPolicy::kAlways;
  else if (fsync == "interval")
    m.config.fsync = config::FsyncPolicy::kInterval;
  else if (fsync == "never")
    m.config.fsync = config::FsyncPolicy::kNever;
  else
    return bad("unknown fsync policy");
  m.config.fsync_interval = fsync_interval;
  m.created_ms = parse_rfc3339(created).value_or(0);
  return m;
}

}  // namespace

Result<TopicMeta> TopicCatalog::read(const std::string& topic) const {
  const std::string path = topic_dir(topic) + "/topic.json";
  auto fd = fs_.open(path, O_RDONLY | O_CLOEXEC, 0);
  if (!fd) return tl::unexpected(std::move(fd.error()));
  FRESHET_ASSIGN_OR_RETURN(uint64_t size, fs_.file_size(fd->get()));
  std::string text(size, '\0');
  FRESHET_ASSIGN_OR_RETURN(size_t n, fs_.pread(fd->get(), text.data(), size, 0));
  text.resize(n);
  return decode(path, text);
}

Result<std::vector<TopicMeta>> TopicCatalog::list() const {
  std::vector<TopicMeta> out;
  const std::string dir = data_dir_ + "/topics";
  FRESHET_ASSIGN_OR_RETURN(bool exists, fs_.exists(dir));
  if (!exists) return out;
  FRESHET_ASSIGN_OR_RETURN(auto names, fs_.list_dir(dir));
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto m = read(name);
    if (!m && m.error().code == ErrorCode::kNotFound) continue;  // not a topic directory
    if (!m) return tl::unexpected(std::move(m.error()));
    out.push_back(std::move(*m));
  }
  return out;
}

Status TopicCatalog::create(const config::TopicConfig& topic) {
  if (!valid_topic_name(topic.name))
    return make_error(
        ErrorCode::kInvalidArgument,
        "`{}` is not a valid topic name (letters, digits, '.', '_', '-'; at most 249)", topic.name);
  if (auto existing = read(topic.name)) {
    if (existing->config.partitions != topic.partitions)
      return make_error(ErrorCode::kAlreadyExists,
                        "topic `{}` exists with {} partitions, not {}; changing the partition "
                        "count is not supported yet",
                        topic.name, existing->config.partitions, topic.partitions);
    return ok();
  } else if (existing.error().code != ErrorCode::kNotFound) {
    return tl::unexpected(std::move(existing.error()));
  }
  const std::string dir = topic_dir(topic.name);
  FRESHET_TRY(fs_.mkdirs(dir));
  for (int32_t p = 0; p < topic.partitions; ++p)
    FRESHET_TRY(fs_.mkdirs(partition_dir(topic.name, p)));
  TopicMeta m{topic, wall_clock_ms()};
  const std::string text = encode(m);
  const std::string tmp = dir + "/topic.json.tmp";
  {
    FRESHET_ASSIGN_OR_RETURN(auto fd,
                             fs_.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    FRESHET_TRY(fs_.pwrite(fd.get(), text.data(), text.size(), 0));
    FRESHET_TRY(fs_.fsync(fd.get()));
  }
  FRESHET_TRY(fs_.rename(tmp, dir + "/topic.json"));
  FRESHET_TRY(fs_.fsync_dir(dir));
  return fs_.fsync_dir(data_dir_ + "/topics");
}

Status TopicCatalog::remove(const std::string& topic) {
  FRESHET_ASSIGN_OR_RETURN(bool exists, fs_.exists(topic_dir(topic)));
  if (!exists) return make_error(ErrorCode::kNotFound, "no topic `{}` in {}", topic, data_dir_);
  FRESHET_TRY(fs_.remove_all(topic_dir(topic)));
  return fs_.fsync_dir(data_dir_ + "/topics");
}

Result<config::TopicConfig> TopicCatalog::resolve(const config::Config& config,
                                                  const std::string& topic) const {
  if (auto it = config.topics.find(topic); it != config.topics.end()) return it->second;
  auto m = read(topic);
  if (m) return m->config;
  if (m.error().code == ErrorCode::kNotFound)
    return make_error(ErrorCode::kNotFound,
                      "no topic `{}`: {} does not declare it and {} holds no such topic "
                      "(create it with `freshet topic create {}`)",
                      topic, config.file, data_dir_ + "/topics", topic);
  return tl::unexpected(std::move(m.error()));
}

}  // namespace freshet::server
