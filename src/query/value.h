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
  kDecimal,  // exact number in `dec`
  kDouble,   // number that only fits a double (`dbl`)
  kString,   // unescaped text in `str`
  kOther,    // object or array
  kInvalid,  // not valid JSON where this field was read
};

struct Value {
  ValueType type = ValueType::kMissing;
  Decimal dec;
  double dbl = 0;
  std::string_view str;

  bool is_null() const { return type == ValueType::kMissing || type == ValueType::kNull; }
  bool is_number() const { return type == ValueType::kDecimal || type == ValueType::kDouble; }
  double as_double() const;
};

inline double Value::as_double() const {
  if (type == ValueType::kDouble) return dbl;
  return decimal_to_double(dec.mantissa, dec.scale);
}

}  // namespace freshet::query
