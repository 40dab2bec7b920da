// The expression evaluator. A recursive walk over ExprProgram nodes; every case returns a
// Value whose strings point into the record, the program's literals, or the arena.

#include <cmath>
#include <cstring>

#include "aggregate.h"
#include "expr.h"
#include "freshet/base/time.h"
#include "row_format.h"

namespace freshet::query {

namespace {

// value/10^scale as a Value: a normalised decimal when it fits, else a double.
Value make_number(Int128 value, int scale) {
  while (scale > 0 && value % 10 == 0) {
    value /= 10;
    --scale;
  }
  if (scale <= kMaxScale && value >= INT64_MIN && value <= INT64_MAX)
    return Value::decimal(static_cast<int64_t>(value), static_cast<uint8_t>(scale));
  return Value::real(decimal_to_double(value, scale));
}

Value normalised(const Value& v) {
  return v.type == ValueType::kDecimal ? make_number(v.dec.mantissa, v.dec.scale) : v;
}

// Brings two decimals to a common scale (always fits in Int128: |m| < 2^63, 10^18 < 2^60).
void align(const Value& a, const Value& b, Int128& x, Int128& y, int& scale) {
  scale = std::max(a.dec.scale, b.dec.scale);
  x = static_cast<Int128>(a.dec.mantissa) * kPow10[scale - a.dec.scale];
  y = static_cast<Int128>(b.dec.mantissa) * kPow10[scale - b.dec.scale];
}

Value arith(ExprOp op, const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::null();
  // Timestamp arithmetic in milliseconds: ts +/- n, ts - ts.
  if (a.type == ValueType::kTimestamp || b.type == ValueType::kTimestamp) {
    bool a_ts = a.type == ValueType::kTimestamp, b_ts = b.type == ValueType::kTimestamp;
    auto ms = [](const Value& v, int64_t& out) {
      if (v.type == ValueType::kTimestamp || (v.type == ValueType::kDecimal && v.dec.scale == 0)) {
        out = v.dec.mantissa;
        return true;
      }
      return false;
    };
    int64_t x, y, r;
    if (!ms(a, x) || !ms(b, y)) return Value::null();
    if (op == ExprOp::kAdd && a_ts != b_ts) {
      if (__builtin_add_overflow(x, y, &r)) return Value::null();
      return Value::timestamp(r);
    }
    if (op == ExprOp::kSub && a_ts) {
      if (__builtin_sub_overflow(x, y, &r)) return Value::null();
      return b_ts ? Value::decimal(r) : Value::timestamp(r);
    }
    return Value::null();
  }
  if (!a.is_number() || !b.is_number()) return Value::null();
  if (op == ExprOp::kDiv) {
    double d = b.as_double();
    if (d == 0) return Value::null();
    return Value::real(a.as_double() / d);
  }
  if (a.type == ValueType::kDecimal && b.type == ValueType::kDecimal) {
    Int128 x, y;
    int scale;
    switch (op) {
      case ExprOp::kAdd:
        align(a, b, x, y, scale);
        return make_number(x + y, scale);
      case ExprOp::kSub:
        align(a, b, x, y, scale);
        return make_number(x - y, scale);
      case ExprOp::kMul: {
        Int128 p = static_cast<Int128>(a.dec.mantissa) * b.dec.mantissa;
        int s = a.dec.scale + b.dec.scale;
        while (s > kMaxScale && p % 10 == 0) {
          p /= 10;
          --s;
        }
        if (s > kMaxScale) return Value::real(a.as_double() * b.as_double());
        return make_number(p, s);
      }
      case ExprOp::kMod:
        align(a, b, x, y, scale);
        if (y == 0) return Value::null();
        return make_number(x % y, scale);  // sign of the dividend, as in SQL
      default:
        return Value::null();
    }
  }
  double x = a.as_double(), y = b.as_double();
  switch (op) {
    case ExprOp::kAdd:
      return Value::real(x + y);
    case ExprOp::kSub:
      return Value::real(x - y);
    case ExprOp::kMul:
      return Value::real(x * y);
    case ExprOp::kMod:
      if (y == 0) return Value::null();
      return Value::real(std::fmod(x, y));
    default:
      return Value::null();
  }
}

// Rounds value/10^scale to `digits` fraction digits: half away from zero (kRound), toward
// -inf (kFloor) or +inf (kCeil).
Value round_decimal(ExprOp op, int64_t mantissa, int scale, int digits) {
  if (digits >= scale) return make_number(mantissa, scale);
  int drop = scale - digits;
  if (drop > 36) return Value::decimal(0);
  Int128 div = pow10_i128(drop);
  Int128 m = mantissa;
  Int128 q = m / div, r = m % div;  // truncated toward zero
  if (op == ExprOp::kRound) {
    Int128 twice = (r < 0 ? -r : r) * 2;
    if (twice >= div) q += m < 0 ? -1 : 1;
  } else if (op == ExprOp::kFloor) {
    if (r < 0) q -= 1;
  } else if (r > 0) {
    q += 1;
  }
  // q / 10^digits; negative digits scale back up.
  if (digits >= 0) return make_number(q, digits);
  Int128 up;
  if (__builtin_mul_overflow(q, pow10_i128(-digits), &up)) return Value::null();
  return make_number(up, 0);
}

Value round_value(ExprOp op, const Value& v, int digits) {
  if (v.type == ValueType::kDecimal) return round_decimal(op, v.dec.mantissa, v.dec.scale, digits);
  if (v.type != ValueType::kDouble) return Value::null();
  double scale = std::pow(10.0, digits);
  double x = v.dbl * scale;
  x = op == ExprOp::kRound ? std::round(x) : op == ExprOp::kFloor ? std::floor(x) : std::ceil(x);
  return Value::real(x / scale);
}

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char upper_ascii(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// Byte offset of the `n`-th (0-based) UTF-8 code point of s, or s.size().
size_t utf8_offset(std::string_view s, int64_t n) {
  size_t i = 0;
  while (i < s.size() && n > 0) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    --n;
  }
  return i;
}

int64_t utf8_length(std::string_view s) {
  int64_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

bool int_arg(const Value& v, int64_t& out) {
  if (v.type != ValueType::kDecimal) return false;
  if (v.dec.scale != 0) {
    Value r = round_decimal(ExprOp::kFloor, v.dec.mantissa, v.dec.scale, 0);
    if (r.type != ValueType::kDecimal) return false;
    out = r.dec.mantissa;
    return true;
  }
  out = v.dec.mantissa;
  return true;
}

// Text of a value for CONCAT and CAST AS VARCHAR.
std::string_view text_of(const Value& v, StringArena& arena) {
  switch (v.type) {
    case ValueType::kString:
      return v.str;
    case ValueType::kTrue:
      return "true";
    case ValueType::kFalse:
      return "false";
    case ValueType::kDecimal:
    case ValueType::kDouble: {
      std::string s;  // short numbers: SSO, no heap
      if (v.type == ValueType::kDecimal)
        append_decimal(s, v.dec.mantissa, v.dec.scale);
      else
        append_double(s, v.dbl);
      return arena.copy(s);
    }
    case ValueType::kTimestamp: {
      char* p = arena.alloc(24);
      format_rfc3339_ms(v.dec.mantissa, p);
      return {p, 24};
    }
    default:
      return {};
  }
}

Value cast_value(const ExprNode& n, const Value& v, StringArena& arena) {
  if (v.is_null() || v.type == ValueType::kOther || v.type == ValueType::kInvalid)
    return Value::null();
  switch (n.cast) {
    case CastType::kBigint:
      switch (v.type) {
        case ValueType::kDecimal:
          return round_decimal(ExprOp::kRound, v.dec.mantissa, v.dec.scale, 0);
        case ValueType::kDouble: {
          double r = std::round(v.dbl);
          if (!(r >= -9.2e18 && r <= 9.2e18)) return Value::null();
          return Value::decimal(static_cast<int64_t>(r));
        }
        case ValueType::kTrue:
        case ValueType::kFalse:
          return Value::decimal(v.type == ValueType::kTrue ? 1 : 0);
        case ValueType::kTimestamp:
          return Value::decimal(v.dec.mantissa);
        case ValueType::kString: {
          Value d;
          if (parse_json_number(v.str, d.dec, d.dbl) != NumberParse::kExact) return Value::null();
          return round_decimal(ExprOp::kRound, d.dec.mantissa, d.dec.scale, 0);
        }
        default:
          return Value::null();
      }
    case CastType::kDouble:
      if (v.is_number()) return Value::real(v.as_double());
      if (v.is_bool()) return Value::real(v.type == ValueType::kTrue ? 1 : 0);
      if (v.type == ValueType::kTimestamp) return Value::real(static_cast<double>(v.dec.mantissa));
      if (v.type == ValueType::kString) {
        Value d;
        switch (parse_json_number(v.str, d.dec, d.dbl)) {
          case NumberParse::kExact:
            return Value::real(decimal_to_double(d.dec.mantissa, d.dec.scale));
          case NumberParse::kInexact:
            return Value::real(d.dbl);
          case NumberParse::kInvalid:
            return Value::null();
        }
      }
      return Value::null();
    case CastType::kDecimal: {
      Value d;
      if (v.type == ValueType::kDecimal) {
        d = v;
      } else if (v.type == ValueType::kDouble || v.type == ValueType::kString) {
        std::string text;
        if (v.type == ValueType::kDouble) {
          if (!std::isfinite(v.dbl)) return Value::null();
          // Shortest round-trip text, then exact: 0.1 becomes 0.1, not 0.1000000000000000055.
          char buf[64];
          int len = std::snprintf(buf, sizeof(buf), "%.17g", v.dbl);
          for (int prec = 1; prec <= 17; ++prec) {
            len = std::snprintf(buf, sizeof(buf), "%.*g", prec, v.dbl);
            if (std::strtod(buf, nullptr) == v.dbl) break;
          }
          text.assign(buf, static_cast<size_t>(len));
          if (text.find_first_of("eE") != std::string::npos) {
            // Expand exponent notation by hand is not worth it: out of the exact range anyway.
            return Value::null();
          }
        } else {
          text = std::string(v.str);
        }
        double dummy;
        if (parse_json_number(text, d.dec, dummy) != NumberParse::kExact) return Value::null();
        d.type = ValueType::kDecimal;
      } else if (v.is_bool()) {
        d = Value::decimal(v.type == ValueType::kTrue ? 1 : 0);
      } else if (v.type == ValueType::kTimestamp) {
        d = Value::decimal(v.dec.mantissa);
      } else {
        return Value::null();
      }
      if (n.flag) return round_decimal(ExprOp::kRound, d.dec.mantissa, d.dec.scale, n.index);
      return normalised(d);
    }
    case CastType::kVarchar:
      if (v.type == ValueType::kString) return v;
      return Value::string(text_of(v, arena));
    case CastType::kBoolean:
      if (v.is_bool()) return v;
      if (v.is_number()) return Value::boolean(v.as_double() != 0);
      if (v.type == ValueType::kString) {
        if (v.str.size() == 4 && lower_ascii(v.str[0]) == 't' && lower_ascii(v.str[1]) == 'r' &&
            lower_ascii(v.str[2]) == 'u' && lower_ascii(v.str[3]) == 'e')
          return Value::boolean(true);
        if (v.str.size() == 5 && lower_ascii(v.str[0]) == 'f' && lower_ascii(v.str[1]) == 'a' &&
            lower_ascii(v.str[2]) == 'l' && lower_ascii(v.str[3]) == 's' &&
            lower_ascii(v.str[4]) == 'e')
          return Value::boolean(false);
      }
      return Value::null();
    case CastType::kTimestamp:
      if (v.type == ValueType::kTimestamp) return v;
      if (v.type == ValueType::kDecimal && v.dec.scale == 0)
        return Value::timestamp(v.dec.mantissa);
      if (v.type == ValueType::kString) {
        if (auto t = parse_rfc3339(v.str)) return Value::timestamp(*t);
      }
      return Value::null();
  }
  return Value::null();
}

// a = b in the IN / simple CASE sense: NULL if either side is NULL or they do not compare.
Value equals(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::null();
  int c;
  if (!compare_values(a, b, c)) return Value::null();
  return Value::boolean(c == 0);
}

}  // namespace

bool cmp_holds(ExprOp op, int c) {
  switch (op) {
    case ExprOp::kEq:
      return c == 0;
    case ExprOp::kNe:
      return c != 0;
    case ExprOp::kLt:
      return c < 0;
    case ExprOp::kLe:
      return c <= 0;
    case ExprOp::kGt:
      return c > 0;
    default:
      return c >= 0;
  }
}

bool compare_values(const Value& a, const Value& b, int& result) {
  auto sign = [](auto x, auto y) { return x < y ? -1 : (x > y ? 1 : 0); };
  if (a.is_number() && b.is_number()) {
    if (a.type == ValueType::kDecimal && b.type == ValueType::kDecimal) {
      result = compare_decimal(a.dec.mantissa, a.dec.scale, b.dec.mantissa, b.dec.scale);
      return true;
    }
    double x = a.as_double(), y = b.as_double();
    if (x != x || y != y) return false;
    result = sign(x, y);
    return true;
  }
  if (a.type == ValueType::kString && b.type == ValueType::kString) {
    int c = a.str.compare(b.str);
    result = c < 0 ? -1 : (c > 0 ? 1 : 0);
    return true;
  }
  if (a.is_bool() && b.is_bool()) {
    result =
        static_cast<int>(a.type == ValueType::kTrue) - static_cast<int>(b.type == ValueType::kTrue);
    return true;
  }
  // Timestamps compare with timestamps, epoch-ms integers and RFC 3339 strings.
  if (a.type == ValueType::kTimestamp || b.type == ValueType::kTimestamp) {
    auto ms = [](const Value& v, int64_t& out) {
      if (v.type == ValueType::kTimestamp || (v.type == ValueType::kDecimal && v.dec.scale == 0)) {
        out = v.dec.mantissa;
        return true;
      }
      if (v.type == ValueType::kString) {
        if (auto t = parse_rfc3339(v.str)) {
          out = *t;
          return true;
        }
      }
      return false;
    };
    int64_t x, y;
    if (!ms(a, x) || !ms(b, y)) return false;
    result = sign(x, y);
    return true;
  }
  return false;
}

Value eval(const ExprProgram& p, int node, const EvalContext& c) {
  const ExprNode& n = p.nodes[static_cast<size_t>(node)];
  auto arg = [&](size_t i) { return eval(p, n.args[i], c); };
  switch (n.op) {
    case ExprOp::kLiteral:
      return n.literal;
    case ExprOp::kField: {
      const Value& v = c.fields[n.index];
      if (v.type == ValueType::kMissing) return Value::null();
      return v;
    }
    case ExprOp::kGroup:
      return c.groups[n.index];
    case ExprOp::kAgg:
      return c.aggs[n.index];
    case ExprOp::kWindowStart:
      return Value::timestamp(c.window_start);
    case ExprOp::kWindowEnd:
      return Value::timestamp(c.window_end);
    case ExprOp::kAdd:
    case ExprOp::kSub:
    case ExprOp::kMul:
    case ExprOp::kDiv:
    case ExprOp::kMod:
      return arith(n.op, arg(0), arg(1));
    case ExprOp::kNeg: {
      Value v = arg(0);
      if (v.type == ValueType::kDecimal)
        return make_number(-static_cast<Int128>(v.dec.mantissa), v.dec.scale);
      if (v.type == ValueType::kDouble) return Value::real(-v.dbl);
      return Value::null();
    }
    case ExprOp::kEq:
    case ExprOp::kNe:
    case ExprOp::kLt:
    case ExprOp::kLe:
    case ExprOp::kGt:
    case ExprOp::kGe: {
      Value a = arg(0);
      if (a.is_null()) return Value::null();
      Value b = arg(1);
      if (b.is_null()) return Value::null();
      int r;
      if (!compare_values(a, b, r)) return Value::null();
      return Value::boolean(cmp_holds(n.op, r));
    }
    case ExprOp::kAnd: {
      Value a = arg(0);
      if (a.type == ValueType::kFalse) return a;
      Value b = arg(1);
      if (b.type == ValueType::kFalse) return b;
      if (a.type == ValueType::kTrue && b.type == ValueType::kTrue) return a;
      return Value::null();
    }
    case ExprOp::kOr: {
      Value a = arg(0);
      if (a.type == ValueType::kTrue) return a;
      Value b = arg(1);
      if (b.type == ValueType::kTrue) return b;
      if (a.type == ValueType::kFalse && b.type == ValueType::kFalse) return a;
      return Value::null();
    }
    case ExprOp::kNot: {
      Value a = arg(0);
      if (!a.is_bool()) return Value::null();
      return Value::boolean(a.type == ValueType::kFalse);
    }
    case ExprOp::kIsNull:
    case ExprOp::kIsNotNull:
      return Value::boolean(arg(0).is_null() == (n.op == ExprOp::kIsNull));
    case ExprOp::kIn:
    case ExprOp::kNotIn: {
      Value x = arg(0);
      if (x.is_null()) return Value::null();
      bool unknown = false;
      for (size_t i = 1; i < n.args.size(); ++i) {
        Value e = equals(x, arg(i));
        if (e.type == ValueType::kTrue) return Value::boolean(n.op == ExprOp::kIn);
        if (e.type != ValueType::kFalse) unknown = true;
      }
      if (unknown) return Value::null();
      return Value::boolean(n.op == ExprOp::kNotIn);
    }
    case ExprOp::kCase: {
      size_t end = n.args.size() - (n.flag ? 1 : 0);
      for (size_t i = 0; i + 1 < end; i += 2)
        if (is_true(arg(i))) return arg(i + 1);
      return n.flag ? arg(n.args.size() - 1) : Value::null();
    }
    case ExprOp::kCaseSimple: {
      Value x = arg(0);
      size_t end = n.args.size() - (n.flag ? 1 : 0);
      for (size_t i = 1; i + 1 < end; i += 2)
        if (is_true(equals(x, arg(i)))) return arg(i + 1);
      return n.flag ? arg(n.args.size() - 1) : Value::null();
    }
    case ExprOp::kCast:
      return cast_value(n, arg(0), *c.arena);
    case ExprOp::kLower:
    case ExprOp::kUpper: {
      Value v = arg(0);
      if (v.type != ValueType::kString) return v.is_null() ? Value::null() : v;
      char* out = c.arena->alloc(v.str.size());
      for (size_t i = 0; i < v.str.size(); ++i)
        out[i] = n.op == ExprOp::kLower ? lower_ascii(v.str[i]) : upper_ascii(v.str[i]);
      return Value::string({out, v.str.size()});
    }
    case ExprOp::kConcat:
    case ExprOp::kConcatOp: {
      // Evaluate into a small fixed array first to size the result exactly.
      std::string_view parts[16];
      size_t count = n.args.size(), total = 0;
      if (count > 16) return Value::null();  // the binder caps CONCAT at 16 arguments
      for (size_t i = 0; i < count; ++i) {
        Value v = arg(i);
        if (v.is_null()) {
          if (n.op == ExprOp::kConcatOp) return Value::null();
          parts[i] = {};
          continue;
        }
        parts[i] = text_of(v, *c.arena);
        total += parts[i].size();
      }
      char* out = c.arena->alloc(total);
      size_t at = 0;
      for (size_t i = 0; i < count; ++i) {
        if (!parts[i].empty()) std::memcpy(out + at, parts[i].data(), parts[i].size());
        at += parts[i].size();
      }
      return Value::string({out, total});
    }
    case ExprOp::kSubstring: {
      Value s = arg(0);
      if (s.is_null()) return Value::null();
      if (s.type != ValueType::kString) s = Value::string(text_of(s, *c.arena));
      int64_t start, len = INT64_MAX;
      if (!int_arg(arg(1), start)) return Value::null();
      if (n.args.size() > 2) {
        if (!int_arg(arg(2), len)) return Value::null();
        if (len < 0) return Value::null();
      }
      // SQL: positions are 1-based; a start before 1 eats into the length.
      int64_t from = start - 1, to = len == INT64_MAX ? INT64_MAX : from + len;
      if (from < 0) from = 0;
      if (to <= from) return Value::string({});
      size_t b = utf8_offset(s.str, from);
      size_t e = to == INT64_MAX ? s.str.size() : utf8_offset(s.str, to);
      return Value::string(s.str.substr(b, e - b));
    }
    case ExprOp::kCoalesce:
      for (size_t i = 0; i < n.args.size(); ++i) {
        Value v = arg(i);
        if (!v.is_null()) return v;
      }
      return Value::null();
    case ExprOp::kAbs: {
      Value v = arg(0);
      if (v.type == ValueType::kDecimal)
        return v.dec.mantissa < 0 ? make_number(-static_cast<Int128>(v.dec.mantissa), v.dec.scale)
                                  : v;
      if (v.type == ValueType::kDouble) return Value::real(std::fabs(v.dbl));
      return Value::null();
    }
    case ExprOp::kRound:
    case ExprOp::kFloor:
    case ExprOp::kCeil: {
      Value v = arg(0);
      int64_t digits = 0;
      if (n.args.size() > 1 && !int_arg(arg(1), digits)) return Value::null();
      if (digits > kMaxScale || digits < -kMaxScale) return v.is_number() ? v : Value::null();
      return round_value(n.op, v, static_cast<int>(digits));
    }
    case ExprOp::kLength: {
      Value v = arg(0);
      if (v.type != ValueType::kString) return Value::null();
      return Value::decimal(utf8_length(v.str));
    }
  }
  return Value::null();
}

void append_value_json(std::string& out, const Value& v) {
  switch (v.type) {
    case ValueType::kDecimal:
      append_decimal(out, v.dec.mantissa, v.dec.scale);
      return;
    case ValueType::kDouble:
      append_double(out, v.dbl);
      return;
    case ValueType::kString:
      append_json_string(out, v.str);
      return;
    case ValueType::kTrue:
      out += "true";
      return;
    case ValueType::kFalse:
      out += "false";
      return;
    case ValueType::kTimestamp: {
      char ts[24];
      format_rfc3339_ms(v.dec.mantissa, ts);
      out.push_back('"');
      out.append(ts, 24);
      out.push_back('"');
      return;
    }
    default:
      out += "null";
  }
}

}  // namespace freshet::query
