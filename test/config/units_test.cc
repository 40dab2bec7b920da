// The unit grammar of units.h, valid and invalid spellings.
#include <doctest/doctest.h>

#include "freshet/config/units.h"

using namespace freshet;
using namespace freshet::config;

TEST_CASE("durations parse to milliseconds") {
  struct Case {
    const char* text;
    DurationMs ms;
  };
  for (Case c : {Case{"0s", 0}, Case{"250ms", 250}, Case{"5s", 5000}, Case{"1m", 60'000},
                 Case{"1h", 3'600'000}, Case{"7d", 604'800'000}, Case{"1.5s", 1500},
                 Case{"0.5m", 30'000}, Case{"10ms", 10}, Case{" 5s ", 5000}}) {
    CAPTURE(c.text);
    auto r = parse_duration(c.text);
    REQUIRE(r);
    CHECK(*r == c.ms);
  }
  CHECK(parse_duration("250", /*bare_is_ms=*/true) == 250);
}

TEST_CASE("bad durations are rejected with a hint") {
  struct Case {
    const char* text;
    const char* hint;
  };
  for (Case c :
       {Case{"5", "did you mean \"5s\"?"}, Case{"10 s", "did you mean \"10s\"?"},
        Case{"5S", "did you mean \"5s\"?"}, Case{"5sec", "did you mean \"5s\"?"},
        Case{"2 minutes", "did you mean \"2m\"?"}, Case{"3hours", "did you mean \"3h\"?"},
        Case{"5x", "units are ms, s, m, h and d, e.g. \"250ms\" or \"7d\""},
        Case{"-5s", "durations are zero or more, e.g. \"0s\""},
        Case{"0.5ms", "durations have millisecond resolution"},
        Case{"", "write a number and a unit, e.g. \"5s\""},
        Case{"s", "write a number and a unit: ms, s, m, h or d, e.g. \"5s\""},
        Case{"5.s", "write a number and a unit: ms, s, m, h or d, e.g. \"5s\""},
        Case{"99999999999999999999d", "write a number and a unit: ms, s, m, h or d, e.g. \"5s\""},
        Case{"1.5", "did you mean \"1.5s\"?"}}) {
    CAPTURE(c.text);
    auto r = parse_duration(c.text);
    REQUIRE(!r);
    CHECK(r.error().hint == c.hint);
  }
  CHECK(!parse_duration("999999999999d"));  // overflows int64 milliseconds
  CHECK(!parse_duration("1.5", true));      // bare numbers are whole milliseconds
}

TEST_CASE("sizes parse to bytes, binary and decimal") {
  struct Case {
    const char* text;
    uint64_t bytes;
  };
  for (Case c :
       {Case{"0B", 0}, Case{"512B", 512}, Case{"1KiB", 1024}, Case{"128MiB", 128ull << 20},
        Case{"10GiB", 10ull << 30}, Case{"2TiB", 2ull << 40}, Case{"1KB", 1000},
        Case{"5MB", 5'000'000}, Case{"10GB", 10'000'000'000}, Case{"1TB", 1'000'000'000'000},
        Case{"1.5KiB", 1536}, Case{"0.5GB", 500'000'000}}) {
    CAPTURE(c.text);
    auto r = parse_size(c.text);
    REQUIRE(r);
    CHECK(*r == c.bytes);
  }
  CHECK(parse_size("4096", /*bare_is_bytes=*/true) == 4096);
}

TEST_CASE("bad sizes are rejected with a hint") {
  struct Case {
    const char* text;
    const char* hint;
  };
  for (Case c :
       {Case{"1024", "did you mean \"1024B\"?"}, Case{"10 MiB", "did you mean \"10MiB\"?"},
        Case{"10mib", "did you mean \"10MiB\"?"}, Case{"10mb", "did you mean \"10MB\"?"},
        Case{"10M", "did you mean \"10MiB\" (binary) or \"10MB\" (decimal)?"},
        Case{"10XB", "units are B, KB, MB, GB, TB (powers of 1000) and KiB, MiB, GiB, TiB"},
        Case{"1.1B", ""}, Case{"99999999TiB", ""}}) {
    CAPTURE(c.text);
    auto r = parse_size(c.text);
    REQUIRE(!r);
    CHECK(r.error().hint == c.hint);
  }
  CHECK(!parse_size("-1KiB"));
}

TEST_CASE("rates parse to events per second") {
  struct Case {
    const char* text;
    double per_sec;
  };
  for (Case c : {Case{"10000/s", 10000}, Case{"600/m", 10}, Case{"3600/h", 1}, Case{"5/ms", 5000},
                 Case{"0.5/s", 0.5}}) {
    CAPTURE(c.text);
    auto r = parse_rate(c.text);
    REQUIRE(r);
    CHECK(*r == doctest::Approx(c.per_sec));
  }
}

TEST_CASE("bad rates are rejected with a hint") {
  struct Case {
    const char* text;
    const char* hint;
  };
  for (Case c :
       {Case{"10000", "did you mean \"10000/s\"?"}, Case{"100/sec", "did you mean \"100/s\"?"},
        Case{"100 / s", "did you mean \"100/s\"?"},
        Case{"100/d", "units are /ms, /s, /m and /h, e.g. \"10000/s\""},
        Case{"0/s", "a rate must be more than 0"},
        Case{"fast", "write events per unit of time, e.g. \"10000/s\" or \"600/m\""},
        Case{"-5/s", "write events per unit of time, e.g. \"10000/s\" or \"600/m\""}}) {
    CAPTURE(c.text);
    auto r = parse_rate(c.text);
    REQUIRE(!r);
    CHECK(r.error().hint == c.hint);
  }
}
