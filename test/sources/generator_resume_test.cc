// The generator after kill -9: resumed from the positions its batches carry, every partition
// ends up with exactly what an uninterrupted run writes there.

#include <doctest/doctest.h>

#include <random>

#include "crash_util.h"
#include "freshet/sources/generator_source.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::sources;
using namespace freshet::sources::testing;
using freshet::testing::TempDir;

namespace {

constexpr TimestampMs kStartTime = 1'764'064'800'000;
constexpr TimestampMs kStartWall = 1'764'100'000'000;

GeneratorOptions options(int partitions, bool keyed) {
  GeneratorOptions o;
  o.name = "demo";
  o.profile.seed = 9;
  o.profile.rate_per_sec = 1e6;
  o.profile.start_time = kStartTime;
  o.profile.out_of_order = 500;
  o.count = 3000;
  o.key_field = keyed ? "card_id" : "";
  o.partitions = partitions;
  o.start_wall_ms = kStartWall;
  return o;
}

// Slice s of `slices` owns the partitions p with p % slices == s, as shards do.
std::vector<std::unique_ptr<GeneratorSource>> slices_of(const GeneratorOptions& o,
                                                        const Parts& parts, int slices) {
  std::vector<std::unique_ptr<GeneratorSource>> out;
  for (int s = 0; s < slices; ++s) {
    std::vector<log::PartitionLog*> owned(parts.size(), nullptr);
    for (size_t p = 0; p < parts.size(); ++p)
      if (static_cast<int>(p) % slices == s) owned[p] = parts[p].get();
    out.push_back(std::make_unique<GeneratorSource>(o, owned, 0));
  }
  return out;
}

}  // namespace

TEST_CASE("a generator killed at any point resumes with no duplicate and no gap") {
  const uint32_t seed = 20261125;
  for (int partitions = 1; partitions <= 3; ++partitions)
    for (bool keyed : {false, true})
      for (int slices = 1; slices <= std::min(partitions, 2); ++slices) {
        CAPTURE(partitions);
        CAPTURE(keyed);
        CAPTURE(slices);
        TempDir ref_dir;
        std::vector<std::vector<std::string>> expected;
        {
          Parts ref = open_parts(ref_dir.path, partitions);
          GeneratorSource g(options(partitions, keyed), raw(ref), 0);
          while (!g.finished()) REQUIRE(g.step(int64_t{1} << 60, 1000).has_value());
          for (const auto& l : ref) expected.push_back(contents(*l));
        }
        std::mt19937 rng(seed + static_cast<uint32_t>(partitions * 10 + keyed * 2 + slices));
        for (int trial = 0; trial < 12; ++trial) {
          CAPTURE(trial);
          TempDir d;
          std::vector<size_t> batches;
          {
            Parts parts = open_parts(d.path, partitions);
            auto gens = slices_of(options(partitions, keyed), parts, slices);
            // Small, uneven steps: many batches, and slices at different points of the stream.
            const int steps = static_cast<int>(rng() % 30);
            for (int i = 0; i < steps; ++i)
              REQUIRE(gens[rng() % gens.size()]->step(int64_t{1} << 60, 1 + rng() % 300));
            for (const auto& l : parts) batches.push_back(batch_count(*l));
          }
          // kill -9: each partition keeps its own prefix of batches, maybe a torn one after.
          for (int p = 0; p < partitions; ++p)
            crash_cut(d.path + "/" + std::to_string(p), rng() % (batches[size_t(p)] + 1),
                      rng() % 2 == 0);
          Parts parts = open_parts(d.path, partitions);
          const auto pos = positions(parts, "demo");
          // A restart passes the config's start_time (here: a new one) and the time it starts;
          // recovered positions override both.
          GeneratorOptions again = options(partitions, keyed);
          const bool any = std::any_of(pos.begin(), pos.end(), [](auto& v) { return bool(v); });
          if (any) {
            again.profile.start_time = kStartTime + 777;
            again.start_wall_ms = kStartWall + 60'000;
          }
          auto gens = slices_of(again, parts, slices);
          for (auto& g : gens) {
            REQUIRE(g->resume(pos).has_value());
            CHECK(g->start_time() == kStartTime);
          }
          for (auto& g : gens)
            while (!g->finished()) REQUIRE(g->step(int64_t{1} << 60, 1 + rng() % 700));
          for (int p = 0; p < partitions; ++p)
            CHECK(contents(*parts[size_t(p)]) == expected[size_t(p)]);
        }
      }
}

TEST_CASE("a resumed generator catches up on its downtime, then paces itself again") {
  TempDir d;
  GeneratorOptions o = options(2, false);
  o.profile.rate_per_sec = 1000;
  o.count.reset();
  {
    Parts parts = open_parts(d.path, 2);
    GeneratorSource g(o, raw(parts), 0);
    CHECK(g.step(500'000'000, 1'000'000).value() == 500);  // half a second at 1000/s
  }
  Parts parts = open_parts(d.path, 2);
  const auto pos = positions(parts, "demo");
  CHECK(GeneratorPosition::decode(*pos[0]).value() ==
        GeneratorPosition{499, kStartTime, kStartWall});
  CHECK(GeneratorPosition::decode(*pos[1]).value() ==
        GeneratorPosition{500, kStartTime, kStartWall});
  // Restarted ten seconds (wall) after the first start, on a monotonic clock at 7 s.
  o.start_wall_ms = kStartWall + 10'000;
  const int64_t restart_ns = 7'000'000'000;
  GeneratorSource g(o, raw(parts), restart_ns);
  REQUIRE(g.resume(pos).has_value());
  CHECK(g.step(restart_ns, 1'000'000).value() == 9'500);  // events 500..9 999 were due
  CHECK(g.step(restart_ns, 1'000'000).value() == 0);
  CHECK(g.step(restart_ns + 2'000'000, 1'000'000).value() == 2);
  CHECK(parts[0]->end_offset() + (parts[1]->end_offset() - Offset(0)) == Offset(10'002));
}

TEST_CASE("a bounded generator that had finished is finished at once after resume") {
  TempDir d;
  {
    Parts parts = open_parts(d.path, 3);
    GeneratorSource g(options(3, true), raw(parts), 0);
    while (!g.finished()) REQUIRE(g.step(int64_t{1} << 60, 1000).has_value());
  }
  Parts parts = open_parts(d.path, 3);
  GeneratorSource g(options(3, true), raw(parts), 0);
  REQUIRE(g.resume(positions(parts, "demo")).has_value());
  CHECK(g.finished());
  CHECK(g.step(int64_t{1} << 60, 1000).value() == 0);
}

TEST_CASE("positions that disagree on the stream are refused") {
  TempDir d;
  Parts parts = open_parts(d.path, 2);
  GeneratorSource g(options(2, false), raw(parts), 0);
  const std::vector<std::optional<std::string>> pos{
      GeneratorPosition{10, kStartTime, kStartWall}.encode(),
      GeneratorPosition{11, kStartTime + 1, kStartWall}.encode()};
  CHECK(g.resume(pos).error().code == ErrorCode::kCorruption);
  CHECK(g.resume({std::string("nonsense")}).error().code == ErrorCode::kCorruption);
}
