// Log hot paths, on one shard: append throughput under each flush policy side by side with a
// raw pwrite(+fdatasync) loop writing the same bytes at the same cadence into the same
// directory; the latency of a durable append (when_durable) under group commit with 1, 8 and
// 64 concurrent appenders; and read throughput from the mapping. Prints a table, the command
// line and the file system.
//
//   log_bench [--dir DIR] [--mib N] [--latency-ops N] [--only append|latency|read]
//
// DIR defaults to log-bench-data beside the executable (inside the build directory), so it is
// on the same disk as the repository; it is emptied before and after each case.

#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "freshet/io/file_system.h"
#include "freshet/log/flusher.h"
#include "freshet/log/partition_log.h"
#include "freshet/log/segment_preparer.h"
#include "freshet/shard/runtime.h"

using namespace freshet;
using namespace freshet::log;

namespace {

struct Config {
  std::string dir;
  uint64_t bytes = 512ull << 20;
  uint64_t latency_ops = 4000;
  std::string only;
};

struct Shape {
  size_t value_bytes;
  size_t batch_kib;  // batches of up to this many KiB; 0: one record per batch
  const char* batch_name() const {
    return batch_kib == 0 ? "1 record" : batch_kib == 64 ? "64 KiB" : "256 KiB";
  }
};

// One encoded batch, reused for every append (append patches its base offset in place).
std::string make_template(const Shape& shape, uint32_t* records) {
  std::string buf;
  BatchBuilder b(buf, 1'700'000'000'000);
  const std::string value(shape.value_bytes, 'v');
  uint32_t n = 0;
  do {
    b.add(std::nullopt, value, 1'700'000'000'000 + n);
    ++n;
  } while (shape.batch_kib > 0 && buf.size() + shape.value_bytes + 16 < shape.batch_kib * 1024);
  b.finish(Offset(0));
  *records = n;
  return buf;
}

std::unique_ptr<shard::Runtime> runtime() {
  shard::RuntimeOptions o;
  o.shards = 1;
  auto rt = shard::Runtime::create(o);
  if (!rt) {
    std::fprintf(stderr, "log_bench: %s\n", rt.error().message.c_str());
    std::exit(1);
  }
  return std::move(*rt);
}

void reset_dir(const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
}

PartitionOptions partition_options() {
  PartitionOptions o;
  o.preparer = &SegmentPreparer::shared();
  return o;
}

struct AppendResult {
  double seconds = 0;
  uint64_t bytes = 0, records = 0, fsyncs = 0, rolls_inline = 0, rolls = 0;
};

// Appends `total` bytes of the template from a shard poller, `per_turn` bytes per loop turn,
// under `policy`; the clock stops when the last offset is durable.
AppendResult run_log(const Config& cfg, const Shape& shape, FlushPolicy policy) {
  const std::string dir = cfg.dir + "/log";
  reset_dir(dir);
  PartitionOptions o = partition_options();
  o.durable_on_append = policy.mode == FlushMode::kNever;
  auto opened = PartitionLog::open(io::posix_file_system(), dir, o);
  if (!opened) {
    std::fprintf(stderr, "log_bench: %s\n", opened.error().message.c_str());
    std::exit(1);
  }
  auto log = std::move(*opened);
  // A server opens its logs before data arrives; give the preparer that moment to pre-fault
  // the start of the first segment (later segments are prepared while the previous fills).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  uint32_t records = 0;
  std::string batch = make_template(shape, &records);
  const uint64_t batches = cfg.bytes / batch.size();
  const uint64_t per_turn = std::max<uint64_t>(1, (1u << 20) / batch.size());
  AppendResult r;
  auto rt = runtime();
  std::unique_ptr<Flusher> flusher;
  int64_t t0 = 0, t1 = 0;
  uint64_t done = 0;
  (void)rt->start([&](shard::Shard& shard) {
    flusher = std::make_unique<Flusher>(shard);
    flusher->add(*log, policy);
    t0 = monotonic_ns();
    shard.add_poller([&, finished = false]() mutable {
      if (finished) return false;
      for (uint64_t i = 0; i < per_turn && done < batches; ++i, ++done) {
        if (auto a = log->append(batch); !a) {
          std::fprintf(stderr, "log_bench: %s\n", a.error().message.c_str());
          std::exit(1);
        }
      }
      if (done < batches) return true;
      finished = true;
      flusher->when_durable(*log, log->end_offset() + -1, [&](Status) {
        t1 = monotonic_ns();
        r.fsyncs = flusher->fsyncs_completed();
        shard::this_shard().runtime().request_stop();
      });
      return true;
    });
  });
  rt->join();
  r.seconds = static_cast<double>(t1 - t0) / 1e9;
  r.bytes = batches * batch.size();
  r.records = batches * records;
  r.rolls = log->stats().rolls;
  r.rolls_inline = log->stats().rolls_inline;
  flusher.reset();
  log.reset();
  std::filesystem::remove_all(dir);
  return r;
}

// The same bytes in the same chunks with pwrite, and fdatasync at the log's cadence: never,
// every `interval`, or after every turn's chunk (the log's group commit at its best).
AppendResult run_raw(const Config& cfg, const Shape& shape, FlushPolicy policy) {
  const std::string dir = cfg.dir + "/raw";
  reset_dir(dir);
  uint32_t records = 0;
  const std::string batch = make_template(shape, &records);
  const uint64_t batches = cfg.bytes / batch.size();
  const uint64_t per_turn = std::max<uint64_t>(1, (1u << 20) / batch.size());
  const int fd = ::open((dir + "/raw.dat").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  AppendResult r;
  const int64_t interval_ns = policy.interval.count() * 1'000'000;
  const int64_t t0 = monotonic_ns();
  int64_t last_sync = t0;
  uint64_t off = 0;
  for (uint64_t done = 0; done < batches;) {
    for (uint64_t i = 0; i < per_turn && done < batches; ++i, ++done) {
      if (::pwrite(fd, batch.data(), batch.size(), static_cast<off_t>(off)) < 0) std::exit(1);
      off += batch.size();
    }
    const int64_t now = monotonic_ns();
    if (policy.mode == FlushMode::kAlways ||
        (policy.mode == FlushMode::kInterval && now - last_sync >= interval_ns)) {
      (void)::fdatasync(fd);
      ++r.fsyncs;
      last_sync = now;
    }
  }
  if (policy.mode != FlushMode::kNever) {
    (void)::fdatasync(fd);
    ++r.fsyncs;
  }
  r.seconds = static_cast<double>(monotonic_ns() - t0) / 1e9;
  ::close(fd);
  r.bytes = off;
  r.records = batches * records;
  std::filesystem::remove_all(dir);
  return r;
}

const char* mode_name(FlushMode m) {
  return m == FlushMode::kNever ? "never" : m == FlushMode::kInterval ? "interval 10ms" : "always";
}

void bench_append(const Config& cfg) {
  std::printf("\n## Append throughput (%.0f MiB per case, one shard)\n\n", cfg.bytes / 1048576.0);
  std::printf(
      "| value | batch | fsync | log Mrec/s | log MB/s | log fsyncs | raw Mrec/s | raw MB/s "
      "| raw fsyncs | log/raw | inline rolls |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Shape shape : {Shape{100, 64}, Shape{1024, 64}, Shape{100, 256}, Shape{1024, 256},
                            Shape{100, 0}, Shape{1024, 0}}) {
    for (FlushMode m : {FlushMode::kNever, FlushMode::kInterval, FlushMode::kAlways}) {
      FlushPolicy policy{m, std::chrono::milliseconds(10)};
      const AppendResult raw = run_raw(cfg, shape, policy);
      const AppendResult log = run_log(cfg, shape, policy);
      const double log_mb = log.bytes / log.seconds / 1e6, raw_mb = raw.bytes / raw.seconds / 1e6;
      std::printf(
          "| %zu B | %s | %s | %.2f | %.0f | %llu | %.2f | %.0f | %llu | %.2f | %llu/%llu |\n",
          shape.value_bytes, shape.batch_name(), mode_name(m), log.records / log.seconds / 1e6,
          log_mb, static_cast<unsigned long long>(log.fsyncs), raw.records / raw.seconds / 1e6,
          raw_mb, static_cast<unsigned long long>(raw.fsyncs), log_mb / raw_mb,
          static_cast<unsigned long long>(log.rolls_inline),
          static_cast<unsigned long long>(log.rolls));
      std::fflush(stdout);
    }
  }
}

// `appenders` logical appenders on one shard, each appending one small batch, waiting for it
// to be durable (fsync: always, group commit), and appending again.
void bench_latency(const Config& cfg) {
  std::printf(
      "\n## Durable append latency (fsync: always, group commit; 10 x 100 B records "
      "per append)\n\n");
  std::printf("| appenders | appends | fsyncs | appends/fsync | p50 us | p99 us | max us |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int appenders : {1, 8, 64}) {
    const std::string dir = cfg.dir + "/latency";
    reset_dir(dir);
    PartitionOptions o = partition_options();
    o.segment_bytes = 64ull << 20;
    auto log = std::move(*PartitionLog::open(io::posix_file_system(), dir, o));
    std::string batch;
    {
      BatchBuilder b(batch, 0);
      for (int i = 0; i < 10; ++i) b.add(std::nullopt, std::string(100, 'v'), i);
      b.finish(Offset(0));
    }
    std::vector<int64_t> lat;
    lat.reserve(cfg.latency_ops);
    auto rt = runtime();
    std::unique_ptr<Flusher> flusher;
    uint64_t started = 0;
    std::function<void()> one;
    (void)rt->start([&](shard::Shard& shard) {
      flusher = std::make_unique<Flusher>(shard);
      flusher->add(*log, {FlushMode::kAlways, {}});
      one = [&] {
        if (started >= cfg.latency_ops) {
          if (lat.size() == cfg.latency_ops) shard::this_shard().runtime().request_stop();
          return;
        }
        ++started;
        const int64_t t = monotonic_ns();
        std::string copy = batch;
        const Offset base = log->append(copy).value();
        flusher->when_durable(*log, base + 9, [&, t](Status) {
          lat.push_back(monotonic_ns() - t);
          shard::this_shard().post([&] { one(); });
        });
      };
      for (int a = 0; a < appenders; ++a) one();
    });
    rt->join();
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) {
      return lat[std::min(lat.size() - 1,
                          static_cast<size_t>(p * static_cast<double>(lat.size())))] /
             1000.0;
    };
    std::printf("| %d | %zu | %llu | %.1f | %.0f | %.0f | %.0f |\n", appenders, lat.size(),
                static_cast<unsigned long long>(flusher->fsyncs_completed()),
                static_cast<double>(lat.size()) / static_cast<double>(flusher->fsyncs_completed()),
                pct(0.5), pct(0.99), lat.back() / 1000.0);
    std::fflush(stdout);
    flusher.reset();
    log.reset();
    std::filesystem::remove_all(dir);
  }
}

