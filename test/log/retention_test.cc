// Retention by time, by size and under pins; rolling by age; segments prepared ahead.

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "freshet/log/partition_log.h"
#include "freshet/log/segment_preparer.h"
#include "log_test_util.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::log;
using namespace freshet::log::testing;
using freshet::testing::TempDir;

namespace {

struct ManualClock {
  TimestampMs now = 1'000'000;
  std::function<TimestampMs()> fn() {
    return [this] { return now; };
  }
};

// Ten segments of 100 offsets each (10 batches of 10), batch timestamps = `ts_of(segment)`,
// appended at clock time 1'000'000 + segment * 1000.
std::unique_ptr<PartitionLog> ten_segments(const std::string& dir, ManualClock& clock,
                                           PartitionOptions o) {
  o.clock = clock.fn();
  o.segment_age = 1000;
  auto log = PartitionLog::open(io::posix_file_system(), dir, o);
  REQUIRE(log.has_value());
  for (int s = 0; s < 10; ++s) {
    clock.now = 1'000'000 + s * 1000;
    for (int b = 0; b < 10; ++b) {
      std::string batch = make_batch(s * 100 + b * 10, 10, clock.now);
      REQUIRE((*log)->append(batch).has_value());
    }
  }
  REQUIRE((*log)->segment_count() == 10);
  return std::move(*log);
}

}  // namespace

TEST_CASE("segments roll by age, measured from their first append") {
  TempDir tmp;
  ManualClock clock;
  PartitionOptions o;
  o.segment_bytes = 1 << 20;
  o.segment_age = 500;
  o.clock = clock.fn();
  auto log = PartitionLog::open(io::posix_file_system(), tmp.path, o);
  REQUIRE(log.has_value());
  std::string b = make_batch(0, 1);
  REQUIRE((*log)->append(b).has_value());
  clock.now += 499;
  b = make_batch(1, 1);
  REQUIRE((*log)->append(b).has_value());
  CHECK((*log)->segment_count() == 1);
  clock.now += 1;
  b = make_batch(2, 1);
  REQUIRE((*log)->append(b).has_value());
  CHECK((*log)->segment_count() == 2);
  // An idle segment rolls at its next append; the new one's age starts with that append.
  clock.now += 10'000;
  b = make_batch(3, 1);
  REQUIRE((*log)->append(b).has_value());
  CHECK((*log)->segment_count() == 3);
  clock.now += 499;
  b = make_batch(4, 1);
  REQUIRE((*log)->append(b).has_value());
  CHECK((*log)->segment_count() == 3);
  CHECK(read_all(**log).size() == 5);
}

TEST_CASE("retention by time deletes old sealed segments and advances the start") {
  TempDir tmp;
  ManualClock clock;
  PartitionOptions o;
  o.retention = 5000;
  auto log = ten_segments(tmp.path, clock, o);
  PartitionLog::Reader early(*log);  // positioned at offset 0
  auto r = log->apply_retention(1'000'000 + 9000);
  REQUIRE(r.has_value());
  // Newest timestamps 1'000'000 + s*1000 < now - 5000 = 1'004'000: segments 0..3.
  CHECK(r->segments_deleted == 4);
  CHECK(r->start_offset == Offset(400));
  CHECK(log->start_offset() == Offset(400));
  CHECK_FALSE(io::posix_file_system().exists(seg(tmp.path, 0)).value());
  CHECK_FALSE(io::posix_file_system().exists(seg(tmp.path, 0, ".index")).value());
  CHECK(io::posix_file_system().exists(seg(tmp.path, 400)).value());
  auto gone = early.next();
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().message.find("out of range") != std::string::npos);
  PartitionLog::Reader fresh(*log);
  auto first = fresh.next();
  REQUIRE(first.has_value());
  CHECK((*first)->base_offset() == Offset(400));
  // The active segment is never deleted, however old.
  r = log->apply_retention(1'000'000'000);
  CHECK(log->segment_count() == 1);
}

