#pragma once
// The arithmetic of the aggregates on AggState: adding one value (hot path, inline), merging
// two partial states (order-independent), and printing the final value.
//
// Exactness: SUM and AVG add exact decimals in Int128 at the largest scale seen, so the
// result does not depend on the order records or partials arrive in. A value that is only a
// double (exponent notation, more than 18 significant digits), or a sum that overflows
// Int128, makes the aggregate inexact: that part is summed as double, whose result can
// depend on the order. MIN/MAX order values as numbers < strings; numbers compare by value,
// with an exact decimal before an equal double; strings compare bytewise.

#include <string>
#include <string_view>
#include <vector>

#include "freshet/query/partial_batch.h"
#include "plan_spec.h"
#include "value.h"

namespace freshet::query {

inline constexpr uint8_t kAggInexact = 0x80;
// MIN/MAX: the type of the value held, in the low bits of AggState::flags.
inline constexpr uint8_t kMmNone = 0, kMmDecimal = 1, kMmDouble = 2, kMmString = 3;
inline constexpr uint8_t kMmTypeMask = 0x03;

// Byte store for MIN/MAX strings (and keys): states refer to it by offset so it may grow.
using ByteStore = std::vector<char>;

inline constexpr int64_t kPow10[19] = {1,
                                       10,
                                       100,
                                       1000,
                                       10000,
                                       100000,
                                       1000000,
                                       10000000,
                                       100000000,
                                       1000000000,
                                       10000000000,
                                       100000000000,
                                       1000000000000,
                                       10000000000000,
                                       100000000000000,
                                       1000000000000000,
                                       10000000000000000,
                                       100000000000000000,
                                       1000000000000000000};

// Adds value/10^scale to the exact sum; falls back to the double part on overflow.
void sum_add_decimal_slow(AggState& s, Int128 value, int scale);

inline void sum_add_decimal(AggState& s, int64_t mantissa, int scale) {
  // Fast path: same scale, or a smaller one (the product fits: |m| < 2^63, 10^18 < 2^60).
  if (scale <= s.scale) {
    Int128 v = static_cast<Int128>(mantissa) * kPow10[s.scale - scale];
    if (!__builtin_add_overflow(s.sum, v, &s.sum)) return;
  }
  sum_add_decimal_slow(s, mantissa, scale);
}

// Updates MIN or MAX with a non-null number or string.
void minmax_add(AggKind kind, AggState& s, ByteStore& bytes, const Value& v);

// Adds one row's value to the state. `v` is the aggregated field (ignored for COUNT(*));
// the caller has checked that it is null, a number, or (MIN/MAX) a string.
inline void agg_add(AggKind kind, AggState& s, ByteStore& bytes, const Value& v) {
  if (kind == AggKind::kCount) {
    ++s.count;
    return;
  }
  if (v.is_null()) return;
  ++s.count;
  if (kind == AggKind::kSum || kind == AggKind::kAvg) {
    if (v.type == ValueType::kDecimal) {
      sum_add_decimal(s, v.dec.mantissa, v.dec.scale);
    } else {
      s.dbl += v.dbl;
      s.flags |= kAggInexact;
    }
    return;
  }
  minmax_add(kind, s, bytes, v);
}

// dst += src, where src's strings live in src_bytes.
void agg_merge(AggKind kind, AggState& dst, ByteStore& dst_bytes, const AggState& src,
               const char* src_bytes);

// Copies a state into another byte store (for draining), fixing its string offset.
AggState agg_relocate(const AggState& s, const char* from, ByteStore& to);

// Appends the final value as JSON (null when no value was aggregated).
void agg_append_json(AggKind kind, const AggState& s, const char* bytes, std::string& out);

// Whether `result(state) op literal` holds; false when the result is null or of another type.
bool agg_compare(AggKind kind, const AggState& s, const char* bytes, CompareOp op,
                 const Literal& lit);

}  // namespace freshet::query
