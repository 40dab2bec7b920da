#include "freshet/sources/generator_source.h"

#include <doctest/doctest.h>

#include <simdjson.h>
#include "temp_dir.h"

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "freshet/base/hash.h"
#include "freshet/io/file_system.h"

using namespace freshet;
using namespace freshet::sources;

using freshet::testing::TempDir;

namespace {

using Parts = std::vector<std::unique_ptr<log::PartitionLog>>;

Parts open_parts(const std::string& dir, int n) {
  Parts parts;
  for (int p = 0; p < n; ++p) {
    auto l = log::PartitionLog::open(io::posix_file_system(), dir + "/" + std::to_string(p), {});
    REQUIRE(l.has_value());
    parts.push_back(std::move(*l));
  }
  return parts;
}

std::vector<std::string> contents(log::PartitionLog& l) {
  std::vector<std::string> out;
  log::PartitionLog::Reader r(l);
  for (;;) {
    auto b = r.next();
    REQUIRE(b.has_value());
    if (!*b) break;
    auto it = (*b)->records();
    log::RecordView rec;
    while (it.next(rec))
      out.emplace_back(std::string(rec.key.value_or("<null>")) + "|" + std::string(*rec.value));
  }
  return out;
}

GeneratorOptions options(int partitions) {
  GeneratorOptions o;
  o.profile.seed = 9;
  o.profile.rate_per_sec = 1e6;
  o.profile.start_time = 1'764'064'800'000;
  o.profile.out_of_order = 500;
  o.count = 20000;
  o.key_field = "card_id";
  o.partitions = partitions;
  return o;
}

}  // namespace

TEST_CASE("every partition holds the same records whether one or two shards generate them") {
  TempDir d1, d2;
  Parts one = open_parts(d1.path, 4), two = open_parts(d2.path, 4);
  std::vector<log::PartitionLog*> all, even(4, nullptr), odd(4, nullptr);
  for (int p = 0; p < 4; ++p) {
    all.push_back(one[static_cast<size_t>(p)].get());
    (p % 2 == 0 ? even : odd)[static_cast<size_t>(p)] = two[static_cast<size_t>(p)].get();
  }
  GeneratorSource a(options(4), all, 0), b0(options(4), even, 0), b1(options(4), odd, 0);
  // Uneven steps on purpose: batching must not change the contents.
  while (!a.finished()) REQUIRE(a.step(int64_t{1} << 60, 777).has_value());
  while (!b0.finished()) REQUIRE(b0.step(int64_t{1} << 60, 5000).has_value());
  while (!b1.finished()) REQUIRE(b1.step(int64_t{1} << 60, 131).has_value());
  CHECK(a.appended() == 20000);
  CHECK(b0.appended() + b1.appended() == 20000);
  for (size_t p = 0; p < 4; ++p) CHECK(contents(*one[p]) == contents(*two[p]));
}

TEST_CASE("records are keyed by card_id and land on Kafka's partition for that key") {
  TempDir d;
  Parts parts = open_parts(d.path, 3);
  std::vector<log::PartitionLog*> all{parts[0].get(), parts[1].get(), parts[2].get()};
  GeneratorSource g(options(3), all, 0);
  while (!g.finished()) REQUIRE(g.step(int64_t{1} << 60, 4096).has_value());
  simdjson::ondemand::parser parser;
  std::map<std::string, int> hot;
  for (size_t p = 0; p < 3; ++p)
    for (const auto& kv : contents(*parts[p])) {
      const auto bar = kv.find('|');
      const std::string key = kv.substr(0, bar);
      CHECK(kafka_partition(key, 3) == static_cast<int32_t>(p));
      simdjson::padded_string json(kv.substr(bar + 1));
      auto doc = parser.iterate(json);
      std::string_view card;
      REQUIRE(doc["card_id"].get_string().get(card) == simdjson::SUCCESS);
      CHECK(card == key);
      ++hot[key];
    }
  // A few hot cards: c-0000..c-0009 carry about 30% of the events.
  int hot_total = 0;
  for (int c = 0; c < 10; ++c) hot_total += hot[fmt::format("c-{:04}", c)];
  CHECK(hot_total > 20000 * 0.25);
  CHECK(hot_total < 20000 * 0.36);
}

TEST_CASE("the generator paces itself by rate and bounds the out-of-order delay") {
  TempDir d;
  Parts parts = open_parts(d.path, 1);
  GeneratorOptions o = options(1);
  o.profile.rate_per_sec = 1000;
  o.count.reset();
  GeneratorSource g(o, {parts[0].get()}, 0);
  CHECK(g.step(500'000'000, 1'000'000).value() == 500);  // half a second at 1000/s
  CHECK(g.step(500'000'000, 1'000'000).value() == 0);
  CHECK(g.step(1'000'000'000, 1'000'000).value() == 500);
  PaymentsProfile profile(o.profile);
  std::string json, key;
  for (uint64_t n = 0; n < 5000; ++n) {
    const TimestampMs ts = profile.event(n, "card_id", json, key);
    const TimestampMs nominal = o.profile.start_time + static_cast<int64_t>(n);
    CHECK(ts <= nominal);
    CHECK(ts >= nominal - o.profile.out_of_order);
  }
}

TEST_CASE("a large step is cut into batches that fit a minimum-size segment") {
  // Regression: one step of 60 000 events into one partition built a single 1.1 MiB batch,
  // larger than a 1 MiB segment, and the source failed.
  TempDir d;
  log::PartitionOptions po;
  po.segment_bytes = 1 << 20;
  auto l = log::PartitionLog::open(io::posix_file_system(), d.path + "/0", po);
  REQUIRE(l.has_value());
  GeneratorOptions o = options(1);
  o.count = 60000;
  GeneratorSource g(o, {l->get()}, 0);
  REQUIRE(g.step(int64_t{1} << 60, 1 << 20).value() == 60000);
  log::PartitionLog::Reader r(**l);
  size_t batches = 0;
  for (;;) {
    auto b = r.next();
    REQUIRE(b.has_value());
    if (!*b) break;
    CHECK((*b)->size() < 70 * 1024);
    ++batches;
  }
  CHECK(batches > 50);
  CHECK((*l)->end_offset() == Offset(60000));
}
