// `freshet topic create|list|describe|delete`: the topics of a data dir, with Kafka's
// property names next to ours in `describe`.

#include <cstdio>

#include "commands.h"
#include "freshet/base/exit_codes.h"
#include "freshet/base/time.h"
#include "freshet/config/units.h"
#include "freshet/log/partition_log.h"
#include "freshet/server/topic_catalog.h"

namespace freshet::cli {
namespace {

int fail(const char* verb, const std::string& message, int code) {
  std::fprintf(stderr, "freshet topic %s: %s\n", verb, message.c_str());
  return code;
}

int create(const config::Config& cfg, server::TopicCatalog& catalog, const TopicArgs& a) {
  config::TopicConfig t;
  t.name = a.topic;
  t.partitions = a.partitions;
  t.key_field = a.key_field;
  if (a.partitions < 1 || a.partitions > 100000)
    return fail("create", "--partitions must be between 1 and 100000", kExitUsage);
  if (!a.segment_bytes.empty()) {
    auto b = config::parse_size(a.segment_bytes, true);
    if (!b || *b < (1u << 20))
      return fail("create", "--segment-bytes: a size of at least 1MiB", kExitUsage);
    t.segment_bytes = *b;
  }
  if (!a.fsync.empty()) {
    if (a.fsync == "always")
      t.fsync = config::FsyncPolicy::kAlways;
    else if (a.fsync == "interval")
      t.fsync = config::FsyncPolicy::kInterval;
    else if (a.fsync == "never")
      t.fsync = config::FsyncPolicy::kNever;
    else
      return fail("create", "--fsync: always | interval | never", kExitUsage);
  }
  if (cfg.topics.count(a.topic))
    return fail("create",
                fmt::format("`{}` is declared in {}; it is created when the server runs", a.topic,
                            cfg.file),
                kExitUsage);
  if (catalog.read(a.topic))
    return fail("create", fmt::format("topic `{}` already exists", a.topic), kExitDataErr);
  if (auto st = catalog.create(t); !st)
    return fail("create", st.error().message,
                st.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitIoErr);
  std::printf("created topic %s with %d partition%s\n", a.topic.c_str(), t.partitions,
              t.partitions == 1 ? "" : "s");
  return kExitOk;
}

int list(server::TopicCatalog& catalog, bool json) {
  auto topics = catalog.list();
  if (!topics) return fail("list", topics.error().message, kExitIoErr);
  for (const auto& m : *topics) {
    if (json)
      std::printf("{\"name\":\"%s\",\"partitions\":%d}\n", m.config.name.c_str(),
                  m.config.partitions);
    else
      std::printf("%-32s %d partition%s\n", m.config.name.c_str(), m.config.partitions,
                  m.config.partitions == 1 ? "" : "s");
  }
  return kExitOk;
}

int describe(server::TopicCatalog& catalog, const std::string& name, bool json) {
  auto meta = catalog.read(name);
  if (!meta)
    return fail("describe", meta.error().message,
                meta.error().code == ErrorCode::kNotFound ? kExitUsage : kExitIoErr);
  const auto& t = meta->config;
  auto& fs = io::posix_file_system();
  std::string parts;
  std::string table;
  for (int32_t p = 0; p < t.partitions; ++p) {
    log::PartitionOptions opts;
    opts.segment_bytes = t.segment_bytes;
    auto part = log::PartitionLog::open(fs, catalog.partition_dir(name, p), opts);
    if (!part) return fail("describe", part.error().message, kExitDataErr);
    const int64_t start = (*part)->start_offset().value(), end = (*part)->end_offset().value();
    auto files = fs.list_dir(catalog.partition_dir(name, p));
    size_t segments = 0;
    if (files)
      for (const auto& f : *files) segments += f.size() > 4 && f.substr(f.size() - 4) == ".log";
    (void)(*part)->close();
    parts +=
        fmt::format("{}{{\"partition\":{},\"start_offset\":{},\"end_offset\":{},\"segments\":{}}}",
                    p == 0 ? "" : ",", p, start, end, segments);
    table += fmt::format("  {:>9} {:>14} {:>14} {:>9}\n", p, start, end, segments);
  }
  if (json) {
    std::printf(
        "{\"name\":\"%s\",\"partitions\":[%s],\"config\":{\"segment.bytes\":%llu,"
        "\"flush\":\"%s\",\"flush.ms\":%lld,\"key\":\"%s\"}}\n",
        name.c_str(), parts.c_str(), static_cast<unsigned long long>(t.segment_bytes),
        std::string(config::to_string(t.fsync)).c_str(), static_cast<long long>(t.fsync_interval),
        t.key_field.c_str());
    return kExitOk;
  }
  fmt::print("topic {} (created {})\n", name, format_rfc3339_ms(meta->created_ms));
  fmt::print("  partitions       {}\n", t.partitions);
  fmt::print("  key              {}\n", t.key_field.empty() ? "(none: round-robin)" : t.key_field);
  fmt::print("  segment_bytes    {}  (Kafka segment.bytes)\n", t.segment_bytes);
  fmt::print("  fsync            {}{}\n", config::to_string(t.fsync),
             t.fsync == config::FsyncPolicy::kInterval
                 ? fmt::format(" every {}ms  (Kafka flush.ms)", t.fsync_interval)
             : t.fsync == config::FsyncPolicy::kAlways ? "  (Kafka flush.messages=1)"
                                                       : "");
  fmt::print("  {:>9} {:>14} {:>14} {:>9}\n{}", "partition", "start offset", "end offset",
             "segments", table);
  return kExitOk;
}

}  // namespace

int topic_command(const TopicArgs& a) {
  int exit_code = kExitOk;
  auto dd = open_data_dir(a.file, "topic", exit_code);
  if (!dd) return exit_code;
  const auto& cfg = dd->config;
  auto& catalog = dd->catalog;
  if (a.verb == "list") return list(catalog, a.json);
  if (a.topic.empty()) return fail(a.verb.c_str(), "a TOPIC is required", kExitUsage);
  if (a.verb == "create") return create(cfg, catalog, a);
  if (a.verb == "describe") return describe(catalog, a.topic, a.json);
  if (a.verb == "delete") {
    if (auto st = catalog.remove(a.topic); !st)
      return fail("delete", st.error().message,
                  st.error().code == ErrorCode::kNotFound ? kExitUsage : kExitIoErr);
    std::printf("deleted topic %s\n", a.topic.c_str());
    return kExitOk;
  }
  return fail(a.verb.c_str(), "unknown verb", kExitUsage);
}

}  // namespace freshet::cli
