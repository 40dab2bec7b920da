#pragma once
// The arithmetic of the aggregates on AggState: adding one value (hot path, inline for the
// simple kinds), merging two partial states (order-independent), exporting a state into a
// PartialBatch, and reading the final value.
//
// Exactness: SUM and AVG add exact decimals in Int128 at the largest scale seen, so the
// result does not depend on the order records or partials arrive in. A value that is only a
// double (exponent notation, more than 18 significant digits), or a sum that overflows
// Int128, makes the aggregate inexact: that part is summed as double, whose result can
// depend on the order. MIN/MAX order values as numbers < strings; numbers compare by value,
// with an exact decimal before an equal double; strings compare bytewise. FIRST_VALUE and
// LAST_VALUE keep the value with the smallest / largest (event time, key encoding), so ties
// in event time are broken by the value, not by arrival. COUNT(DISTINCT),
// APPROX_COUNT_DISTINCT and APPROX_PERCENTILE keep an ExtState (sketches.h) whose merge is
// order-independent too.
//
// State layout per kind: `count` is rows (COUNT(*)) or non-null values; SUM/AVG use
// sum/scale/dbl; MIN/MAX use sum/scale or dbl or the string slot; FIRST/LAST keep the event
// time in `sum` and the value's key encoding in the string slot; the sketch kinds keep the
// index of their ExtState in `str_off` (kAggHasExt) while live, and their serialized bytes
// at str_off/str_len inside a PartialBatch.

#include <string>
#include <string_view>
#include <vector>

#include "arena.h"
#include "freshet/query/partial_batch.h"
#include "plan_spec.h"
#include "sketches.h"
#include "value.h"

namespace freshet::query {

inline constexpr uint8_t kAggInexact = 0x80;
inline constexpr uint8_t kAggHasExt = 0x40;
// MIN/MAX: the type of the value held, in the low bits of AggState::flags.
inline constexpr uint8_t kMmNone = 0, kMmDecimal = 1, kMmDouble = 2, kMmString = 3;
inline constexpr uint8_t kMmTypeMask = 0x03;

// Byte store for strings (MIN/MAX, FIRST/LAST, keys) and the live sketch states of one
// table: states refer to both by index, so they may grow.
struct ByteStore : std::vector<char> {
  std::vector<ExtState> ext;
};

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
void minmax_add(AggKind kind, AggState& s, std::vector<char>& bytes, const Value& v);
// The kinds with a key encoding or a sketch (COUNT(DISTINCT), APPROX_*, FIRST/LAST).
void agg_add_slow(AggKind kind, AggState& s, ByteStore& store, const Value& v, TimestampMs ts);

// Adds one row's value to the state. `v` is the aggregated value (ignored for COUNT(*));
// the caller has checked that it is null, a number, or (MIN/MAX/FIRST/LAST/DISTINCT) a
// string; `ts` is the row's event time.
inline void agg_add(AggKind kind, AggState& s, ByteStore& store, const Value& v, TimestampMs ts) {
  if (kind == AggKind::kCount) {
    ++s.count;
    return;
  }
  if (v.is_null()) return;
  if (kind == AggKind::kSum || kind == AggKind::kAvg) {
    ++s.count;
    if (v.type == ValueType::kDecimal) {
      sum_add_decimal(s, v.dec.mantissa, v.dec.scale);
    } else {
      s.dbl += v.dbl;
      s.flags |= kAggInexact;
    }
    return;
  }
  if (kind == AggKind::kCountValue) {
    ++s.count;
    return;
  }
  if (kind == AggKind::kMin || kind == AggKind::kMax) {
    ++s.count;
    minmax_add(kind, s, store, v);
    return;
  }
  agg_add_slow(kind, s, store, v, ts);
}

// Whether an aggregate accepts a value of this type (numbers only for SUM/AVG/percentile).
bool agg_accepts(AggKind kind, const Value& v);

// dst += src. src's strings live in src_bytes; its sketches in (*src_ext)[str_off] when
// src_ext is set (a live table), else serialized at str_off/str_len in src_bytes (a batch).
void agg_merge(AggKind kind, AggState& dst, ByteStore& dst_store, const AggState& src,
               const char* src_bytes, const std::vector<ExtState>* src_ext);

// Copies a live state into a PartialBatch byte store, serializing its strings and sketch.
AggState agg_export(AggKind kind, const AggState& s, const ByteStore& from, std::vector<char>& to);

// The final value. Strings point into `store` or `arena`.
Value agg_value(const AggSpec& a, const AggState& s, const ByteStore& store, StringArena& arena);

// Appends the final value as JSON (null when no value was aggregated); exact SUMs keep every
// digit even beyond int64.
void agg_append_json(const AggSpec& a, const AggState& s, const ByteStore& store,
                     StringArena& arena, std::string& out);

}  // namespace freshet::query
