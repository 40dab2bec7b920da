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

TEST_CASE("event_time takes idle_progress none or wallclock(<max_delay>)") {
  auto none =
      config::parse("p.yaml",
                    "version: 1\ntopics:\n  t: { event_time: { field: ts, idle_timeout: 1s, "
                    "idle_progress: none } }\n");
  REQUIRE(none.diagnostics.empty());
  CHECK(none.config->topics.at("t").event_time->idle_progress.mode ==
        config::IdleProgress::Mode::kNone);
  auto clock = config::parse("p.yaml",
                             "version: 1\ntopics:\n  t: { event_time: { field: ts, idle_timeout: "
                             "1s, idle_progress: wallclock(30s) } }\n");
  REQUIRE(clock.diagnostics.empty());
  const auto& p = clock.config->topics.at("t").event_time->idle_progress;
  CHECK(p.mode == config::IdleProgress::Mode::kWallclock);
  CHECK(p.max_delay == 30000);
}

TEST_CASE("idle_progress errors point at the value, and wallclock needs an idle_timeout") {
  struct Case {
    const char* value;
    const char* code;
  };
  for (const Case& c :
       {Case{"sometimes", "E0204"}, Case{"wallclock", "E0204"}, Case{"wallclock(soon)", "E0201"}}) {
    CAPTURE(c.value);
    auto r = config::parse("p.yaml", std::string("version: 1\ntopics:\n  t:\n    event_time:\n"
                                                 "      field: ts\n      idle_timeout: 1s\n"
                                                 "      idle_progress: ") +
                                         c.value + "\n");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == c.code);
    CHECK(r.diagnostics[0].pos.line == 7);
  }
  auto r = config::parse("p.yaml",
                         "version: 1\ntopics:\n  t: { event_time: { field: ts, idle_progress: "
                         "wallclock(5s) } }\n");
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].code == "E0104");
  CHECK(r.diagnostics[0].message.find("idle_timeout") != std::string::npos);
}

TEST_CASE("event_time takes a max_drift duration for watermark alignment") {
  auto r = config::parse(
      "p.yaml", "version: 1\ntopics:\n  t: { event_time: { field: ts, max_drift: 30s } }\n");
  REQUIRE(r.diagnostics.empty());
  CHECK(r.config->topics.at("t").event_time->max_drift == 30000);
  auto unset = config::parse("p.yaml", "version: 1\ntopics:\n  t: { event_time: { field: ts } }\n");
  REQUIRE(unset.diagnostics.empty());
  CHECK_FALSE(unset.config->topics.at("t").event_time->max_drift.has_value());
}

TEST_CASE("max_drift errors point at the value") {
  struct Case {
    const char* value;
    const char* code;
  };
  for (const Case& c : {Case{"0s", "E0201"}, Case{"30", "E0201"}, Case{"soon", "E0201"}}) {
    CAPTURE(c.value);
    auto r = config::parse("p.yaml", std::string("version: 1\ntopics:\n  t:\n    event_time:\n"
                                                 "      field: ts\n      max_drift: ") +
                                         c.value + "\n");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == c.code);
    CHECK(r.diagnostics[0].pos.line == 6);
    CHECK(r.diagnostics[0].pos.col == 18);
  }
  auto typo = config::parse(
      "p.yaml", "version: 1\ntopics:\n  t: { event_time: { field: ts, max_drfit: 30s } }\n");
  REQUIRE(typo.diagnostics.size() == 1);
  CHECK(typo.diagnostics[0].message.find("max_drfit") != std::string::npos);
  CHECK(typo.diagnostics[0].help.find("max_drift") != std::string::npos);
}
