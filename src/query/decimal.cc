#include "decimal.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

namespace freshet::query {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Text of |value| in decimal, most significant digit first.
// Writes the digits of |value| so that they end just before `end`; returns their start.
// Most values fit 64 bits, where dividing by 10 is a multiply, not a call.
char* magnitude_digits(Int128 value, char* end) {
  UInt128 v = value < 0 ? -static_cast<UInt128>(value) : static_cast<UInt128>(value);
  while (v > UINT64_MAX) {
    *--end = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  }
  auto w = static_cast<uint64_t>(v);
  do {
    *--end = static_cast<char>('0' + static_cast<int>(w % 10));
    w /= 10;
  } while (w != 0);
  return end;
}

}  // namespace

NumberParse parse_json_number(std::string_view t, Decimal& out, double& dbl) {
  // Grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  size_t i = 0;
  bool neg = false;
  if (i < t.size() && t[i] == '-') {
    neg = true;
    ++i;
  }
  if (i >= t.size() || !is_digit(t[i])) return NumberParse::kInvalid;
  size_t int_begin = i;
  if (t[i] == '0') {
    ++i;
  } else {
    while (i < t.size() && is_digit(t[i])) ++i;
  }
  size_t int_end = i;
  size_t frac_begin = i, frac_end = i;
  if (i < t.size() && t[i] == '.') {
    ++i;
    frac_begin = i;
    while (i < t.size() && is_digit(t[i])) ++i;
    frac_end = i;
    if (frac_end == frac_begin) return NumberParse::kInvalid;
  }
  bool has_exp = false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    has_exp = true;
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    size_t exp_begin = i;
    while (i < t.size() && is_digit(t[i])) ++i;
    if (i == exp_begin) return NumberParse::kInvalid;
  }
  if (i != t.size()) return NumberParse::kInvalid;

  // Exact form: at most 18 fraction digits and a mantissa that fits int64. Trailing
  // fraction zeros are dropped first so "1.50" and "1.5" are the same value and scale.
  while (frac_end > frac_begin && t[frac_end - 1] == '0') --frac_end;
  size_t frac_digits = frac_end - frac_begin;
  if (!has_exp && frac_digits <= static_cast<size_t>(kMaxScale)) {
    uint64_t m = 0;
    bool overflow = false;
    auto add_digits = [&](size_t b, size_t e) {
      for (size_t k = b; k < e; ++k) {
        if (__builtin_mul_overflow(m, 10u, &m) ||
            __builtin_add_overflow(m, static_cast<uint64_t>(t[k] - '0'), &m)) {
          overflow = true;
          return;
        }
      }
    };
    add_digits(int_begin, int_end);
    if (!overflow) add_digits(frac_begin, frac_end);
    if (!overflow && m <= static_cast<uint64_t>(INT64_MAX)) {
      out.mantissa = neg ? -static_cast<int64_t>(m) : static_cast<int64_t>(m);
      out.scale = static_cast<uint8_t>(frac_digits);
      return NumberParse::kExact;
    }
  }
  // strtod needs a terminated string; tokens are short, but keep a bound anyway.
  char buf[400];
  if (t.size() >= sizeof(buf)) return NumberParse::kInvalid;
  t.copy(buf, t.size());
  buf[t.size()] = '\0';
  dbl = std::strtod(buf, nullptr);
  return NumberParse::kInexact;
}

Int128 pow10_i128(int n) {
  Int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

void append_decimal(std::string& out, Int128 value, int scale) {
  char buf[48];
  char* const end = buf + sizeof buf;
  const char* digits = magnitude_digits(value, end);
  auto n = static_cast<size_t>(end - digits);
  // Drop trailing fraction zeros so the text is canonical.
  if (value == 0) scale = 0;
  while (scale > 0 && digits[n - 1] == '0') {
    --n;
    --scale;
  }
  if (value < 0) out.push_back('-');
  if (scale == 0) {
    out.append(digits, n);
    return;
  }
  auto s = static_cast<size_t>(scale);
  if (n <= s) {
    out += "0.";
    out.append(s - n, '0');
    out.append(digits, n);
  } else {
    out.append(digits, n - s);
    out.push_back('.');
    out.append(digits + n - s, s);
  }
}

std::string format_decimal(Int128 value, int scale) {
  std::string s;
  append_decimal(s, value, scale);
  return s;
}

double decimal_to_double(Int128 value, int scale) {
  if (scale == 0 && value >= -(static_cast<Int128>(1) << 53) &&
      value <= (static_cast<Int128>(1) << 53)) {
    return static_cast<double>(value);  // exact
  }
  // strtod rounds correctly, which a chain of float divisions would not.
  std::string s = format_decimal(value, scale);
  return std::strtod(s.c_str(), nullptr);
}

int compare_decimal(Int128 a, int sa, Int128 b, int sb) {
  // Bring both to the larger scale; if that overflows, the rescaled side has the larger
  // magnitude, so its sign decides.
  if (sa < sb) return -compare_decimal(b, sb, a, sa);
  Int128 scaled;
  if (__builtin_mul_overflow(b, pow10_i128(sa - sb), &scaled)) return b < 0 ? 1 : -1;
  return a < scaled ? -1 : (a > scaled ? 1 : 0);
}

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  fmt::format_to(std::back_inserter(out), "{}", d);
}

}  // namespace freshet::query
