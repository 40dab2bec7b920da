#include "aggregate.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "freshet/base/assert.h"
#include "row_format.h"

namespace freshet::query {

namespace {

std::string_view state_string(const AggState& s, const char* bytes) {
  return {bytes + s.str_off, s.str_len};
}

void store_string(AggState& s, ByteStore& bytes, std::string_view str) {
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

void minmax_add(AggKind kind, AggState& s, ByteStore& bytes, const Value& v) {
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

void agg_merge(AggKind kind, AggState& dst, ByteStore& dst_bytes, const AggState& src,
               const char* src_bytes) {
  if (kind == AggKind::kCount) {
    dst.count += src.count;
    return;
  }
  if (src.count == 0) return;
  dst.count += src.count;
  if (kind == AggKind::kSum || kind == AggKind::kAvg) {
    sum_add_decimal_slow(dst, src.sum, src.scale);
    dst.dbl += src.dbl;
    dst.flags |= src.flags & kAggInexact;
    return;
  }
  uint8_t ts = src.flags & kMmTypeMask, td = dst.flags & kMmTypeMask;
  if (td != kMmNone) {
    int c = mm_compare(ts, src, src_bytes, td, dst, dst_bytes.data());
    if (kind == AggKind::kMin ? c >= 0 : c <= 0) return;
  }
  dst.flags = static_cast<uint8_t>((dst.flags & ~kMmTypeMask) | ts);
  if (ts == kMmString) {
    store_string(dst, dst_bytes, state_string(src, src_bytes));
  } else {
    dst.sum = src.sum;
    dst.scale = src.scale;
    dst.dbl = src.dbl;
  }
}

AggState agg_relocate(const AggState& s, const char* from, ByteStore& to) {
  AggState r = s;
  r.str_off = r.str_len = r.str_cap = 0;
  if ((s.flags & kMmTypeMask) == kMmString && s.str_len > 0) {
    store_string(r, to, state_string(s, from));
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

void agg_append_json(AggKind kind, const AggState& s, const char* bytes, std::string& out) {
  if (kind == AggKind::kCount) {
    fmt::format_to(std::back_inserter(out), "{}", s.count);
    return;
  }
  if (s.count == 0) {
    out += "null";
    return;
  }
  switch (kind) {
    case AggKind::kSum:
      if (s.flags & kAggInexact) {
        append_double(out, sum_double(s));
      } else {
        append_decimal(out, s.sum, s.scale);
      }
      return;
    case AggKind::kAvg:
      append_double(out, sum_double(s) / static_cast<double>(s.count));
      return;
    default:
      break;
  }
  switch (s.flags & kMmTypeMask) {
    case kMmDecimal:
      append_decimal(out, s.sum, s.scale);
      return;
    case kMmDouble:
      append_double(out, s.dbl);
      return;
    case kMmString:
      append_json_string(out, state_string(s, bytes));
      return;
    default:
      out += "null";
  }
}

bool agg_compare(AggKind kind, const AggState& s, const char* bytes, CompareOp op,
                 const Literal& lit) {
  if (kind == AggKind::kCount) {
    if (lit.type != LiteralType::kNumber) return false;
    if (lit.exact)
      return compare_holds(op, compare_decimal(s.count, 0, lit.dec.mantissa, lit.dec.scale));
    double d = static_cast<double>(s.count);
    return compare_holds(op, d < lit.dbl ? -1 : (d > lit.dbl ? 1 : 0));
  }
  if (s.count == 0) return false;  // NULL compares as unknown
  auto cmp_double = [&](double d) {
    double l = lit.exact ? decimal_to_double(lit.dec.mantissa, lit.dec.scale) : lit.dbl;
    if (d != d) return false;
    return compare_holds(op, d < l ? -1 : (d > l ? 1 : 0));
  };
  switch (kind) {
    case AggKind::kSum:
      if (lit.type != LiteralType::kNumber) return false;
      if (!(s.flags & kAggInexact) && lit.exact)
        return compare_holds(op, compare_decimal(s.sum, s.scale, lit.dec.mantissa, lit.dec.scale));
      return cmp_double(sum_double(s));
    case AggKind::kAvg:
      if (lit.type != LiteralType::kNumber) return false;
      return cmp_double(sum_double(s) / static_cast<double>(s.count));
    default:
      break;
  }
  uint8_t t = s.flags & kMmTypeMask;
  if (t == kMmString) {
    if (lit.type != LiteralType::kString) return false;
    int c = state_string(s, bytes).compare(lit.str);
    return compare_holds(op, c < 0 ? -1 : (c > 0 ? 1 : 0));
  }
  if (lit.type != LiteralType::kNumber) return false;
  if (t == kMmDecimal && lit.exact)
    return compare_holds(op, compare_decimal(s.sum, s.scale, lit.dec.mantissa, lit.dec.scale));
  return cmp_double(mm_double(s));
}

}  // namespace freshet::query