void bench_read(const Config& cfg) {
  std::printf(
      "\n## Read from the mapping (%.0f MiB written with fsync: never, read twice, then read "
      "again after a reopen)\n\n",
      cfg.bytes / 1048576.0);
  std::printf("| value | batch | pass | Mrec/s | GB/s |\n|---|---|---|---|---|\n");
  for (const Shape shape : {Shape{100, 64}, Shape{1024, 64}, Shape{100, 0}}) {
    const std::string dir = cfg.dir + "/read";
    reset_dir(dir);
    auto log = std::move(*PartitionLog::open(io::posix_file_system(), dir, partition_options()));
    uint32_t records = 0;
    std::string batch = make_template(shape, &records);
    for (uint64_t i = 0; i < cfg.bytes / batch.size(); ++i) (void)log->append(batch);
    // Batches this process appended are read without a CRC pass; after a reopen every batch
    // was on disk at open and is CRC-checked on read.
    for (int pass = 0; pass < 3; ++pass) {
      if (pass == 2) {
        (void)log->close();
        log.reset();
        log = std::move(*PartitionLog::open(io::posix_file_system(), dir, partition_options()));
      }
      const bool decode = pass == 1;
      const int64_t t0 = monotonic_ns();
      uint64_t n = 0, bytes = 0, value_bytes = 0;
      PartitionLog::Reader r(*log);
      for (;;) {
        auto b = r.next();
        if (!b || !*b) break;
        bytes += (*b)->size();
        if (!decode) {
          n += (*b)->record_count();
          continue;
        }
        auto it = (*b)->records();
        RecordView rec;
        while (it.next(rec)) {
          value_bytes += rec.value->size();
          ++n;
        }
      }
      const double s = static_cast<double>(monotonic_ns() - t0) / 1e9;
      const char* what[] = {"batches appended (views, no CRC pass)", "decode every record",
                            "batches after a reopen (CRC-checked views)"};
      std::printf("| %zu B | %s | %s | %.1f | %.2f |\n", shape.value_bytes, shape.batch_name(),
                  what[pass], n / s / 1e6, bytes / s / 1e9);
      if (value_bytes == 1) std::printf("\n");  // keeps the decode from being optimised away
    }
    std::fflush(stdout);
    log.reset();
    std::filesystem::remove_all(dir);
  }
}

