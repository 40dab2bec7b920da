#include "key_encoding.h"

#include <cstring>

#include "expr.h"
#include "row_format.h"

namespace freshet::query {

namespace {

void put_u64_be(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out.append(b, 8);
}

uint64_t get_u64_be(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[static_cast<size_t>(i)]);
  return v;
}

}  // namespace

void encode_key_value(std::string& key, const Value& v) {
  switch (v.type) {
    case ValueType::kFalse:
      key.push_back('\x02');
      return;
    case ValueType::kTrue:
      key.push_back('\x03');
      return;
    case ValueType::kDecimal:
      key.push_back('\x04');
      put_u64_be(key, static_cast<uint64_t>(v.dec.mantissa) ^ (uint64_t{1} << 63));
      key.push_back(static_cast<char>(v.dec.scale));
      return;
    case ValueType::kDouble: {
      key.push_back('\x05');
      uint64_t bits;
      double d = v.dbl == 0 ? 0.0 : v.dbl;  // -0.0 groups with 0.0
      std::memcpy(&bits, &d, 8);
      bits = (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
      put_u64_be(key, bits);
      return;
    }
    case ValueType::kString: {
      key.push_back('\x06');
      size_t start = 0;
      std::string_view s = v.str;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\0') {
          key.append(s.data() + start, i - start);
          key.append("\0\xff", 2);
          start = i + 1;
        }
      }
      key.append(s.data() + start, s.size() - start);
      key.append("\0\0", 2);
      return;
    }
    case ValueType::kTimestamp:
      key.push_back('\x07');
      put_u64_be(key, static_cast<uint64_t>(v.dec.mantissa) ^ (uint64_t{1} << 63));
      return;
    default:
      key.push_back('\x01');
      return;
  }
}

bool append_key_value_json(std::string_view& key, std::string& out) {
  if (key.empty()) return false;
  char tag = key[0];
  key.remove_prefix(1);
  switch (tag) {
    case '\x01':
      out += "null";
      return true;
    case '\x02':
      out += "false";
      return true;
    case '\x03':
      out += "true";
      return true;
    case '\x04': {
      if (key.size() < 9) return false;
      auto m = static_cast<int64_t>(get_u64_be(key) ^ (uint64_t{1} << 63));
      int scale = static_cast<unsigned char>(key[8]);
      key.remove_prefix(9);
      append_decimal(out, m, scale);
      return true;
    }
    case '\x05': {
      if (key.size() < 8) return false;
      uint64_t bits = get_u64_be(key);
      bits = (bits >> 63) ? bits & ~(uint64_t{1} << 63) : ~bits;
      double d;
      std::memcpy(&d, &bits, 8);
      key.remove_prefix(8);
      append_double(out, d);
      return true;
    }
    case '\x07': {
      if (key.size() < 8) return false;
      auto ms = static_cast<int64_t>(get_u64_be(key) ^ (uint64_t{1} << 63));
      key.remove_prefix(8);
      append_value_json(out, Value::timestamp(ms));
      return true;
    }
    case '\x06': {
      std::string s;
      for (size_t i = 0; i + 1 < key.size(); ++i) {
        if (key[i] != '\0') {
          s.push_back(key[i]);
          continue;
        }
        if (key[i + 1] == '\xff') {
          s.push_back('\0');
          ++i;
          continue;
        }
        key.remove_prefix(i + 2);
        append_json_string(out, s);
        return true;
      }
      return false;
    }
    default:
      return false;
  }
}

bool decode_key_value(std::string_view& key, Value& out, StringArena& arena) {
  if (key.empty()) return false;
  char tag = key[0];
  key.remove_prefix(1);
  switch (tag) {
    case '\x01':
      out = Value::null();
      return true;
    case '\x02':
    case '\x03':
      out = Value::boolean(tag == '\x03');
      return true;
    case '\x04': {
      if (key.size() < 9) return false;
      auto m = static_cast<int64_t>(get_u64_be(key) ^ (uint64_t{1} << 63));
      out = Value::decimal(m, static_cast<uint8_t>(key[8]));
      key.remove_prefix(9);
      return true;
    }
    case '\x05': {
      if (key.size() < 8) return false;
      uint64_t bits = get_u64_be(key);
      bits = (bits >> 63) ? bits & ~(uint64_t{1} << 63) : ~bits;
      double d;
      std::memcpy(&d, &bits, 8);
      key.remove_prefix(8);
      out = Value::real(d);
      return true;
    }
    case '\x07': {
      if (key.size() < 8) return false;
      out = Value::timestamp(static_cast<int64_t>(get_u64_be(key) ^ (uint64_t{1} << 63)));
      key.remove_prefix(8);
      return true;
    }
    case '\x06': {
      bool escaped = false;
      for (size_t i = 0; i + 1 < key.size(); ++i) {
        if (key[i] != '\0') continue;
        if (key[i + 1] == '\xff') {
          escaped = true;
          ++i;
          continue;
        }
        std::string_view raw = key.substr(0, i);
        key.remove_prefix(i + 2);
        if (!escaped) {
          out = Value::string(raw);
          return true;
        }
        char* p = arena.alloc(raw.size());
        size_t n = 0;
        for (size_t j = 0; j < raw.size(); ++j) {
          p[n++] = raw[j];
          if (raw[j] == '\0') ++j;  // skip the 0xFF of an escaped 0x00
        }
        out = Value::string({p, n});
        return true;
      }
      return false;
    }
    default:
      return false;
  }
}

}  // namespace freshet::query
