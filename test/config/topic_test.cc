#include <doctest/doctest.h>

#include "freshet/config/config.h"

using namespace freshet;

TEST_CASE("segment_age is a duration that rolls segments by age") {
  auto r = config::parse("p.yaml", "version: 1\ntopics:\n  t: { segment_age: 1h }\n");
  REQUIRE(r.diagnostics.empty());
  CHECK(r.config->topics.at("t").segment_age == 3600000);
  auto bad = config::parse("p.yaml", "version: 1\ntopics:\n  t: { segment_age: 10 }\n");
  REQUIRE(bad.diagnostics.size() == 1);
  CHECK(bad.diagnostics[0].code == "E0201");
  CHECK(bad.diagnostics[0].pos.line == 3);
}

TEST_CASE("event_time takes a max_future_skew duration") {
  auto r = config::parse(
      "p.yaml", "version: 1\ntopics:\n  t: { event_time: { field: ts, max_future_skew: 2m } }\n");
  REQUIRE(r.diagnostics.empty());
  CHECK(r.config->topics.at("t").event_time->max_future_skew == 120000);
}
