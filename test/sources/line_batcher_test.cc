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
