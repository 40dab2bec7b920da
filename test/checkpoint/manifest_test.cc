#include "freshet/checkpoint/manifest.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <random>
#include <string>

using namespace freshet;
using namespace freshet::checkpoint;

namespace {

Manifest sample() {
  Manifest m;
  m.epoch = 42;
  m.created_ms = 1764064800123;
  m.shard_count = 2;
  m.queries.push_back(QueryEntry{
      "big_spenders",
      0xfedcba9876543210ULL,
      {{"payments", PartitionId(0), Offset(1234)}, {"payments", PartitionId(3), Offset(0)}}});
  m.queries.push_back(QueryEntry{"we\"ird\\name\n\x01é", 1, {}});
  m.state_files.push_back(StateFileEntry{ShardId(0), "shard-0.state", 4096, 0xdeadbeef});
  m.state_files.push_back(StateFileEntry{ShardId(1), "shard-1.state", 0, 0});
  m.sink_files.push_back(SinkFileEntry{"per_user", "main", 42, "/data/out/per_user.csv", 777,
                                       "/data/out/per_user-20261125T100000Z-000042.csv",
                                       "/data/out/.per_user.csv.pending/42", 99, "user,n\n"});
  m.sink_files.push_back(SinkFileEntry{"per_user", "late", 42, "/data/out/late/per_user.jsonl", 0,
                                       "", "/data/out/late/.per_user.jsonl.pending/42", 0, ""});
  return m;
}

}  // namespace

TEST_CASE("a manifest survives encode and decode unchanged") {
  const Manifest m = sample();
  const std::string text = encode(m);
  auto back = decode(text);
  REQUIRE_MESSAGE(back.has_value(), back.error().message);
  CHECK(*back == m);
  CHECK(encode(*back) == text);

  SUBCASE("an empty manifest too") {
    Manifest empty;
    auto e = decode(encode(empty));
    REQUIRE(e.has_value());
    CHECK(*e == empty);
  }
}

TEST_CASE("the manifest is one human-readable JSON object per file") {
  const std::string text = encode(sample());
  CHECK(text.back() == '\n');
  CHECK(text.find('\n') == text.size() - 1);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(simdjson::padded_string(text)).get(doc) == simdjson::SUCCESS);
  uint64_t epoch = 0;
  CHECK(doc["epoch"].get(epoch) == simdjson::SUCCESS);
  CHECK(epoch == 42);
  std::string_view fp;
  CHECK(doc["queries"].at(0)["state_fingerprint"].get(fp) == simdjson::SUCCESS);
  CHECK(fp == "fedcba9876543210");
  uint64_t crc = 0;
  CHECK(doc["crc32c"].get(crc) == simdjson::SUCCESS);
}

TEST_CASE("every truncation of a manifest is rejected") {
  const std::string text = encode(sample());
  for (size_t len = 0; len < text.size(); ++len) {
    auto r = decode(std::string_view(text).substr(0, len));
    REQUIRE_MESSAGE(!r.has_value(), "accepted a manifest cut to ", len, " bytes");
    CHECK(r.error().code == ErrorCode::kCorruption);
  }
}

TEST_CASE("every single flipped bit in a manifest is rejected") {
  const std::string text = encode(sample());
  for (size_t i = 0; i < text.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = text;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      auto r = decode(bad);
      REQUIRE_MESSAGE(!r.has_value(), "accepted a flip of bit ", bit, " at byte ", i);
      CHECK(r.error().code == ErrorCode::kCorruption);
    }
  }
}

TEST_CASE("random garbage and hand edits never decode and never crash") {
  const uint32_t seed = 20261125;
  INFO("seed ", seed);
  std::mt19937 rng(seed);
  const std::string text = encode(sample());
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 300, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 0) junk = text.substr(0, rng() % text.size()) + junk;  // torn tail
    CHECK(!decode(junk).has_value());
  }
  // A hand edit that keeps the JSON valid is still caught by the crc.
  std::string edited = text;
  edited.replace(edited.find("1234"), 4, "1235");
  auto r = decode(edited);
  REQUIRE(!r.has_value());
  CHECK(r.error().message.find("crc32c mismatch") != std::string::npos);
}

TEST_CASE("a manifest with a valid crc but bad content is rejected") {
  auto reseal = [](Manifest m) { return decode(encode(m)); };
  SUBCASE("another format version") {
    Manifest m = sample();
    m.format_version = 2;
    auto r = reseal(m);
    REQUIRE(!r.has_value());
    CHECK(r.error().message.find("format version 2") != std::string::npos);
  }
  SUBCASE("a state file of a shard that does not exist") {
    Manifest m = sample();
    m.state_files[1].shard = ShardId(2);
    CHECK(!reseal(m).has_value());
  }
  SUBCASE("a state file outside the epoch directory") {
    Manifest m = sample();
    m.state_files[0].file = "../../etc/passwd";
    CHECK(!reseal(m).has_value());
  }
  SUBCASE("a sink file without a live path") {
    Manifest m = sample();
    m.sink_files[0].live_path.clear();
    CHECK(!reseal(m).has_value());
  }
}
