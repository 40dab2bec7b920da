#pragma once
// Exact decimal numbers for SUM/AVG/MIN/MAX. JSON numbers are parsed from their raw token
// text, not through double, so that sums do not depend on the order records are added in:
// an int64 mantissa with a decimal scale (0..18 fraction digits). Sums accumulate in
// Int128 at the largest scale seen; the largest scale is the same whatever the order, so
// the exact sum is too. Numbers outside this form (exponents, more than 18 significant
// digits) fall back to double and make the aggregate inexact.

#include <cstdint>
#include <string>
#include <string_view>

#include "freshet/query/int128.h"

namespace freshet::query {

inline constexpr int kMaxScale = 18;

struct Decimal {
  int64_t mantissa = 0;
  uint8_t scale = 0;  // value = mantissa / 10^scale
};

enum class NumberParse : uint8_t {
  kExact,    // `out` holds the exact value
  kInexact,  // valid JSON number, but only representable as a double (`dbl`)
  kInvalid,  // not a JSON number
};

// Parses a JSON number token (surrounding whitespace already removed).
NumberParse parse_json_number(std::string_view token, Decimal& out, double& dbl);

// 10^n for 0 <= n <= 38.
Int128 pow10_i128(int n);

// Decimal text of value / 10^scale: integers without a point, fractions without trailing
// zeros ("15.75", "-0.5", "1").
std::string format_decimal(Int128 value, int scale);
void append_decimal(std::string& out, Int128 value, int scale);

// The correctly rounded double nearest to value / 10^scale.
double decimal_to_double(Int128 value, int scale);

// Compares a/10^sa with b/10^sb exactly; -1, 0 or 1.
int compare_decimal(Int128 a, int sa, Int128 b, int sb);

// Shortest round-trip text of a double; NaN and infinities become "null" (not JSON numbers).
void append_double(std::string& out, double d);

}  // namespace freshet::query
