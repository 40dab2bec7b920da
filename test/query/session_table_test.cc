// SessionTable: the per-record key lookup of a shard's session aggregation, checked against
// std::map under random inserts and erasures (erasure shifts probe runs back, and moves the
// last entry into the hole).

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>

#include "freshet/base/hash.h"
#include "session_list.h"

using namespace freshet;
using namespace freshet::query;

namespace {

// Every key of `want` is found with its marker, nothing else is, and nothing is left over.
void check_same(SessionTable& t, const std::map<std::string, int64_t>& want) {
  REQUIRE(t.entries().size() == want.size());
  for (const auto& [key, start] : want) {
    SessionTable::Entry* e = t.find(key, hash64(key));
    REQUIRE(e != nullptr);
    CHECK(e->key == key);
    REQUIRE(e->list.size() == 1);
    CHECK(e->list[0].start == start);
  }
}

}  // namespace

TEST_CASE("SessionTable agrees with a map through inserts and erasures") {
  std::mt19937_64 rng(11);
  SessionTable t;
  std::map<std::string, int64_t> want;
  for (int step = 0; step < 20000; ++step) {
    // Few distinct keys, so erasures hit probe runs that wrapped and grew; a constant hash
    // prefix for some keys would not matter: slots use the hash's top bits.
    const std::string key = "k" + std::to_string(rng() % 700);
    const uint64_t h = hash64(key);
    if (rng() % 3 == 0) {
      SessionTable::Entry* e = t.find(key, h);
      CHECK((e != nullptr) == (want.count(key) == 1));
      if (e != nullptr) t.erase(*e);
      want.erase(key);
    } else {
      std::vector<Session>& list = t.get(key, h);
      if (list.empty()) list.push_back(Session{});
      list[0].start = step;
      want[key] = step;
    }
    if (step % 1000 == 0) check_same(t, want);
    CHECK(t.find("absent", hash64("absent")) == nullptr);
  }
  check_same(t, want);
  for (const auto& [key, start] : want) t.erase(*t.find(key, hash64(key)));
  CHECK(t.entries().empty());
  CHECK(t.find("k1", hash64("k1")) == nullptr);
}
