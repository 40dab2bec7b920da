// KeyOrder and KeyMerge: a pane merger's rows come out in key order without a sort, so these
// orders must be exactly the one row_before gives rows of one window.

#include "key_order.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "freshet/base/hash.h"

using namespace freshet;
using namespace freshet::query;

namespace {

AggTable table_of(const std::vector<std::string>& keys) {
  AggTable t(1);
  for (const auto& k : keys) t.find_or_insert(k, hash64(k))->count += 1;
  return t;
}

std::vector<std::string> keys_in_order(const AggTable& t, const std::vector<KeyHead>& order) {
  std::vector<std::string> out;
  for (const KeyHead& h : order) out.emplace_back(t.key(t.entries()[h.entry]));
  return out;
}

}  // namespace

TEST_CASE("a table's keys in bytewise order, past the 16 bytes the heads hold") {
  // Prefixes of each other, a zero byte against the heads' zero padding, bytes above 0x7f
  // (unsigned), and keys equal in their first 16 bytes.
  const std::vector<std::string> keys = {"b",
                                         "ab",
                                         std::string("ab\0", 3),
                                         "a",
                                         "",
                                         "\xff",
                                         "\x7f",
                                         "0123456789abcdefZ",
                                         "0123456789abcdefA",
                                         "0123456789abcdef",
                                         "0123456789abcde"};
  AggTable t = table_of(keys);
  KeyOrder order;
  std::vector<std::string> want = keys;
  std::sort(want.begin(), want.end());  // std::string compares bytes as unsigned char
  CHECK(keys_in_order(t, order.of(t)) == want);
}

TEST_CASE("a table that grew is ordered again") {
  AggTable t = table_of({"m", "c"});
  KeyOrder order;
  CHECK(keys_in_order(t, order.of(t)) == std::vector<std::string>{"c", "m"});
  t.find_or_insert("a", hash64("a"));
  CHECK(keys_in_order(t, order.of(t)) == std::vector<std::string>{"a", "c", "m"});
}

TEST_CASE("merging tables: every key once, ascending, its holders in the order added") {
  std::mt19937 rng(7);
  std::vector<AggTable> tables;
  std::vector<KeyOrder> orders(5);
  std::vector<std::vector<std::string>> contents(5);
  for (size_t i = 0; i < 5; ++i) {
    for (int k = 0; k < 300; ++k)
      if (rng() % 3 == 0) {
        // Long shared prefixes, so many keys tie on their heads.
        contents[i].push_back(std::string(rng() % 2 ? 20 : 3, 'k') + std::to_string(k));
      }
    tables.push_back(table_of(contents[i]));
  }
  KeyMerge merge;
  for (size_t i = 0; i < 5; ++i) merge.add(tables[i], orders[i].of(tables[i]));
  std::vector<std::string> want;
  for (const auto& c : contents) want.insert(want.end(), c.begin(), c.end());
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());

  std::vector<std::string> got;
  std::string_view key;
  std::vector<KeyMerge::Holder> holders;
  while (merge.next(key, holders)) {
    got.emplace_back(key);
    std::vector<size_t> held_by;
    for (const auto& h : holders) {
      CHECK(h.table->key(h.table->entries()[h.entry]) == key);
      held_by.push_back(static_cast<size_t>(h.table - tables.data()));
    }
    std::vector<size_t> want_by;
    for (size_t i = 0; i < 5; ++i)
      if (std::find(contents[i].begin(), contents[i].end(), key) != contents[i].end())
        want_by.push_back(i);
    CHECK(held_by == want_by);
  }
  CHECK(got == want);
}
