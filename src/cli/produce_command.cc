// `freshet produce`: NDJSON on stdin into a topic. Each input line becomes one record; a
// line that is not a JSON value is reported with its line number and skipped (exit 65 at the
// end), never silently dropped. Acknowledgements ({"partition":P,"offset":O} per record, in
// input order per partition) go to stdout only once the record is durable under the topic's
// fsync policy, so a line printed is a record that survives kill -9 (and, with `always` or
// `interval`, a power loss).
//
// produce is a writer of its own and runs no shards: it takes the data dir lock, and its
// fdatasync calls block this process only.

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "commands.h"
#include "freshet/base/exit_codes.h"
#include "freshet/base/hash.h"
#include "freshet/base/time.h"
#include "freshet/log/partition_log.h"
#include "freshet/server/topic_catalog.h"

namespace freshet::cli {
namespace {

constexpr size_t kMaxBatchBytes = 64 * 1024;

// The key of a record: the named field of its JSON object, strings as their text and other
// scalars as their JSON text; nullopt when absent or null.
std::optional<std::string> key_of(simdjson::dom::element doc, const std::string& field) {
  simdjson::dom::element v = doc;
  size_t start = 0;
  while (start <= field.size()) {
    size_t dot = field.find('.', start);
    std::string part =
        field.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v.at_key(part).get(v) != simdjson::SUCCESS) return std::nullopt;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return std::string(v.get_string().value_unsafe());
  return simdjson::minify(v);
}

struct Partition {
  std::unique_ptr<log::PartitionLog> log;
  std::string batch;
  std::optional<log::BatchBuilder> builder;
  std::vector<Offset> unacked;  // appended, waiting for durability
};

class Producer {
 public:
  Producer(config::TopicConfig topic, bool quiet) : topic_(std::move(topic)), quiet_(quiet) {}

  Status open(const server::TopicCatalog& catalog) {
    parts_.resize(static_cast<size_t>(topic_.partitions));
    for (int32_t p = 0; p < topic_.partitions; ++p) {
      log::PartitionOptions opts;
      opts.segment_bytes = topic_.segment_bytes;
      opts.durable_on_append = topic_.fsync == config::FsyncPolicy::kNever;
      FRESHET_ASSIGN_OR_RETURN(
          parts_[static_cast<size_t>(p)].log,
          log::PartitionLog::open(io::posix_file_system(), catalog.partition_dir(topic_.name, p),
                                  opts));
    }
    return ok();
  }

  Status add(int32_t p, const std::optional<std::string>& key, std::string_view value,
             TimestampMs ts) {
    auto& part = parts_[static_cast<size_t>(p)];
    if (!part.builder) {
      part.batch.clear();
      part.builder.emplace(part.batch, ts);
    }
    part.builder->add(key ? std::optional<std::string_view>(*key) : std::nullopt, value, ts);
    if (part.batch.size() >= kMaxBatchBytes) return append(part);
    return ok();
  }

  // Appends what is buffered and makes it durable as the policy says; prints acks.
  Status flush(bool final) {
    for (auto& part : parts_)
      if (part.builder) FRESHET_TRY(append(part));
    const int64_t now = monotonic_ns();
    const bool sync_now = topic_.fsync == config::FsyncPolicy::kAlways || final ||
                          (topic_.fsync == config::FsyncPolicy::kInterval &&
                           now - last_sync_ns_ >= topic_.fsync_interval * 1'000'000);
    if (sync_now) {
      for (auto& part : parts_) {
        if (!part.log->has_unsynced()) continue;
        auto req = part.log->prepare_sync();
        for (int fd : req.fds) FRESHET_TRY(io::posix_file_system().fdatasync(fd));
        part.log->complete_sync(req.end);
      }
      last_sync_ns_ = now;
    }
    ack();
    return ok();
  }

  Status close() {
    for (auto& part : parts_) FRESHET_TRY(part.log->close());
    return ok();
  }
  uint64_t produced() const { return produced_; }

