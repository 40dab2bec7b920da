#include "freshet/base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace freshet {
namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // reflected Castagnoli polynomial

struct Tables {
  uint32_t t[8][256];
  constexpr Tables() : t{} {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (kPoly & (0u - (c & 1u)));
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
};
constexpr Tables kTables;

// Shifting a CRC over zeros, to join CRCs computed side by side. In the reflected form the
// register uses (bit 31 is the coefficient of x^0), a CRC register after data D, extended by
// n zero bytes, is the register times x^(8n) modulo P; and the register after D1 D2 is that of
// D1 extended by |D2| zeros, XOR the register of D2 alone started from 0.
constexpr uint32_t mult_mod_p(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {  // a's coefficients from x^0 up
    if (a & m) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;  // b *= x
  }
  return product;
}

constexpr uint32_t x_pow_8n_mod_p(uint64_t n) {
  uint32_t result = 1u << 31;  // x^0
  uint32_t square = 1u << 23;  // x^8
  for (; n != 0; n >>= 1) {
    if (n & 1) result = mult_mod_p(square, result);
    square = mult_mod_p(square, square);
  }
  return result;
}

// crc * x^(8 * len) mod P, a table per byte of the crc.
struct ZerosOperator {
  uint32_t t[4][256];
  explicit constexpr ZerosOperator(uint64_t len) : t{} {
    const uint32_t xn = x_pow_8n_mod_p(len);
    for (uint32_t k = 0; k < 4; ++k)
      for (uint32_t b = 0; b < 256; ++b) t[k][b] = mult_mod_p(xn, b << (8 * k));
  }
  uint32_t apply(uint32_t crc) const {
    return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
  }
};

#if defined(__x86_64__)
// The crc32 instruction takes 3 cycles but can start every cycle: three independent streams
// over thirds of a block run about three times as fast as one, and are joined with the zeros
// operator. Long blocks for the bulk, short ones so a batch's tail is interleaved too.
constexpr size_t kLongBlock = 8192;
constexpr size_t kShortBlock = 256;
constexpr ZerosOperator kLongZeros(kLongBlock);
constexpr ZerosOperator kShortZeros(kShortBlock);

__attribute__((target("sse4.2"))) inline uint64_t crc_step(uint64_t c, const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return _mm_crc32_u64(c, v);
}

// Three streams over the three thirds of each 3 * block bytes, while they last.
__attribute__((target("sse4.2"))) inline uint64_t crc_interleaved(uint64_t c, const uint8_t*& p,
                                                                  size_t& len, size_t block,
                                                                  const ZerosOperator& zeros) {
  while (len >= 3 * block) {
    uint64_t c1 = 0, c2 = 0;
    for (const uint8_t* end = p + block; p < end; p += 8) {
      c = crc_step(c, p);
      c1 = crc_step(c1, p + block);
      c2 = crc_step(c2, p + 2 * block);
    }
    c = zeros.apply(static_cast<uint32_t>(c)) ^ c1;
    c = zeros.apply(static_cast<uint32_t>(c)) ^ c2;
    p += 2 * block;
    len -= 3 * block;
  }
  return c;
}

__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(uint32_t crc, const void* data,
                                                        size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t c = ~crc;
  c = crc_interleaved(c, p, len, kLongBlock, kLongZeros);
  c = crc_interleaved(c, p, len, kShortBlock, kShortZeros);
  while (len >= 8) {
    c = crc_step(c, p);
    p += 8;
    len -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (len-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}
const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
#else
const bool kHasSse42 = false;
#endif

}  // namespace

uint32_t crc32c_portable(uint32_t crc, const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (len >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = kTables.t[7][lo & 0xff] ^ kTables.t[6][(lo >> 8) & 0xff] ^ kTables.t[5][(lo >> 16) & 0xff] ^
        kTables.t[4][lo >> 24] ^ kTables.t[3][hi & 0xff] ^ kTables.t[2][(hi >> 8) & 0xff] ^
        kTables.t[1][(hi >> 16) & 0xff] ^ kTables.t[0][hi >> 24];
    p += 8;
    len -= 8;
  }
  while (len-- > 0) c = (c >> 8) ^ kTables.t[0][(c ^ *p++) & 0xff];
  return ~c;
}

uint32_t crc32c(uint32_t crc, const void* data, size_t len) {
#if defined(__x86_64__)
  if (kHasSse42) return crc32c_sse42(crc, data, len);
#endif
  return crc32c_portable(crc, data, len);
}

bool crc32c_is_hardware() { return kHasSse42; }

}  // namespace freshet
