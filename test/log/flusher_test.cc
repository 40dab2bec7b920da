// The Flusher on a real one-shard runtime: group commit, interval timing, fsync failure.

#include "freshet/log/flusher.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>

#include "freshet/base/time.h"
#include "freshet/shard/runtime.h"
#include "log_test_util.h"
#include "temp_dir.h"

namespace freshet::log {
struct PartitionLogTestAccess {
  // Makes the partition's next sync include `fd` as its directory.
  static void replace_dir_fd(PartitionLog& log, io::UniqueFd fd) {
    log.dir_fd_ = std::move(fd);
    log.dir_unsynced_ = true;
  }
};
}  // namespace freshet::log

using namespace freshet;
using namespace freshet::log;
using namespace freshet::log::testing;
using freshet::testing::TempDir;

namespace {

std::unique_ptr<shard::Runtime> one_shard() {
  shard::RuntimeOptions o;
  o.shards = 1;
  o.pin = false;
  auto rt = shard::Runtime::create(o);
  if (!rt) {
    MESSAGE("skipping: " << rt.error().message);
    return nullptr;
  }
  return std::move(*rt);
}

std::unique_ptr<PartitionLog> open_log(const std::string& dir) {
  PartitionOptions o;
  o.segment_bytes = 1 << 20;
  auto log = PartitionLog::open(io::posix_file_system(), dir, o);
  REQUIRE(log.has_value());
  return std::move(*log);
}

}  // namespace

TEST_CASE("many durable-append waiters complete after one group-commit fsync") {
  TempDir tmp;
  auto rt = one_shard();
  if (!rt) return;
  auto log = open_log(tmp.path);
  std::unique_ptr<Flusher> flusher;
  int done = 0, errors = 0;
  uint64_t fsyncs = 0;
  Offset durable_at_append{-1};
  REQUIRE(rt->start([&](shard::Shard& shard) {
              flusher = std::make_unique<Flusher>(shard);
              flusher->add(*log, {FlushMode::kAlways, {}});
              for (int i = 0; i < 100; ++i) {
                std::string b = make_batch(i * 2, 2);
                const Offset base = log->append(b).value();
                flusher->when_durable(*log, base + 1, [&](Status st) {
                  errors += !st;
                  if (++done == 100) {
                    fsyncs = flusher->fsyncs_completed();
                    shard::this_shard().runtime().request_stop();
                  }
                });
              }
              durable_at_append = log->durable_end();
            }).has_value());
  rt->join();
  CHECK(durable_at_append == Offset(0));  // appended is not durable under fsync: always
  CHECK(done == 100);
  CHECK(errors == 0);
  CHECK(fsyncs == 1);
  CHECK(log->durable_end() == Offset(200));
}

TEST_CASE("fsync: never makes appends durable at once; interval syncs on its timer only") {
  TempDir tmp;
  auto rt = one_shard();
  if (!rt) return;
  auto never = open_log(tmp.path + "/never");
  auto interval = open_log(tmp.path + "/interval");
  std::unique_ptr<Flusher> flusher;
  bool never_done_inline = false;
  int64_t appended_ns = 0, durable_ns = 0;
  uint64_t fsyncs_after_idle = 0;
  REQUIRE(rt->start([&](shard::Shard& shard) {
              flusher = std::make_unique<Flusher>(shard);
              flusher->add(*never, {FlushMode::kNever, {}});
              flusher->add(*interval, {FlushMode::kInterval, std::chrono::milliseconds(30)});
              std::string b = make_batch(0, 3);
              const Offset base = never->append(b).value();
              flusher->when_durable(*never, base + 2,
                                    [&](Status st) { never_done_inline = st.has_value(); });
              b = make_batch(0, 3);
              (void)interval->append(b);
              appended_ns = monotonic_ns();
              flusher->when_durable(*interval, Offset(2), [&](Status st) {
                REQUIRE(st.has_value());
                durable_ns = monotonic_ns();
                // Nothing new: the next ticks start no fsync.
                shard.schedule_after(std::chrono::milliseconds(100), [&] {
                  fsyncs_after_idle = flusher->fsyncs_completed();
                  shard::this_shard().runtime().request_stop();
                });
              });
            }).has_value());
  rt->join();
  CHECK(never_done_inline);
  const double waited_ms = static_cast<double>(durable_ns - appended_ns) / 1e6;
  CHECK(waited_ms >= 5);  // waited for the timer, not the next loop turn
  CHECK(waited_ms < 1000);
  CHECK(fsyncs_after_idle == 1);
}

TEST_CASE("a failed fsync fails every waiter and the partition, and is never retried") {
  TempDir tmp;
  auto rt = one_shard();
  if (!rt) return;
  auto log = open_log(tmp.path + "/p");
  // fsync on a FIFO fails with EINVAL: let it stand in for the partition's directory.
  const std::string fifo = tmp.path + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  auto fd = io::posix_file_system().open(fifo, O_RDWR | O_NONBLOCK, 0);
  REQUIRE(fd.has_value());
  PartitionLogTestAccess::replace_dir_fd(*log, std::move(*fd));
  std::unique_ptr<Flusher> flusher;
  int failed_waiters = 0, failure_callbacks = 0;
  bool late_waiter_failed = false, append_failed = false;
  std::string failure;
  REQUIRE(rt->start([&](shard::Shard& shard) {
              flusher = std::make_unique<Flusher>(shard);
              flusher->on_failure([&](PartitionLog&, const Error& e) {
                ++failure_callbacks;
                failure = e.message;
                std::string b = make_batch(0, 1);
                append_failed = !log->append(b).has_value();
                flusher->when_durable(*log, Offset(0),
                                      [&](Status st) { late_waiter_failed = !st.has_value(); });
                shard.schedule_after(std::chrono::milliseconds(50),
                                     [&] { shard::this_shard().runtime().request_stop(); });
              });
              flusher->add(*log, {FlushMode::kAlways, {}});
              for (int i = 0; i < 10; ++i) {
                std::string b = make_batch(i, 1);
                const Offset base = log->append(b).value();
                flusher->when_durable(*log, base, [&](Status st) { failed_waiters += !st; });
              }
            }).has_value());
  rt->join();
  CHECK(failed_waiters == 10);
  CHECK(failure_callbacks == 1);
  CHECK(failure.find("fsync of " + tmp.path + "/p failed") != std::string::npos);
  CHECK(log->failed());
  CHECK(log->durable_end() == Offset(0));
  CHECK(late_waiter_failed);
  CHECK(append_failed);
  CHECK(flusher->fsyncs_completed() == 1);  // never retried
}
