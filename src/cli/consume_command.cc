// `freshet consume`: record values from the log on disk, one per line on stdout.

#include <cstdio>

#include "commands.h"
#include "freshet/base/exit_codes.h"
#include "freshet/base/time.h"
#include "freshet/log/partition_log.h"
#include "freshet/server/topic_catalog.h"

namespace freshet::cli {
namespace {

std::optional<TimestampMs> parse_time(const std::string& s) {
  if (auto t = parse_rfc3339(s)) return t;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (!s.empty() && end == s.c_str() + s.size()) return v;
  return std::nullopt;
}

// Writes values in large chunks: stdout may be a pipe to a slow reader.
class Output {
 public:
  ~Output() { flush(); }
  void line(std::string_view v) {
    buf_.append(v);
    buf_ += '\n';
    if (buf_.size() > (1 << 16)) flush();
  }
  void flush() {
    std::fwrite(buf_.data(), 1, buf_.size(), stdout);
    buf_.clear();
  }

 private:
  std::string buf_;
};

}  // namespace

int consume_command(const ConsumeArgs& args) {
  std::optional<TimestampMs> from_time;
  if (!args.from_time.empty()) {
    from_time = parse_time(args.from_time);
    if (!from_time) {
      std::fprintf(stderr, "freshet consume: --from-time %s: not RFC 3339 or epoch milliseconds\n",
                   args.from_time.c_str());
      return kExitUsage;
    }
  }
  int exit_code = kExitOk;
  auto dd = open_data_dir(args.file, "consume", exit_code);
  if (!dd) return exit_code;
  auto& fs = io::posix_file_system();
  const auto& catalog = dd->catalog;
  auto topic = catalog.resolve(dd->config, args.topic);
  if (!topic) {
    std::fprintf(stderr, "freshet consume: %s\n", topic.error().message.c_str());
    return kExitUsage;
  }
  if (args.partition && (*args.partition < 0 || *args.partition >= topic->partitions)) {
    std::fprintf(stderr, "freshet consume: topic `%s` has partitions 0-%d\n", args.topic.c_str(),
                 topic->partitions - 1);
    return kExitUsage;
  }
  uint64_t printed = 0;
  Output out;
  for (int32_t p = 0; p < topic->partitions; ++p) {
    if (args.partition && *args.partition != p) continue;
    const std::string dir = catalog.partition_dir(args.topic, p);
    auto exists = fs.exists(dir);
    if (!exists || !*exists) continue;
    log::PartitionOptions opts;
    opts.segment_bytes = topic->segment_bytes;
    auto part = log::PartitionLog::open(fs, dir, opts);
    if (!part) {
      std::fprintf(stderr, "freshet consume: %s\n", part.error().message.c_str());
      return kExitDataErr;
    }
    Offset first = Offset(args.offset.value_or(0));
    bool started = !from_time;  // --from-time: from the first record stamped at or after it
    if (from_time) {
      // The time index names the first batch that reaches the time; records in it stamped
      // earlier are skipped below.
      auto at = (*part)->offset_for_time(*from_time);
      if (!at) {
        std::fprintf(stderr, "freshet consume: %s\n", at.error().message.c_str());
        return kExitDataErr;
      }
      // Nothing stamped that late in this partition: start at its end.
      first = *at ? std::max(first, **at) : (*part)->end_offset();
    }
    log::PartitionLog::Reader reader(**part);
    if (auto st = reader.seek(std::min(first, (*part)->end_offset())); !st) {
      std::fprintf(stderr, "freshet consume: %s\n", st.error().message.c_str());
      return kExitDataErr;
    }
    for (bool more = true; more;) {
      auto batch = reader.next();
      if (!batch) {
        std::fprintf(stderr, "freshet consume: %s\n", batch.error().message.c_str());
        return kExitDataErr;
      }
      if (!*batch) break;
      if ((*batch)->last_offset() < first) continue;
      if (!started && (*batch)->max_timestamp() < *from_time) continue;
      auto it = (*batch)->records();
      log::RecordView rec;
      while (it.next(rec)) {
        if (rec.offset < first) continue;
        if (!started && rec.timestamp < *from_time) continue;
        started = true;
        if (args.max && printed >= *args.max) {
          more = false;
          break;
        }
        out.line(rec.value.value_or("null"));
        ++printed;
      }
    }
    if (auto st = (*part)->close(); !st)
      std::fprintf(stderr, "freshet consume: %s\n", st.error().message.c_str());
    if (args.max && printed >= *args.max) break;
  }
  return kExitOk;
}

}  // namespace freshet::cli