std::string fs_name(const std::string& dir) {
  struct statfs st {};
  if (::statfs(dir.c_str(), &st) != 0) return "unknown";
  switch (static_cast<unsigned long>(st.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    default:
      return fmt::format("0x{:x}", static_cast<unsigned long>(st.f_type));
  }
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  cfg.dir = (std::filesystem::absolute(argv[0]).parent_path() / "log-bench-data").string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--dir")
      cfg.dir = next();
    else if (a == "--mib")
      cfg.bytes = std::stoull(next()) << 20;
    else if (a == "--latency-ops")
      cfg.latency_ops = std::stoull(next());
    else if (a == "--only")
      cfg.only = next();
    else {
      std::fprintf(stderr,
                   "usage: log_bench [--dir DIR] [--mib N] [--latency-ops N] "
                   "[--only append|latency|read]\n");
      return 2;
    }
  }
  log::set_level(log::Level::kWarn);
  reset_dir(cfg.dir);
  std::string cmd;
  for (int i = 0; i < argc; ++i) cmd += (i ? " " : "") + std::string(argv[i]);
  std::printf("# log_bench\n\ncommand: `%s`\n\ndirectory: %s (%s)\n", cmd.c_str(), cfg.dir.c_str(),
              fs_name(cfg.dir).c_str());
  if (cfg.only.empty() || cfg.only == "append") bench_append(cfg);
  if (cfg.only.empty() || cfg.only == "latency") bench_latency(cfg);
  if (cfg.only.empty() || cfg.only == "read") bench_read(cfg);
  std::filesystem::remove_all(cfg.dir);
  return 0;
}
