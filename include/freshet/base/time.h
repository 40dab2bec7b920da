#pragma once
// Clocks and the one textual timestamp format freshet writes: RFC 3339 UTC with
// milliseconds, "2026-11-25T10:00:00.000Z".

#include <optional>
#include <string>
#include <string_view>

#include "freshet/base/ids.h"

namespace freshet {

TimestampMs wall_clock_ms();  // CLOCK_REALTIME
int64_t monotonic_ns();       // CLOCK_MONOTONIC

// Writes exactly 24 characters into out; out must hold 24.
void format_rfc3339_ms(TimestampMs t, char* out);
std::string format_rfc3339_ms(TimestampMs t);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff...](Z|+hh:mm|-hh:mm)" (also with ' ' or 't' for 'T').
std::optional<TimestampMs> parse_rfc3339(std::string_view s);

// Days since 1970-01-01 for a proleptic Gregorian date, and back (Howard Hinnant's algorithms).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d);

}  // namespace freshet
