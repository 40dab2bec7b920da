#include "freshet/base/time.h"

#include <doctest/doctest.h>

using namespace freshet;

TEST_CASE("rfc3339 formats epoch milliseconds in UTC with three fraction digits") {
  CHECK(format_rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339_ms(1764064800000) == "2025-11-25T10:00:00.000Z");
  CHECK(format_rfc3339_ms(1764064800123) == "2025-11-25T10:00:00.123Z");
  CHECK(format_rfc3339_ms(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339_ms(951782400000) == "2000-02-29T00:00:00.000Z");
}

TEST_CASE("rfc3339 parsing accepts zones and fractions and rejects junk") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("2025-11-25T10:00:00.123Z") == 1764064800123);
  CHECK(parse_rfc3339("2025-11-25T11:00:00.5+01:00") == 1764064800500);
  CHECK(parse_rfc3339("2025-11-25T10:00:00.123456Z") == 1764064800123);
  CHECK(parse_rfc3339("2025-11-25 10:00:00Z") == 1764064800000);
  CHECK_FALSE(parse_rfc3339("2025-11-25T10:00:00").has_value());
  CHECK_FALSE(parse_rfc3339("2025-13-25T10:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2025-11-25T10:00:00Zjunk").has_value());
  CHECK_FALSE(parse_rfc3339("").has_value());
}

TEST_CASE("rfc3339 round-trips across a range of instants") {
  for (int64_t t = -86400000LL * 400; t < 86400000LL * 365 * 80; t += 86400000LL * 37 + 12345) {
    auto back = parse_rfc3339(format_rfc3339_ms(t));
    REQUIRE(back.has_value());
    CHECK(*back == t);
  }
}