TEST_CASE("retention by time clamps far-future timestamps to the append time plus the skew") {
  TempDir tmp;
  ManualClock clock;
  PartitionOptions o;
  o.retention = 1000;
  o.max_future_skew = 100;
  o.clock = clock.fn();
  o.segment_age = 10;
  auto log = PartitionLog::open(io::posix_file_system(), tmp.path, o);
  REQUIRE(log.has_value());
  std::string b = make_batch(0, 1, 9'000'000'000);  // far in the future
  REQUIRE((*log)->append(b).has_value());
  clock.now += 20;
  b = make_batch(1, 1);
  REQUIRE((*log)->append(b).has_value());
  REQUIRE((*log)->segment_count() == 2);
  auto r = (*log)->apply_retention(clock.now + 2000);
  REQUIRE(r.has_value());
  CHECK(r->segments_deleted == 1);
}

TEST_CASE("retention by size deletes the oldest segments while the partition exceeds it") {
  TempDir tmp;
  ManualClock clock;
  PartitionOptions o;
  auto log = ten_segments(tmp.path, clock, PartitionOptions{});
  const uint64_t per_segment = log->size_bytes() / 10;
  // Re-open with a limit of 3.5 segments' worth.
  log.reset();
  o.retention_bytes = per_segment * 7 / 2;
  auto reopened = PartitionLog::open(io::posix_file_system(), tmp.path, o);
  REQUIRE(reopened.has_value());
  auto r = (*reopened)->apply_retention(0);
  REQUIRE(r.has_value());
  CHECK(r->segments_deleted == 7);
  CHECK((*reopened)->size_bytes() <= per_segment * 7 / 2);
  CHECK((*reopened)->start_offset() == Offset(700));
}

TEST_CASE("retention never deletes a segment holding a pinned offset or anything after it") {
  TempDir tmp;
  ManualClock clock;
  PartitionOptions o;
  o.retention_bytes = 1;
  auto log = ten_segments(tmp.path, clock, o);
  const PinId p1 = log->pin(Offset(250));
  const PinId p2 = log->pin(Offset(420));
  auto r = log->apply_retention(0);
  REQUIRE(r.has_value());
  CHECK(r->start_offset == Offset(200));  // segment 2 holds 250
  log->unpin(p1);
  r = log->apply_retention(0);
  CHECK(r->start_offset == Offset(400));
  log->unpin(p2);
  r = log->apply_retention(0);
  CHECK(r->start_offset == Offset(900));
  CHECK(log->lowest_pin() == std::nullopt);
}

TEST_CASE("a segment prepared ahead is renamed into place at roll time") {
  TempDir tmp;
  SegmentPreparer preparer;
  PartitionOptions o;
  o.segment_bytes = 256 << 10;
  o.preparer = &preparer;
  auto log = PartitionLog::open(io::posix_file_system(), tmp.path, o);
  REQUIRE(log.has_value());
  int next = 0;
  while ((*log)->segment_count() < 4) {
    std::string b = make_batch(next, 50);
    REQUIRE((*log)->append(b).has_value());
    next += 50;
    // Give the preparer time, as the half segment before a roll normally does.
    if ((*log)->stats().rolls_prepared + (*log)->stats().rolls_inline == (*log)->stats().rolls &&
        next % 2000 == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK((*log)->stats().rolls == 3);
  CHECK((*log)->stats().rolls_prepared >= 2);
  CHECK(read_all(**log).size() == size_t(next));
  REQUIRE((*log)->close().has_value());
  CHECK_FALSE(io::posix_file_system().exists(tmp.path + "/next.log.tmp").value());
  auto reopened = PartitionLog::open(io::posix_file_system(), tmp.path, PartitionOptions{});
  REQUIRE(reopened.has_value());
  CHECK((*reopened)->end_offset() == Offset(next));
  CHECK((*reopened)->stats().index_rebuilds == 0);
}
