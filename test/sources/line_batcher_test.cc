#include "freshet/sources/line_batcher.h"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "freshet/base/hash.h"

using namespace freshet;
using namespace freshet::sources;

namespace {

using Records = std::map<int32_t, std::vector<std::string>>;  // partition -> "key|value"

struct Collect {
  Records records;
  size_t batches = 0;
  LineBatcher::Emit emit() {
    return [this](int32_t p, std::string&& bytes, uint32_t n) {
      auto v = log::BatchView::parse(bytes.data(), bytes.size());
      REQUIRE(v.has_value());
      CHECK(v->record_count() == n);
      auto it = v->records();
      log::RecordView r;
      while (it.next(r))
        records[p].push_back(std::string(r.key.value_or("<null>")) + "|" + std::string(*r.value));
      ++batches;
    };
  }
};

std::string sample(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i % 7 == 3)
      s += "not json at all\n";
    else if (i % 11 == 5)
      s += "{\"other\":1}\r\n";
    else
      s += "{\"user\":{\"id\":\"u" + std::to_string(i % 13) + "\"},\"n\":" + std::to_string(i) +
           "}\n";
    if (i % 17 == 0) s += "\n   \n";  // blank lines are not records
  }
  return s + "{\"user\":{\"id\":42},\"last\":true}";  // no newline at the end, numeric key
}

}  // namespace

TEST_CASE("records are the same whatever the chunking of the input") {
  const std::string input = sample(500);
  Collect whole;
  LineBatcher a("user.id", 4, whole.emit());
  a.feed(input, 1000);
  a.end_of_file(1000);
  a.flush();
  std::mt19937 rng(11);
  for (int round = 0; round < 20; ++round) {
    Collect pieces;
    LineBatcher b("user.id", 4, pieces.emit(), 512);
    for (size_t at = 0; at < input.size();) {
      size_t n = std::min<size_t>(input.size() - at, 1 + rng() % 97);
      b.feed(std::string_view(input).substr(at, n), 1000);
      at += n;
    }
    b.end_of_file(1000);
    b.flush();
    CHECK(pieces.records == whole.records);
    CHECK(pieces.batches > whole.batches);  // the small batch limit cut batches
    CHECK(b.lines() == a.lines());
  }
}

TEST_CASE("keyed lines follow Kafka's partitioner and unkeyed ones go round-robin") {
  Collect c;
  LineBatcher b("user.id", 3, c.emit());
  b.feed(sample(60), 0);
  b.end_of_file(0);
  b.flush();
  size_t keyed = 0, unkeyed = 0;
  for (const auto& [p, recs] : c.records)
    for (const auto& r : recs) {
      const std::string key = r.substr(0, r.find('|'));
      if (key == "<null>") {
        ++unkeyed;
        continue;
      }
      ++keyed;
      CHECK(kafka_partition(key, 3) == p);
    }
  CHECK(keyed > 40);
  CHECK(unkeyed > 10);  // invalid JSON and objects without the field are kept, unkeyed
  // The numeric key of the last line is its JSON text; its CR-free value is stored as is.
  bool found = false;
  for (const auto& [p, recs] : c.records)
    for (const auto& r : recs)
      if (r == "42|{\"user\":{\"id\":42},\"last\":true}") found = true;
  CHECK(found);
  for (const auto& [p, recs] : c.records)
    for (const auto& r : recs) CHECK(r.find('\r') == std::string::npos);
}

TEST_CASE("bytes_consumed counts only complete lines") {
  Collect c;
  LineBatcher b("", 1, c.emit());
  b.feed("{\"a\":1}\n{\"a\":", 0);
  CHECK(b.bytes_consumed() == 8);
  b.feed("2}\n", 0);
  CHECK(b.bytes_consumed() == 16);
  b.flush();
  CHECK(c.records[0].size() == 2);
}

TEST_CASE("unkeyed lines go to line number % partitions, resumed streams included") {
  auto lines = [](int from, int to) {
    std::string s;
    for (int i = from; i < to; ++i) s += "l" + std::to_string(i) + (i % 4 == 1 ? "\n \n" : "\n");
    return s;
  };
  Collect c;
  LineBatcher b("", 3, c.emit());
  b.feed(lines(0, 10), 0);
  CHECK(b.open_bytes() > 0);  // nothing is handed over before a flush
  CHECK(c.batches == 0);
  b.flush();
  CHECK(b.open_bytes() == 0);
  Collect resumed;
  LineBatcher r("", 3, resumed.emit());
  r.resume_at(7, {0, 0, 0});
  r.feed(lines(7, 12), 0);
  r.flush();
  for (const Collect* got : {&c, &resumed})
    for (const auto& [p, recs] : got->records)
      for (const auto& rec : recs) {
        CAPTURE(rec);
        CHECK(std::stoi(rec.substr(rec.find("|l") + 2)) % 3 == p);
      }
  CHECK(resumed.records[1].front() == "<null>|l7");
}

TEST_CASE("batches built on another shard are byte for byte the ones built here") {
  // Two files, fed in random pieces with a clock that moves, positions tracked, a resumed
  // stream: the remote half of the partitions must come out exactly as a local batcher
  // makes them, built only after the caller has let go of the bytes they were fed from.
  const std::string first = sample(700), second = sample(300) + "\n";
  for (const char* key : {"user.id", ""}) {
    CAPTURE(key);
    using Batches = std::map<int32_t, std::vector<std::string>>;
    Batches here, there;
    std::vector<std::pair<int32_t, LineBatcher::Remote>> pending;
    LineBatcher a(
        key, 4, [&](int32_t p, std::string&& x, uint32_t) { here[p].push_back(x); }, 700);
    LineBatcher b(
        key, 4, [&](int32_t p, std::string&& x, uint32_t) { there[p].push_back(x); }, 700);
    b.build_elsewhere({false, true, true, false}, [&](int32_t p, LineBatcher::Remote&& r) {
      CHECK((p == 1 || p == 2));
      pending.emplace_back(p, std::move(r));
    });
    for (LineBatcher* x : {&a, &b}) {
      x->track_positions("s", "/in/a.jsonl", 5);
      x->resume_at(40, {0, 60, 0, 0});
      x->begin_file("/in/a.jsonl", 5);
    }
    std::mt19937 rng(7);
    TimestampMs now = 1000;
    for (const std::string* file : {&first, &second}) {
      if (file == &second)
        for (LineBatcher* x : {&a, &b}) {
          x->end_of_file(now);
          x->begin_file("/in/b.jsonl", 0);
        }
      for (size_t at = 0; at < file->size();) {
        const size_t n = std::min<size_t>(file->size() - at, 1 + rng() % 300);
        auto piece = std::make_shared<std::string>(file->substr(at, n));
        a.feed(*piece, now);
        b.feed(*piece, now, piece);
        piece.reset();  // only the remote batches hold it now
        at += n;
        now += static_cast<TimestampMs>(rng() % 3);
      }
    }
    for (LineBatcher* x : {&a, &b}) {
      x->end_of_file(now);
      x->flush();
    }
    CHECK(a.open_bytes() == 0);
    CHECK(b.open_bytes() == 0);
    REQUIRE(pending.size() > 4);
    for (auto& [p, r] : pending) {
      std::string bytes;
      const uint32_t n = LineBatcher::build_remote(r, bytes);
      CHECK(n == r.lines.size());
      there[p].push_back(std::move(bytes));
    }
    REQUIRE(here.size() == 4);
    CHECK(here == there);
  }
}
