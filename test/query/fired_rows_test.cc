// FiredRows: sort_from orders by row_before, whatever the keys (its shortcuts compare the
// first 16 key bytes as words, and the texts' hashes of rows without a key), and copies keep
// every field.

#include "freshet/query/fired_rows.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <tuple>

using namespace freshet;
using namespace freshet::query;

namespace {

// row_before's order, spelled out: time, key, version, then the text by its hash and itself.
using Flat = std::tuple<TimestampMs, TimestampMs, std::string, uint32_t, uint64_t, std::string, int,
                        std::vector<FiredRow::Bounds>>;

Flat flat(const FiredRow& r) {
  return {r.window_end,
          r.window_start,
          std::string(r.sort_key),
          r.version,
          hash64(r.line),
          std::string(r.line),
          static_cast<int>(r.kind),
          std::vector<FiredRow::Bounds>(r.replaces.begin(), r.replaces.end())};
}

std::vector<Flat> flat(const FiredRows& rows) {
  std::vector<Flat> out;
  for (const FiredRow r : rows) out.push_back(flat(r));
  return out;
}

// Keys that share long prefixes, embed zero bytes, are prefixes of one another and cross the
// 16-byte boundary, so every branch of the comparison is taken.
std::string random_key(std::mt19937_64& rng) {
  static const std::string kStems[] = {
      "", "a", std::string("\0\0", 2), "0123456789abcdef", "0123456789abcde", "0123456789abcdefX"};
  std::string k = kStems[rng() % 6];
  const size_t extra = rng() % 4;
  for (size_t i = 0; i < extra; ++i) k.push_back(static_cast<char>("\0a\xff"[rng() % 3]));
  return k;
}

}  // namespace

TEST_CASE("sort_from orders rows exactly by row_before") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    FiredRows rows;
    const size_t n = rng() % 60;
    for (size_t i = 0; i < n; ++i) {
      const TimestampMs start = static_cast<TimestampMs>(rng() % 3) * 1000;
      const std::string key = random_key(rng);
      std::string& line =
          rows.start_row(start, start + 1000 * (1 + rng() % 2), key,
                         static_cast<uint32_t>(rng() % 2), FiredRow::Kind::kLateUpdate);
      line += "{\"v\":" + std::to_string(rng() % 3) + "}";
      rows.finish_row();
      if (rng() % 4 == 0) rows.add_replaced({1, 2});
    }
    std::vector<Flat> expected = flat(rows);
    const size_t from = n == 0 ? 0 : rng() % n;
    rows.sort_from(from);
    std::sort(expected.begin() + static_cast<ptrdiff_t>(from), expected.end());
    // The same rows (rows equal under row_before may differ in their replaced bounds, in
    // either order), each before the next.
    std::vector<Flat> got = flat(rows);
    CHECK(std::equal(got.begin(), got.begin() + static_cast<ptrdiff_t>(from), expected.begin()));
    std::sort(got.begin() + static_cast<ptrdiff_t>(from), got.end());
    CHECK(got == expected);
    for (size_t i = from + 1; i < rows.size(); ++i) CHECK_FALSE(row_before(rows[i], rows[i - 1]));
  }
}

TEST_CASE("sort_from: batches made of a few runs in time order, as stateless rows come") {
  std::mt19937_64 rng(13);
  for (int round = 0; round < 100; ++round) {
    FiredRows rows;
    const size_t runs = 1 + rng() % 7;
    for (size_t r = 0; r < runs; ++r) {
      // Times in order within a run, many rows sharing one; the runs overlap in time.
      TimestampMs t = static_cast<TimestampMs>(rng() % 5);
      const size_t n = 20 + rng() % 200;
      for (size_t i = 0; i < n; ++i) {
        t += static_cast<TimestampMs>(rng() % 3 == 0);
        const std::string key = rng() % 2 ? std::string() : random_key(rng);
        std::string& line = rows.start_row(t, t, key, 0, FiredRow::Kind::kFinal);
        line += "{\"v\":" + std::to_string(rng() % 50) + "}";
        rows.finish_row();
      }
    }
    std::vector<Flat> expected = flat(rows);
    std::sort(expected.begin(), expected.end());
    rows.sort_from(0);
    CHECK(flat(rows) == expected);
  }
}

TEST_CASE("push copies a row of another batch") {
  FiredRows a;
  a.start_row(10, 20, "k", 3, FiredRow::Kind::kLateUpdate) += "{\"n\":1}";
  a.finish_row();
  a.add_replaced({0, 5});
  FiredRows b;
  b.start_row(1, 2, "z", 0, FiredRow::Kind::kFinal) += "{}";
  b.finish_row();
  b.push(a[0]);
  REQUIRE(b.size() == 2);
  CHECK(flat(b[1]) == flat(a[0]));
  CHECK(b[1].replaces.size() == 1);
  CHECK(b[0].replaces.empty());
}
