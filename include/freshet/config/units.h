#pragma once
// The unit strings of the config, also used by the CLI (`--rate 500/s`):
//
//   duration  <number><unit>, unit ms | s | m | h | d          250ms  5s  1.5m  7d
//   size      <number><unit>, unit B | KB MB GB TB (10^3 steps) | KiB MiB GiB TiB (2^10)
//   rate      <number>/<unit>, unit ms | s | m | h, > 0        10000/s  600/m  0.5/s
//
// <number> is decimal digits with an optional fraction; the result must be a whole number of
// milliseconds or bytes. No sign and no space between number and unit ("10 s" is rejected
// with the hint `did you mean "10s"?`) so each value has one spelling that greps well. A bare
// integer is a duration in ms / a size in bytes only where the caller allows it: for keys
// ending in `_ms` / `_bytes` (Kafka style). Anywhere else it is rejected with a hint.

#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "freshet/base/ids.h"

namespace freshet::config {

struct UnitError {
  std::string message;  // "`5` has no unit"
  std::string hint;     // "did you mean \"5s\"?"
};
template <typename T>
using UnitResult = tl::expected<T, UnitError>;

UnitResult<DurationMs> parse_duration(std::string_view text, bool bare_is_ms = false);
UnitResult<uint64_t> parse_size(std::string_view text, bool bare_is_bytes = false);
// Events per second.
UnitResult<double> parse_rate(std::string_view text);

}  // namespace freshet::config
