#include "aggregate.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "expr.h"
#include "freshet/base/assert.h"
#include "freshet/base/hash.h"
#include "key_encoding.h"
#include "row_format.h"

namespace freshet::query {

namespace {

std::string_view state_string(const AggState& s, const char* bytes) {
  return {bytes + s.str_off, s.str_len};
}

void store_string(AggState& s, std::vector<char>& bytes, std::string_view str) {
  // Reuse the old slot when it is big enough; otherwise grow geometrically, so a MAX that
  // keeps increasing wastes at most a constant factor of its final length.
  if (str.size() > s.str_cap) {
    size_t cap = std::max(str.size(), static_cast<size_t>(s.str_cap) * 2);
    FRESHET_ASSERT(bytes.size() + cap < UINT32_MAX, "window state over 4 GiB");
    s.str_off = static_cast<uint32_t>(bytes.size());
    s.str_cap = static_cast<uint32_t>(cap);
    bytes.resize(bytes.size() + cap);
  }
  if (!str.empty()) std::memcpy(bytes.data() + s.str_off, str.data(), str.size());
  s.str_len = static_cast<uint32_t>(str.size());
}

// The double nearest to a MIN/MAX number held in the state.
double mm_double(const AggState& s) {
  return (s.flags & kMmTypeMask) == kMmDouble ? s.dbl : decimal_to_double(s.sum, s.scale);
}

// Three-way order of two MIN/MAX values: numbers < strings; a decimal before an equal double.
int mm_compare(uint8_t ta, const AggState& a, const char* abytes, uint8_t tb, const AggState& b,
               const char* bbytes) {
  bool a_str = ta == kMmString, b_str = tb == kMmString;
  if (a_str != b_str) return a_str ? 1 : -1;
  if (a_str) {
    int c = state_string(a, abytes).compare(state_string(b, bbytes));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (ta == kMmDecimal && tb == kMmDecimal) return compare_decimal(a.sum, a.scale, b.sum, b.scale);
  double da = mm_double(a), db = mm_double(b);
  if (da < db) return -1;
  if (da > db) return 1;
  if (ta == tb) return 0;
  return ta == kMmDecimal ? -1 : 1;
}

}  // namespace

void sum_add_decimal_slow(AggState& s, Int128 value, int scale) {
  if (scale > s.scale) {
    Int128 rescaled;
    if (__builtin_mul_overflow(s.sum, pow10_i128(scale - s.scale), &rescaled)) {
      s.dbl += decimal_to_double(s.sum, s.scale);
      s.flags |= kAggInexact;
      rescaled = 0;
    }
    s.sum = rescaled;
    s.scale = static_cast<uint8_t>(scale);
  } else if (scale < s.scale) {
    if (__builtin_mul_overflow(value, pow10_i128(s.scale - scale), &value)) {
      s.dbl += decimal_to_double(value, scale);
      s.flags |= kAggInexact;
      return;
    }
  }
  if (__builtin_add_overflow(s.sum, value, &s.sum)) {
    s.dbl += decimal_to_double(value, s.scale);
    s.flags |= kAggInexact;
  }
}

void minmax_add(AggKind kind, AggState& s, std::vector<char>& bytes, const Value& v) {
  AggState cand;
  uint8_t type;
  if (v.type == ValueType::kDecimal) {
    type = kMmDecimal;
    cand.sum = v.dec.mantissa;
    cand.scale = v.dec.scale;
  } else if (v.type == ValueType::kDouble) {
    type = kMmDouble;
    cand.dbl = v.dbl;
  } else {
    type = kMmString;
  }
  uint8_t cur = s.flags & kMmTypeMask;
  if (cur != kMmNone) {
    int c;
    if (type == kMmString && cur == kMmString) {
      int r = v.str.compare(state_string(s, bytes.data()));
      c = r < 0 ? -1 : (r > 0 ? 1 : 0);
    } else {
      c = mm_compare(type, cand, nullptr, cur, s, bytes.data());
    }
    if (kind == AggKind::kMin ? c >= 0 : c <= 0) return;
  }
  s.flags = static_cast<uint8_t>((s.flags & ~kMmTypeMask) | type);
  if (type == kMmString) {
    store_string(s, bytes, v.str);
  } else {
    s.sum = cand.sum;
    s.scale = cand.scale;
    s.dbl = cand.dbl;
  }
}

namespace {

ExtState& ext_of(AggState& s, ByteStore& store) {
  if (!(s.flags & kAggHasExt)) {
    s.flags |= kAggHasExt;
    s.str_off = static_cast<uint32_t>(store.ext.size());
    store.ext.emplace_back();
  }
  return store.ext[s.str_off];
}

// (event time, encoding) order for FIRST/LAST.
int first_last_order(Int128 ts_a, std::string_view a, Int128 ts_b, std::string_view b) {
  if (ts_a != ts_b) return ts_a < ts_b ? -1 : 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

void first_last_offer(AggKind kind, AggState& s, std::vector<char>& bytes, Int128 ts,
                      std::string_view enc) {
  if ((s.flags & kMmTypeMask) != 0) {
    int c = first_last_order(ts, enc, s.sum, state_string(s, bytes.data()));
    if (kind == AggKind::kFirst ? c >= 0 : c <= 0) return;
  }
  s.flags = static_cast<uint8_t>((s.flags & ~kMmTypeMask) | kMmString);  // "holds a value"
  s.sum = ts;
  store_string(s, bytes, enc);
}

bool parse_ext(AggKind kind, std::string_view in, ExtState& out) {
  switch (kind) {
    case AggKind::kCountDistinct:
      out.distinct.clear();
      while (!in.empty()) {
        std::string_view before = in;
        std::string scratch;
        if (!append_key_value_json(in, scratch)) return false;
        out.distinct.emplace(before.substr(0, before.size() - in.size()));
      }
      return true;
    case AggKind::kApproxDistinct:
      return out.hll.parse(in);
    case AggKind::kPercentile:
      return out.dd.parse(in);
    default:
      return false;
  }
}

void merge_ext(AggKind kind, ExtState& dst, const ExtState& src) {
  switch (kind) {
    case AggKind::kCountDistinct:
      for (const auto& v : src.distinct) dst.distinct.insert(v);
      return;
    case AggKind::kApproxDistinct:
      dst.hll.merge(src.hll);
      return;
    case AggKind::kPercentile:
      dst.dd.merge(src.dd);
      return;
    default:
      return;
  }
}

}  // namespace

bool agg_accepts(AggKind kind, const Value& v) {
  if (v.is_null() || v.is_number()) return true;
  switch (kind) {
    case AggKind::kSum:
    case AggKind::kAvg:
    case AggKind::kPercentile:
      return false;
    case AggKind::kMin:
    case AggKind::kMax:
      return v.type == ValueType::kString;
    default:
      return v.type != ValueType::kOther && v.type != ValueType::kInvalid;
  }
}

void agg_add_slow(AggKind kind, AggState& s, ByteStore& store, const Value& v, TimestampMs ts) {
  // Short encodings stay in the string's inline buffer: no allocation per record.
  std::string enc;
  if (kind != AggKind::kPercentile) encode_key_value(enc, v);
  ++s.count;
  switch (kind) {
    case AggKind::kCountDistinct: {
      ExtState& e = ext_of(s, store);
      if (e.distinct.find(std::string_view(enc)) == e.distinct.end()) e.distinct.emplace(enc);
      return;
    }
    case AggKind::kApproxDistinct:
      ext_of(s, store).hll.add_hash(hash64(enc));
      return;
    case AggKind::kPercentile:
      ext_of(s, store).dd.add(v.as_double());
      return;
    case AggKind::kFirst:
    case AggKind::kLast:
      first_last_offer(kind, s, store, ts, enc);
      return;
    default:
      return;
  }
}

void agg_merge(AggKind kind, AggState& dst, ByteStore& dst_store, const AggState& src,
               const char* src_bytes, const std::vector<ExtState>* src_ext) {
  if (kind == AggKind::kCount || kind == AggKind::kCountValue) {
    dst.count += src.count;
    return;
  }
  if (src.count == 0) return;
  dst.count += src.count;
  switch (kind) {
    case AggKind::kSum:
    case AggKind::kAvg:
      sum_add_decimal_slow(dst, src.sum, src.scale);
      dst.dbl += src.dbl;
      dst.flags |= src.flags & kAggInexact;
      return;
    case AggKind::kFirst:
    case AggKind::kLast:
      first_last_offer(kind, dst, dst_store, src.sum, state_string(src, src_bytes));
      return;
    case AggKind::kCountDistinct:
    case AggKind::kApproxDistinct:
    case AggKind::kPercentile: {
      ExtState& d = ext_of(dst, dst_store);
      if (src_ext != nullptr) {
        merge_ext(kind, d, (*src_ext)[src.str_off]);
      } else {
        ExtState parsed;
        bool ok = parse_ext(kind, state_string(src, src_bytes), parsed);
        FRESHET_ASSERT(ok, "malformed sketch in a partial batch");
        merge_ext(kind, d, parsed);
      }
      return;
    }
    default:
      break;
  }
  uint8_t ts = src.flags & kMmTypeMask, td = dst.flags & kMmTypeMask;
  if (td != kMmNone) {
    int c = mm_compare(ts, src, src_bytes, td, dst, dst_store.data());
    if (kind == AggKind::kMin ? c >= 0 : c <= 0) return;
  }
  dst.flags = static_cast<uint8_t>((dst.flags & ~kMmTypeMask) | ts);
  if (ts == kMmString) {
    store_string(dst, dst_store, state_string(src, src_bytes));
  } else {
    dst.sum = src.sum;
    dst.scale = src.scale;
    dst.dbl = src.dbl;
  }
}

AggState agg_export(AggKind kind, const AggState& s, const ByteStore& from, std::vector<char>& to) {
  AggState r = s;
  r.str_off = r.str_len = r.str_cap = 0;
  r.flags = static_cast<uint8_t>(r.flags & ~kAggHasExt);
  if (s.flags & kAggHasExt) {
    const ExtState& e = from.ext[s.str_off];
    size_t begin = to.size();
    switch (kind) {
      case AggKind::kCountDistinct:
        for (const auto& v : e.distinct) to.insert(to.end(), v.begin(), v.end());
        break;
      case AggKind::kApproxDistinct:
        e.hll.serialize(to);
        break;
      case AggKind::kPercentile:
        e.dd.serialize(to);
        break;
      default:
        break;
    }
    FRESHET_ASSERT(to.size() < UINT32_MAX, "partial batch over 4 GiB");
    r.str_off = static_cast<uint32_t>(begin);
    r.str_len = r.str_cap = static_cast<uint32_t>(to.size() - begin);
  } else if ((s.flags & kMmTypeMask) == kMmString && s.str_len > 0) {
    store_string(r, to, state_string(s, from.data()));
  }
  return r;
}

namespace {

// The SUM as a double (inexact sums, AVG).
double sum_double(const AggState& s) {
  double exact = decimal_to_double(s.sum, s.scale);
  return (s.flags & kAggInexact) ? exact + s.dbl : exact;
}

}  // namespace

Value agg_value(const AggSpec& a, const AggState& s, const ByteStore& store, StringArena& arena) {
  switch (a.kind) {
    case AggKind::kCount:
    case AggKind::kCountValue:
      return Value::decimal(s.count);
    case AggKind::kCountDistinct:
      if (!(s.flags & kAggHasExt)) return Value::decimal(0);
      return Value::decimal(static_cast<int64_t>(store.ext[s.str_off].distinct.size()));
    case AggKind::kApproxDistinct:
      if (!(s.flags & kAggHasExt)) return Value::decimal(0);
      return Value::decimal(store.ext[s.str_off].hll.estimate());
    default:
      break;
  }
  if (s.count == 0) return Value::null();
  switch (a.kind) {
    case AggKind::kSum: {
      if (s.flags & kAggInexact) return Value::real(sum_double(s));
      Int128 v = s.sum;
      int scale = s.scale;
      while (scale > 0 && v % 10 == 0) {
        v /= 10;
        --scale;
      }
      if (v >= INT64_MIN && v <= INT64_MAX)
        return Value::decimal(static_cast<int64_t>(v), static_cast<uint8_t>(scale));
      return Value::real(decimal_to_double(v, scale));
    }
    case AggKind::kAvg:
      return Value::real(sum_double(s) / static_cast<double>(s.count));
    case AggKind::kPercentile: {
      double q = store.ext[s.str_off].dd.quantile(a.percentile);
      return q == q ? Value::real(q) : Value::null();
    }
    case AggKind::kFirst:
    case AggKind::kLast: {
      std::string_view enc = state_string(s, store.data());
      Value v;
      if (!decode_key_value(enc, v, arena)) return Value::null();
      return v;
    }
    default:
      break;
  }
  switch (s.flags & kMmTypeMask) {
    case kMmDecimal:
      if (s.sum >= INT64_MIN && s.sum <= INT64_MAX)
        return Value::decimal(static_cast<int64_t>(s.sum), s.scale);
      return Value::real(mm_double(s));
    case kMmDouble:
      return Value::real(s.dbl);
    case kMmString:
      return Value::string(state_string(s, store.data()));
    default:
      return Value::null();
  }
}

void agg_append_json(const AggSpec& a, const AggState& s, const ByteStore& store,
                     StringArena& arena, std::string& out) {
  if (a.kind == AggKind::kSum && s.count != 0 && !(s.flags & kAggInexact)) {
    append_decimal(out, s.sum, s.scale);
    return;
  }
  append_value_json(out, agg_value(a, s, store, arena));
}

}  // namespace freshet::query