 private:
  Status append(Partition& part) {
    part.builder->finish(Offset(0));
    const uint32_t n = part.builder->count();
    part.builder.reset();
    FRESHET_ASSIGN_OR_RETURN(Offset base, part.log->append(part.batch));
    for (uint32_t i = 0; i < n; ++i) part.unacked.push_back(base + i);
    produced_ += n;
    return ok();
  }

  void ack() {
    for (size_t p = 0; p < parts_.size(); ++p) {
      auto& part = parts_[p];
      size_t done = 0;
      while (done < part.unacked.size() && part.unacked[done] < part.log->durable_end()) {
        if (!quiet_) fmt::print("{{\"partition\":{},\"offset\":{}}}\n", p, part.unacked[done]);
        ++done;
      }
      part.unacked.erase(part.unacked.begin(), part.unacked.begin() + static_cast<long>(done));
    }
    std::fflush(stdout);
  }

  config::TopicConfig topic_;
  bool quiet_;
  std::vector<Partition> parts_;
  int64_t last_sync_ns_ = 0;
  uint64_t produced_ = 0;
};

}  // namespace

int produce_command(const ProduceArgs& args) {
  int exit_code = kExitOk;
  auto dd = open_data_dir(args.file, "produce", exit_code);
  if (!dd) return exit_code;
  const auto& cfg = dd->config;
  auto& catalog = dd->catalog;
  auto topic = catalog.resolve(cfg, args.topic);
  if (!topic) {
    std::fprintf(stderr, "freshet produce: %s\n", topic.error().message.c_str());
    return kExitUsage;
  }
  if (auto st = catalog.create(*topic); !st) {
    std::fprintf(stderr, "freshet produce: %s\n", st.error().message.c_str());
    return kExitIoErr;
  }
  Producer producer(*topic, args.quiet);
  if (auto st = producer.open(catalog); !st) {
    std::fprintf(stderr, "freshet produce: %s\n", st.error().message.c_str());
    return kExitIoErr;
  }
  const std::string key_field = args.key_field.empty() ? topic->key_field : args.key_field;
  simdjson::dom::parser parser;
  std::string pending;  // bytes of an unfinished last line
  std::vector<char> buf(1 << 20);
  uint64_t line_no = 0, rejected = 0, round_robin = 0;
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::fprintf(stderr, "freshet produce: reading stdin: %s\n", std::strerror(errno));
      return kExitIoErr;
    }
    if (n > 0) pending.append(buf.data(), static_cast<size_t>(n));
    const bool eof = n == 0;
    if (eof && !pending.empty() && pending.back() != '\n') pending += '\n';
    size_t start = 0;
    const TimestampMs now = wall_clock_ms();
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      ++line_no;
      std::string_view line(pending.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      simdjson::dom::element doc;
      if (auto err = parser.parse(line.data(), line.size()).get(doc)) {
        std::fprintf(stderr, "freshet produce: line %llu: not valid JSON (%s); skipped\n",
                     static_cast<unsigned long long>(line_no), simdjson::error_message(err));
        ++rejected;
        continue;
      }
      std::optional<std::string> key;
      if (!key_field.empty()) key = key_of(doc, key_field);
      const int32_t p =
          key ? kafka_partition(*key, topic->partitions)
              : static_cast<int32_t>(round_robin++ % static_cast<uint64_t>(topic->partitions));
      if (auto st = producer.add(p, key, line, now); !st) {
        std::fprintf(stderr, "freshet produce: %s\n", st.error().message.c_str());
        return kExitIoErr;
      }
    }
    pending.erase(0, start);
    if (auto st = producer.flush(eof); !st) {
      std::fprintf(stderr, "freshet produce: %s\n", st.error().message.c_str());
      return kExitIoErr;
    }
    if (eof) break;
  }
  if (auto st = producer.close(); !st) {
    std::fprintf(stderr, "freshet produce: %s\n", st.error().message.c_str());
    return kExitIoErr;
  }
  std::fprintf(stderr, "freshet produce: %llu records to `%s`%s\n",
               static_cast<unsigned long long>(producer.produced()), args.topic.c_str(),
               rejected ? fmt::format(", {} lines rejected", rejected).c_str() : "");
  return rejected ? kExitDataErr : kExitOk;
}

}  // namespace freshet::cli
