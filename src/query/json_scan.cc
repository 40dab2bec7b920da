#include "json_scan.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace freshet::query::json {

namespace {

// The value of 4 hex digits at s, or -1.
int32_t hex4(const char* s) {
  int32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = s[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
      d = (c | 0x20) - 'a' + 10;
    } else {
      return -1;
    }
    v = v * 16 + d;
  }
  return v;
}

char* put_utf8(uint32_t cp, char* out) {
  auto put = [&out](uint32_t b) { *out++ = static_cast<char>(b); };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xC0 | (cp >> 6));
    put(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put(0xE0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  } else {
    put(0xF0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3F));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  }
  return out;
}

}  // namespace

char* unescape(const char* b, const char* e, char* out) {
  while (b < e) {
    const auto* bs = static_cast<const char*>(std::memchr(b, '\\', static_cast<size_t>(e - b)));
    const char* plain_end = bs != nullptr ? bs : e;
    std::memcpy(out, b, static_cast<size_t>(plain_end - b));
    out += plain_end - b;
    if (bs == nullptr) break;
    b = bs;
    if (e - b < 2) return nullptr;
    switch (b[1]) {
      case '"':
      case '\\':
      case '/':
        *out++ = b[1];
        b += 2;
        continue;
      case 'b':
        *out++ = '\b';
        b += 2;
        continue;
      case 'f':
        *out++ = '\f';
        b += 2;
        continue;
      case 'n':
        *out++ = '\n';
        b += 2;
        continue;
      case 'r':
        *out++ = '\r';
        b += 2;
        continue;
      case 't':
        *out++ = '\t';
        b += 2;
        continue;
      case 'u':
        break;
      default:
        return nullptr;
    }
    if (e - b < 6) return nullptr;
    int32_t cp = hex4(b + 2);
    if (cp < 0) return nullptr;
    b += 6;
    if (cp >= 0xD800 && cp < 0xDC00) {
      // A high surrogate must be followed by a low one; together they are one code point.
      if (e - b < 6 || b[0] != '\\' || b[1] != 'u') return nullptr;
      const int32_t lo = hex4(b + 2);
      if (lo < 0xDC00 || lo > 0xDFFF) return nullptr;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      b += 6;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return nullptr;  // a low surrogate alone
    }
    out = put_utf8(static_cast<uint32_t>(cp), out);
  }
  return out;
}

namespace {

// Appends the positions of the bits of `quotes` (plus `base`) at o, eight at a time, written
// whether or not there are that many bits (the extra ones are overwritten or past the count):
// one branch per block in the common case. `bits` is the number of bits.
inline uint32_t* flatten(uint64_t quotes, int bits, uint32_t base, uint32_t* o) {
  uint32_t* next = o + bits;
  do {
    for (int k = 0; k < 8; ++k) {
      o[k] = base + static_cast<uint32_t>(std::countr_zero(quotes));
      quotes &= quotes - 1;
    }
    o += 8;
  } while (quotes != 0);
  return next;
}

// The masks of one 64-byte block: the quotes, and the bytes that need a closer look
// (backslashes, control characters, non-ASCII), which most blocks have none of.
struct BlockMasks {
  uint64_t quotes, rare;
};
// The closer look, for a block with rare bytes.
struct RareMasks {
  uint64_t backslashes = 0, controls = 0, non_ascii = 0;
};

RareMasks rare_masks(const char* p) {
  RareMasks m;
#if defined(__SSE2__)
  for (int j = 0; j < 4; ++j) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * j));
    auto bits = [](__m128i x) { return uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(x))}; };
    const uint64_t high = bits(v);
    m.backslashes |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))) << (16 * j);
    // Signed compare: bytes >= 0x80 are negative and "< 0x20" too; take them out.
    m.controls |= (bits(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20))) & ~high) << (16 * j);
    m.non_ascii |= high << (16 * j);
  }
#else
  for (int j = 0; j < 64; ++j) {
    const auto c = static_cast<uint8_t>(p[j]);
    m.backslashes |= uint64_t{c == '\\'} << j;
    m.controls |= uint64_t{c < 0x20} << j;
    m.non_ascii |= uint64_t{c >= 0x80} << j;
  }
#endif
  return m;
}

BlockMasks masks_portable(const char* p) {
  BlockMasks m{0, 0};
#if defined(__SSE2__)
  for (int j = 0; j < 4; ++j) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * j));
    auto bits = [](__m128i x) { return uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(x))}; };
    // Signed compare: bytes >= 0x80 are negative, so "< 0x20" takes non-ASCII too.
    const __m128i rare = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
                                      _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    m.quotes |= bits(_mm_cmpeq_epi8(v, _mm_set1_epi8('"'))) << (16 * j);
    m.rare |= bits(rare) << (16 * j);
  }
#else
  for (int j = 0; j < 64; ++j) {
    const auto c = static_cast<uint8_t>(p[j]);
    m.quotes |= uint64_t{c == '"'} << j;
    m.rare |= uint64_t{c == '\\' || c < 0x20 || c >= 0x80} << j;
  }
