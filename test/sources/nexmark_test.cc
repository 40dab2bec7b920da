#include "freshet/sources/nexmark.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <map>
#include <string>

#include "freshet/base/hash.h"

using namespace freshet;
using namespace freshet::sources;

TEST_CASE("nexmark events keep the 1:3:46 mix and valid JSON with the model's fields") {
  NexmarkGenerator g({});
  simdjson::dom::parser parser;
  std::map<std::string, int> kinds;
  std::string json;
  size_t bid_bytes = 0;
  int64_t last_ts = 0;
  for (uint64_t n = 0; n < 50000; ++n) {
    g.event(n, json);
    simdjson::dom::element e;
    REQUIRE(parser.parse(json).get(e) == simdjson::SUCCESS);
    std::string_view type = e["type"].get_string().value();
    ++kinds[std::string(type)];
    const int64_t ts = e["dateTime"].get_int64().value();
    CHECK(ts >= last_ts);  // in order at the default group size of 1
    last_ts = ts;
    if (type == "bid") {
      bid_bytes += json.size();
      CHECK(e["price"].get_int64().value() >= 100);
      CHECK(e["auction"].get_int64().value() >= 1000);
    }
  }
  CHECK(kinds["person"] == 1000);
  CHECK(kinds["auction"] == 3000);
  CHECK(kinds["bid"] == 46000);
  const double avg_bid = static_cast<double>(bid_bytes) / 46000;
  CHECK(avg_bid > 180);
  CHECK(avg_bid < 280);
}

TEST_CASE("nexmark bids go to auctions and people that exist, half of them to the hot auction") {
  NexmarkGenerator g({});
  simdjson::dom::parser parser;
  std::string json;
  int64_t max_auction = 999, max_person = 999;
  int hot = 0, bids = 0;
  for (uint64_t n = 0; n < 100000; ++n) {
    g.event(n, json);
    simdjson::dom::element e = parser.parse(json).value();
    std::string_view type = e["type"].get_string().value();
    if (type == "person") max_person = std::max(max_person, e["id"].get_int64().value());
    if (type == "auction") {
      const int64_t id = e["id"].get_int64().value();
      CHECK(id == max_auction + 1);  // auction ids are dense and increasing
      max_auction = id;
      CHECK(e["expires"].get_int64().value() > e["dateTime"].get_int64().value());
    }
    if (type == "bid") {
      ++bids;
      const int64_t a = e["auction"].get_int64().value();
      CHECK(a <= max_auction + 10);  // at most the id lead ahead of the last auction created
      CHECK(e["bidder"].get_int64().value() <= max_person + 10);
      if (a == 1000 + (max_auction - 1000) / 100 * 100) ++hot;
    }
  }
  CHECK(hot > bids * 0.45);
  CHECK(hot < bids * 0.60);
}

TEST_CASE("nexmark is a pure function of (seed, n) with a pinned checksum") {
  NexmarkGenerator a({}), b({});
  NexmarkOptions other;
  other.seed = 2;
  NexmarkGenerator c(other);
  std::string x, y, z;
  uint64_t sum = 0;
  for (uint64_t n = 0; n < 10000; ++n) {
    a.event(n, x);
    b.event(9999 - n, y);  // generated in the other order
    c.event(n, z);
    CHECK(x != z);
    sum = sum * 31 + hash64(x);
  }
  a.event(1234, x);
  b.event(1234, y);
  CHECK(x == y);
  // Pinned: a change to the generator changes every published benchmark input.
  MESSAGE("checksum of the first 10000 events, seed 1: ", sum);
  CHECK(sum == 13906353413507723936ull);
}

TEST_CASE("event-time density sets the spacing of dateTime") {
  NexmarkOptions o;
  o.density = 1000;
  NexmarkGenerator g(o);
  CHECK(g.date_time(0) == o.base_time);
  CHECK(g.date_time(1000) == o.base_time + 1000);
  CHECK(g.date_time(1500) == o.base_time + 1500);
}
