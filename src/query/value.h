#pragma once
// One field of one record as the extractor found it. Views point into the record or into
// the JSON parser's string buffer and go stale at the next record.

#include <cstdint>
#include <string_view>

#include "decimal.h"

namespace freshet::query {

enum class ValueType : uint8_t {
  kMissing,  // the field is not in the record (behaves as SQL NULL)
  kNull,
  kFalse,
  kTrue,
  kDecimal,    // exact number in `dec`
  kDouble,     // number that only fits a double (`dbl`)
  kString,     // unescaped text in `str`
  kTimestamp,  // epoch milliseconds in `dec.mantissa` (scale 0); from CAST and window bounds
  kOther,      // object or array
  kInvalid,    // not valid JSON where this field was read
};

struct Value {
  ValueType type = ValueType::kMissing;
  Decimal dec;
  double dbl = 0;
  std::string_view str;

  bool is_null() const { return type == ValueType::kMissing || type == ValueType::kNull; }
  bool is_number() const { return type == ValueType::kDecimal || type == ValueType::kDouble; }
  bool is_bool() const { return type == ValueType::kTrue || type == ValueType::kFalse; }

  static Value null() {
    Value v;
    v.type = ValueType::kNull;
    return v;
  }
  static Value boolean(bool b) {
    Value v;
    v.type = b ? ValueType::kTrue : ValueType::kFalse;
    return v;
  }
  static Value decimal(int64_t mantissa, uint8_t scale = 0) {
    Value v;
    v.type = ValueType::kDecimal;
    v.dec = {mantissa, scale};
    return v;
  }
  static Value real(double d) {
    Value v;
    v.type = ValueType::kDouble;
    v.dbl = d;
    return v;
  }
  static Value string(std::string_view s) {
    Value v;
    v.type = ValueType::kString;
    v.str = s;
    return v;
  }
  static Value timestamp(int64_t ms) {
    Value v;
    v.type = ValueType::kTimestamp;
    v.dec = {ms, 0};
    return v;
  }
  double as_double() const;
};

inline double Value::as_double() const {
  if (type == ValueType::kDouble) return dbl;
  return decimal_to_double(dec.mantissa, dec.scale);
}

}  // namespace freshet::query