#endif
  return m;
}

// The characters escaped by a backslash (the one after each odd-length run of backslashes),
// given the block's backslashes and whether its first character is escaped by a run that
// ended the previous block (`carry`, updated for the next block). simdjson's branchless way:
// runs that start on an odd bit are moved to even ones by an add, whose carries tell which
// runs have odd length.
inline uint64_t escaped_chars(uint64_t backslashes, uint64_t& carry) {
  constexpr uint64_t kEven = 0x5555555555555555ULL;
  backslashes &= ~carry;  // an escaped backslash starts no run
  const uint64_t follows = backslashes << 1 | carry;
  const uint64_t odd_starts = backslashes & ~kEven & ~follows;
  uint64_t sum;
  carry = __builtin_add_overflow(odd_starts, backslashes, &sum);
  return (kEven ^ (sum << 1)) & follows;
}

// Checks the UTF-8 sequences that start at the non-ASCII bytes of a block (`non_ascii`, from
// position `base`); `covered` is where the last sequence checked ends, carried across blocks,
// so continuation bytes are not taken for starts.
bool valid_utf8_at(const char* p, size_t n, size_t base, uint64_t non_ascii, size_t& covered) {
  for (; non_ascii != 0; non_ascii &= non_ascii - 1) {
    const size_t pos = base + static_cast<size_t>(std::countr_zero(non_ascii));
    if (pos < covered) continue;
    const int len = utf8_length(p + pos);
    if (len == 0 || pos + static_cast<size_t>(len) > n) return false;
    covered = pos + static_cast<size_t>(len);
  }
  return true;
}

template <bool kPopcnt, class Masks>
__attribute__((always_inline)) inline bool index_with(Masks masks, const char* p, size_t n,
                                                      QuoteIndex& index) {
  uint32_t* o = index.quotes;
  uint64_t escape_carry = 0, any_backslash = 0;
  size_t covered = 0;
  for (size_t i = 0; i < n; i += 64) {
    BlockMasks m = masks(p + i);
    const uint64_t valid = n - i < 64 ? (uint64_t{1} << (n - i)) - 1 : ~uint64_t{0};
    m.quotes &= valid;
    uint64_t backslashes = 0;
    if (__builtin_expect(((m.rare & valid) | escape_carry) != 0, 0)) {
      const RareMasks r = rare_masks(p + i);
      if ((r.controls & valid) != 0) return false;
      if (!valid_utf8_at(p, n, i, r.non_ascii & valid, covered)) return false;
      backslashes = r.backslashes & valid;
      m.quotes &= ~escaped_chars(backslashes, escape_carry);
      any_backslash |= backslashes;
    }
    index.backslashes[i / 64] = backslashes;
    const int bits = kPopcnt ? __builtin_popcountll(m.quotes) : popcount64(m.quotes);
    o = flatten(m.quotes, bits, static_cast<uint32_t>(i), o);
  }
  index.count = static_cast<size_t>(o - index.quotes);
  index.has_backslashes = any_backslash != 0;
  return true;
}

#if defined(__x86_64__)
// Two 32-byte compares per mask and block, and POPCNT/TZCNT instructions instead of the
// portable bit tricks.
__attribute__((target("avx2,popcnt,bmi"))) bool index_avx2(const char* p, size_t n,
                                                           QuoteIndex& index) {
  auto masks = [](const char* b) __attribute__((target("avx2,popcnt,bmi"))) {
    BlockMasks m{0, 0};
    for (int j = 0; j < 2; ++j) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 32 * j));
      auto bits = [](__m256i x) __attribute__((target("avx2"))) {
        return uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(x))};
      };
      const __m256i rare = _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\')),
                                           _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v));
      m.quotes |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"'))) << (32 * j);
      m.rare |= bits(rare) << (32 * j);
    }
    return m;
  };
  return index_with<true>(masks, p, n, index);
}

const bool kHasAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") &&
                      __builtin_cpu_supports("bmi");
#endif

}  // namespace

bool index_quotes_portable(const char* p, size_t n, QuoteIndex& index) {
  return index_with<false>(masks_portable, p, n, index);
}

bool index_quotes(const char* p, size_t n, QuoteIndex& index) {
#if defined(__x86_64__)
  if (kHasAvx2) return index_avx2(p, n, index);
#endif
  return index_quotes_portable(p, n, index);
}

bool IndexedBackslashes::any(const char* b, const char* e) const {
  size_t lo = static_cast<size_t>(b - base);
  const size_t hi = static_cast<size_t>(e - base);
  while (lo < hi) {
    const size_t block_end = (lo | 63) + 1;
    uint64_t m = masks[lo / 64] >> (lo % 64);
    if (hi < block_end) m &= (uint64_t{1} << (hi - lo)) - 1;
    if (m != 0) return true;
    lo = block_end;
  }
  return false;
}

}  // namespace freshet::query::json
