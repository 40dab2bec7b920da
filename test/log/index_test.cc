// Offset and time lookups against a brute-force scan, and index rebuilds.

#include <doctest/doctest.h>

#include <cstdlib>
#include <random>

#include "freshet/log/partition_log.h"
#include "log_test_util.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::log;
using namespace freshet::log::testing;
using freshet::testing::TempDir;

namespace {

struct BatchInfo {
  Offset base, last;
  TimestampMs max_ts;
};

PartitionOptions opts() {
  PartitionOptions o;
  o.segment_bytes = 16 << 10;
  o.index_interval_bytes = 512;
  return o;
}

// Random batches (1..40 records, timestamps that wander back and forth) into `log`.
std::vector<BatchInfo> fill(PartitionLog& log, std::mt19937& rng, int batches) {
  std::vector<BatchInfo> out;
  TimestampMs ts = 1'000'000;
  for (int i = 0; i < batches; ++i) {
    const int n = 1 + static_cast<int>(rng() % 40);
    std::string buf;
    BatchBuilder b(buf, ts);
    TimestampMs max_ts = kMinTimestamp;
    for (int k = 0; k < n; ++k) {
      ts += static_cast<TimestampMs>(rng() % 100) - 30;
      b.add(std::nullopt, std::string(rng() % 60, 'x'), ts);
      max_ts = std::max(max_ts, ts);
    }
    b.finish(Offset(0));
    auto base = log.append(buf);
    REQUIRE(base.has_value());
    out.push_back({*base, *base + (n - 1), max_ts});
  }
  return out;
}

void check_lookups(PartitionLog& log, const std::vector<BatchInfo>& batches, std::mt19937& rng) {
  const int64_t end = batches.back().last.value() + 1;
  for (int q = 0; q < 300; ++q) {
    const Offset o(static_cast<int64_t>(rng() % static_cast<uint64_t>(end)));
    PartitionLog::Reader r(log);
    REQUIRE(r.seek(o).has_value());
    auto b = r.next();
    REQUIRE(b.has_value());
    REQUIRE(b->has_value());
    CAPTURE(o);
    CHECK((*b)->base_offset() <= o);
    CHECK((*b)->last_offset() >= o);
  }
  const TimestampMs lo = 1'000'000 - 5000, hi = batches.back().max_ts + 5000;
  for (int q = 0; q < 300; ++q) {
    const TimestampMs t = lo + static_cast<TimestampMs>(rng() % static_cast<uint64_t>(hi - lo));
    std::optional<Offset> want;
    for (const auto& b : batches)
      if (b.max_ts >= t) {
        want = b.base;
        break;
      }
    CAPTURE(t);
    auto got = log.offset_for_time(t);
    REQUIRE(got.has_value());
    CHECK(*got == want);
  }
}

}  // namespace

TEST_CASE("offset and time lookups agree with a brute-force scan, before and after reopening") {
  TempDir tmp;
  const uint32_t seed = test_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  auto& fs = io::posix_file_system();
  std::vector<BatchInfo> batches;
  {
    auto log = PartitionLog::open(fs, tmp.path, opts());
    REQUIRE(log.has_value());
    batches = fill(**log, rng, 400);
    CHECK((*log)->segment_count() > 5);
    check_lookups(**log, batches, rng);
    REQUIRE((*log)->close().has_value());
  }
  auto log = PartitionLog::open(fs, tmp.path, opts());
  REQUIRE(log.has_value());
  CHECK((*log)->stats().index_rebuilds == 0);
  check_lookups(**log, batches, rng);
}

TEST_CASE("seek clamps below the start and refuses beyond the end") {
  TempDir tmp;
  auto log = PartitionLog::open(io::posix_file_system(), tmp.path, opts());
  REQUIRE(log.has_value());
  std::string b = make_batch(0, 5);
  REQUIRE((*log)->append(b).has_value());
  PartitionLog::Reader r(**log);
  CHECK(r.seek(Offset(5)).has_value());  // the end itself: caught up
  CHECK_FALSE(r.next().value().has_value());
  CHECK(r.seek(Offset(6)).error().code == ErrorCode::kInvalidArgument);
  CHECK(r.seek(Offset(-3)).has_value());
  CHECK(r.position() == Offset(0));
}

TEST_CASE("a deleted, truncated or stale index is rebuilt from its segment") {
  TempDir tmp;
  const uint32_t seed = test_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  auto& fs = io::posix_file_system();
  std::vector<BatchInfo> batches;
  {
    auto log = PartitionLog::open(fs, tmp.path, opts());
    REQUIRE(log.has_value());
    batches = fill(**log, rng, 200);
    REQUIRE((*log)->close().has_value());
  }
  const std::string idx0 = seg(tmp.path, 0, ".index");
  const std::string tidx0 = seg(tmp.path, 0, ".timeindex");
  const std::string original = read_file(idx0);
  REQUIRE(original.size() >= 16);

  SUBCASE("deleted") { REQUIRE(fs.unlink(idx0).has_value()); }
  SUBCASE("time index deleted") { REQUIRE(fs.unlink(tidx0).has_value()); }
  SUBCASE("truncated to half") {
    auto fd = fs.open(idx0, O_RDWR, 0);
    REQUIRE(fs.ftruncate(fd->get(), original.size() / 2 / 8 * 8).has_value());
  }
  SUBCASE("stale: an entry past the data") {
    std::string e(8, '\0');
    e[3] = 0x7f;  // relative offset 127
    e[6] = 0x7f;  // position 0x7f00: beyond the 16 KiB segment's batches
    write_at(idx0, original.size() - 8, e);
  }
  SUBCASE("stale: not monotonic") { write_at(idx0, 8, original.substr(0, 8)); }

  auto log = PartitionLog::open(fs, tmp.path, opts());
  REQUIRE(log.has_value());
  REQUIRE_FALSE((*log)->failed());
  CHECK((*log)->stats().index_rebuilds == 1);
  CHECK(read_file(idx0) == original);  // rebuilt to the same bytes
  check_lookups(**log, batches, rng);
}

TEST_CASE("a damaged entry inside a sealed index misleads no lookup") {
  // Like Kafka, open() checks a sealed segment's index only at its end (reading every entry's
  // batch would read the whole log at start-up); lookups check the batch an entry names.
  TempDir tmp;
  const uint32_t seed = test_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  auto& fs = io::posix_file_system();
  std::vector<BatchInfo> batches;
  {
    auto log = PartitionLog::open(fs, tmp.path, opts());
    REQUIRE(log.has_value());
    batches = fill(**log, rng, 200);
    REQUIRE((*log)->close().has_value());
  }
  const std::string idx0 = seg(tmp.path, 0, ".index");
  std::string e = read_file(idx0).substr(0, 8);
  e[7] = static_cast<char>(e[7] + 1);  // position: into the middle of a batch
  write_at(idx0, 0, e);
  auto log = PartitionLog::open(fs, tmp.path, opts());
  REQUIRE(log.has_value());
  check_lookups(**log, batches, rng);
}
