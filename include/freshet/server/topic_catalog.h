#pragma once
// The topics of a data dir. A topic exists when the YAML declares it or when
// `freshet topic create` made it; either way its settings are recorded in
// `<data_dir>/topics/<topic>/topic.json`, so tools that run without the YAML entry (or with a
// different YAML) still know the partition count and policies the log was written with.
//
// topic.json (written atomically: temp file, fsync, rename, fsync dir):
//   {"version":1,"name":"payments","partitions":4,"key":"card_id","segment_bytes":134217728,
//    "fsync":"interval","fsync_interval_ms":10,"created":"2026-11-25T10:00:00.000Z"}
//
// Not tied to a shard: used by the CLI and at start-up, under the data dir lock.

#include <optional>
#include <string>
#include <vector>

#include "freshet/base/result.h"
#include "freshet/config/config.h"
#include "freshet/io/file_system.h"

namespace freshet::server {

inline constexpr int kTopicMetaVersion = 1;

struct TopicMeta {
  config::TopicConfig config;  // name, partitions, key, segment_bytes, fsync, fsync_interval
  TimestampMs created_ms = 0;
};

class TopicCatalog {
 public:
  TopicCatalog(io::FileSystem& fs, std::string data_dir)
      : fs_(fs), data_dir_(std::move(data_dir)) {}

  std::string topic_dir(const std::string& topic) const;
  std::string partition_dir(const std::string& topic, int32_t partition) const;

  // Topics that have a topic.json in the data dir, sorted by name.
  Result<std::vector<TopicMeta>> list() const;
  // The recorded settings of one topic; kNotFound if it was never created.
  Result<TopicMeta> read(const std::string& topic) const;
  // Records a topic and creates its partition directories. kAlreadyExists if it exists
  // with a different partition count (partitions can only be added, and not yet).
  Status create(const config::TopicConfig& topic);
  Status remove(const std::string& topic);

  // The settings to open `topic` with: the YAML's when it declares the topic, else the
  // recorded ones. kNotFound names both places that were looked at.
  Result<config::TopicConfig> resolve(const config::Config& config, const std::string& topic) const;

 private:
  io::FileSystem& fs_;
  std::string data_dir_;
};

// A topic name usable as a directory and in the Kafka protocol: [A-Za-z0-9._-]{1,249},
// not "." or "..".
bool valid_topic_name(const std::string& name);

}  // namespace freshet::server
