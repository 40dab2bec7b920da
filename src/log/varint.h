#pragma once
// Zig-zag varints of the Kafka record format, and big-endian fixed-width helpers.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace freshet::log::detail {

inline uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

// The longest encoding: 64 bits at 7 per byte.
inline constexpr size_t kMaxVarlongBytes = 10;

// Writes v at p (room for kMaxVarlongBytes) and returns the end of what it wrote.
inline char* put_varlong(char* p, int64_t v) {
  uint64_t z = zigzag(v);
  while (z >= 0x80) {
    *p++ = static_cast<char>((z & 0x7f) | 0x80);
    z >>= 7;
  }
  *p++ = static_cast<char>(z);
  return p;
}

inline void put_varlong(std::string& out, int64_t v) {
  char buf[kMaxVarlongBytes];
  out.append(buf, static_cast<size_t>(put_varlong(buf, v) - buf));
}

inline size_t varlong_size(int64_t v) {
  // 7 bits a byte; zero still takes one.
  return static_cast<size_t>(std::bit_width(zigzag(v) | 1) + 6) / 7;
}

inline int64_t unzigzag(uint64_t z) {
  return static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
}

// Decodes a zig-zag varint of at most 10 bytes; false when truncated or too long.
inline bool get_varlong_loop(const char*& p, const char* end, int64_t& v) {
  uint64_t z = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p >= end) return false;
    auto b = static_cast<uint8_t>(*p++);
    z |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      v = unzigzag(z);
      return true;
    }
  }
  return false;
}

inline bool get_varlong(const char*& p, const char* end, int64_t& v) {
  // Record fields are mostly one or two bytes long (lengths under 8 KiB, small deltas): those
  // skip the loop.
  if (end - p >= 2) [[likely]] {
    const auto b0 = static_cast<uint8_t>(p[0]);
    const auto b1 = static_cast<uint8_t>(p[1]);
    if (b0 < 0x80) {
      v = unzigzag(b0);
      p += 1;
      return true;
    }
    if (b1 < 0x80) {
      v = unzigzag((b0 & 0x7fu) | (uint64_t{b1} << 7));
      p += 2;
      return true;
    }
  }
  return get_varlong_loop(p, end, v);
}

template <typename T>
inline void store_be(char* p, T v) {
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(v);
  for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<char>(u >> (8 * (sizeof(T) - 1 - i)));
}

template <typename T>
inline T load_be(const char* p) {
  using U = std::make_unsigned_t<T>;
  U u = 0;
  for (size_t i = 0; i < sizeof(T); ++i) u = static_cast<U>((u << 8) | static_cast<uint8_t>(p[i]));
  return static_cast<T>(u);
}

}  // namespace freshet::log::detail
