#include "alignment.h"

#include <doctest/doctest.h>

#include <vector>

using namespace freshet;
using server::Marks;
using server::PartitionMark;
using server::WatermarkAlignment;

namespace {
constexpr DurationMs kDrift = 30'000;
constexpr TimestampMs kBase = 1'764'064'800'000;
}  // namespace

TEST_CASE("idle and finished partitions leave the group; one without a watermark holds it") {
  std::vector<PartitionMark> p{{kBase, true}, {kBase + 90'000, true}, {kBase - 60'000, false}};
  Marks m = server::marks_of(p);
  CHECK(m.low == kBase);
  CHECK(m.high == kBase + 90'000);
  // Until it has data or goes idle, an empty active partition holds the low mark, as it holds
  // the event-time watermark.
  p.push_back({kMinTimestamp, true});
  CHECK(server::marks_of(p).low == kMinTimestamp);
  CHECK(server::marks_of(p).high == kBase + 90'000);
  p.back().active = false;
  CHECK(server::marks_of(p).low == kBase);
  for (auto& x : p) x.active = false;
  CHECK(server::marks_of(p).low == kMaxTimestamp);
}

TEST_CASE("a partition more than max_drift ahead of the group's low mark is paused") {
  WatermarkAlignment a;
  a.reset(1, ShardId(0), kDrift);
  REQUIRE(a.pausing());
  CHECK(a.may_read(kBase, kBase));           // the low mark itself
  CHECK(a.may_read(kBase + kDrift, kBase));  // at the bound
  CHECK_FALSE(a.may_read(kBase + kDrift + 1, kBase));
  // Nothing active anywhere: nothing to align with.
  CHECK(a.may_read(kBase, kMaxTimestamp));
  // A partition about to get its first watermark holds everyone with one.
  CHECK(a.may_read(kMinTimestamp, kMinTimestamp));
  CHECK_FALSE(a.may_read(kBase, kMinTimestamp));
  CHECK_FALSE(a.may_read(kMinTimestamp + 5, kMinTimestamp));
}

TEST_CASE("without max_drift nothing is paused, and the spread is still measured") {
  WatermarkAlignment a;
  a.reset(2, ShardId(0), std::nullopt);
  CHECK_FALSE(a.pausing());
  a.on_report(ShardId(1), kBase);
  CHECK(a.may_read(kBase + 10 * kDrift, kBase + 10 * kDrift));
  a.observe(Marks{kBase + 10 * kDrift, kBase + 10 * kDrift});
  CHECK(a.max_spread() == 10 * kDrift);
}

TEST_CASE("the shards' reports make the group: the lowest of them holds everyone") {
  WatermarkAlignment a;
  a.reset(3, ShardId(1), kDrift);
  // Not heard from yet: shards 0 and 2 count as kMinTimestamp, nobody with a watermark reads.
  CHECK(a.group_low(kBase) == kMinTimestamp);
  CHECK_FALSE(a.may_read(kBase, kBase));
  a.on_report(ShardId(0), kBase - 40'000);
  a.on_report(ShardId(2), kMaxTimestamp);  // no active partition there
  CHECK(a.group_low(kBase) == kBase - 40'000);
  // This shard's own lowest partition is too far ahead of shard 0's: it waits...
  CHECK_FALSE(a.may_read(kBase, kBase));
  // ... while shard 0's low partition, the group's minimum, is never paused there.
  WatermarkAlignment zero;
  zero.reset(3, ShardId(0), kDrift);
  zero.on_report(ShardId(1), kBase);
  zero.on_report(ShardId(2), kMaxTimestamp);
  CHECK(zero.may_read(kBase - 40'000, kBase - 40'000));
  // Shard 0 moves on and says so: shard 1 reads again.
  a.on_report(ShardId(0), kBase - 10'000);
  CHECK(a.may_read(kBase, kBase));
  // Shard 0's partitions go idle or finish: it leaves the group.
  a.on_report(ShardId(0), kMaxTimestamp);
  CHECK(a.group_low(kBase + 5) == kBase + 5);
  CHECK(a.may_read(kBase + 5, kBase + 5));
}

TEST_CASE("the spread is the highest local watermark over the group's low mark, at its largest") {
  WatermarkAlignment a;
  a.reset(2, ShardId(0), kDrift);
  CHECK(a.max_spread() == -1);
  a.observe(Marks{kBase, kBase + 5'000});  // shard 1 not heard from: no spread yet
  CHECK(a.max_spread() == -1);
  a.on_report(ShardId(1), kBase - 20'000);
  a.observe(Marks{kBase, kBase + 5'000});
  CHECK(a.max_spread() == 25'000);
  a.on_report(ShardId(1), kBase + 4'000);
  a.observe(Marks{kBase + 4'000, kBase + 6'000});
  CHECK(a.max_spread() == 25'000);                 // the largest, not the last
  a.observe(Marks{kMaxTimestamp, kMinTimestamp});  // nothing active here
  CHECK(a.max_spread() == 25'000);
}
