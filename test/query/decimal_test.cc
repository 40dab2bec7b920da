// Decimal text: canonical (no trailing fraction zeros), exact across the whole Int128 range.

#include "decimal.h"

#include <doctest/doctest.h>

#include <random>

using namespace freshet::query;

namespace {

// The obvious way: digit by digit in 128 bits, then place the point and strip zeros.
std::string reference(Int128 value, int scale) {
  const bool neg = value < 0;
  UInt128 v = neg ? -static_cast<UInt128>(value) : static_cast<UInt128>(value);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  if (scale > 0) {
    while (digits.size() <= static_cast<size_t>(scale)) digits.insert(digits.begin(), '0');
    digits.insert(digits.end() - scale, '.');
    while (digits.back() == '0') digits.pop_back();
    if (digits.back() == '.') digits.pop_back();
  }
  return (neg ? "-" : "") + digits;
}

}  // namespace

TEST_CASE("format_decimal matches digit-by-digit formatting") {
  CHECK(format_decimal(0, 3) == "0");
  CHECK(format_decimal(1500, 3) == "1.5");
  CHECK(format_decimal(-5, 2) == "-0.05");
  CHECK(format_decimal(100, 2) == "1");
  CHECK(format_decimal(static_cast<Int128>(1) << 100, 0) == "1267650600228229401496703205376");
  // Around every power of ten, where the digit count changes (two digits are written a step).
  for (int p = 0; p <= 38; ++p) {
    const Int128 t = pow10_i128(p);
    for (Int128 v : {t - 1, t, t + 1})
      for (int scale : {0, 1, p}) CHECK(format_decimal(v, scale) == reference(v, scale));
  }
  CHECK(format_decimal(static_cast<Int128>(UINT64_MAX), 0) == "18446744073709551615");
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) {
    UInt128 u = rng() >> (rng() % 64);
    if (i % 3 == 0) u = ((u << 64) | rng()) >> (rng() % 8 + 12);  // past 64 bits, below 2^116
    auto v = static_cast<Int128>(u);
    if (i % 5 == 0) v *= pow10_i128(static_cast<int>(rng() % 4));  // trailing zeros, no overflow
    if (rng() % 2) v = -v;
    const int scale = static_cast<int>(rng() % 21);
    INFO(reference(v, scale));
    CHECK(format_decimal(v, scale) == reference(v, scale));
  }
}
