#pragma once
// The byte-level half of FieldExtractor: one forward pass over a JSON text that validates it
// strictly (RFC 8259 grammar, UTF-8 as simdjson checks it, no control characters in strings,
// escapes including \u surrogate pairs, nesting up to kMaxDepth) while the caller picks out
// the members it wants. Nothing allocates; strings are unescaped into caller buffers.
//
// Finding where each string ends is the serial part of such a pass (the next token cannot be
// looked at before the string is scanned), so the walk is written over a string policy:
// ScanStrings scans each string as it comes (any text), IndexedStrings takes the ends from
// the positions of every unescaped quote, computed up front in one throughput-bound pass by
// index_quotes(), for text without control characters (raw tabs and newlines included).
//
// Every function takes the cursor `p` and the text's `end`. They may READ up to kReadAhead
// bytes past `end` (word loads), but never let those bytes decide anything: every byte that
// matters is checked against `end` first, so the verdict does not depend on what follows.

#include <bit>
#include <cstdint>
#include <cstring>

#include "freshet/base/assert.h"

namespace freshet::query::json {

// The walk's per-token functions are forced inline: the cursor is passed by reference, and a
// call would put it in memory, on the chain from one token to the next.
#define FRESHET_JSON_INLINE inline __attribute__((always_inline))

inline constexpr size_t kReadAhead = 64;
inline constexpr int kMaxDepth = 1024;  // containers open at once, as simdjson's default

// Character classes by compares and bit masks, not table loads: a table lookup adds a load
// to the chain from one token to the next.
inline bool is_ws(char c) {
  constexpr uint64_t kWs = 1ULL << ' ' | 1ULL << '\t' | 1ULL << '\n' | 1ULL << '\r';
  const auto u = static_cast<uint8_t>(c);
  return u <= ' ' && ((kWs >> u) & 1);
}
inline bool is_digit(char c) { return static_cast<uint8_t>(c - '0') < 10; }
// Where a number or literal token ends (whitespace, structural characters, quote), as
// simdjson's stage 1 splits tokens.
inline bool is_delim(char c) {
  constexpr uint64_t kLow = 1ULL << ' ' | 1ULL << '\t' | 1ULL << '\n' | 1ULL << '\r' | 1ULL << ',' |
                            1ULL << ':' | 1ULL << '"';
  const auto u = static_cast<uint8_t>(c);
  // [ ] { } are 0x5B 0x5D 0x7B 0x7D; nothing else becomes 0x7B or 0x7D with bit 0x20 set.
  return u < 64 ? (kLow >> u) & 1 : ((u | 0x20) == '{' || (u | 0x20) == '}');
}

inline void skip_ws(const char*& p, const char* end) {
  while (p < end && is_ws(*p)) ++p;
}
// The byte at p, or NUL at the end (NUL is never valid where a peek looks).
inline char peek(const char* p, const char* end) { return p < end ? *p : '\0'; }
// Moves p past whitespace and returns the byte there (NUL at the end). Records seldom have
// whitespace between tokens, so one compare usually decides.
FRESHET_JSON_INLINE char next_char(const char*& p, const char* end) {
  char c = peek(p, end);
  if (__builtin_expect(static_cast<uint8_t>(c) <= ' ', 0)) {
    skip_ws(p, end);
    c = peek(p, end);
  }
  return c;
}

// 8 bytes at p with the first byte in the low bits, whatever the machine's byte order, so
// that "lowest set bit" means "first byte".
inline uint64_t load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}
// The first n bytes of a load8 word, the rest zero.
inline uint64_t low_bytes(uint64_t w, size_t n) {
  return n >= 8 ? w : w & ((uint64_t{1} << (8 * n)) - 1);
}

// Bits set in x (std::popcount is a library call on baseline x86-64, without POPCNT).
inline int popcount64(uint64_t x) {
  x -= (x >> 1) & 0x5555555555555555ULL;
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
  return static_cast<int>((x * 0x0101010101010101ULL) >> 56);
}

// How many of the 8 bytes of w (load8 order) are ASCII digits before the first other byte.
inline int leading_digits(uint64_t w) {
  constexpr uint64_t k1 = 0x0101010101010101ULL, kF0 = k1 * 0xF0, k7F = k1 * 0x7F;
  // A byte is a digit iff its high nibble is 3 and adding 6 keeps it 3. Carries between bytes
  // start only at a non-digit, so bytes before the first non-digit are judged exactly.
  const uint64_t z = ((w & kF0) ^ (k1 * 0x30)) | (((w + k1 * 6) & kF0) ^ (k1 * 0x30));
  const uint64_t nonzero = (((z & k7F) + k7F) | z) & (k1 * 0x80);
  return nonzero == 0 ? 8 : std::countr_zero(nonzero) >> 3;
}

// The value of the first n (1..8) bytes of w, all ASCII digits.
inline uint64_t digits_value(uint64_t w, int n) {
  w <<= 8 * (8 - n);  // leading zero bytes count as '0' digits below
  w = ((w & 0x0F0F0F0F0F0F0F0FULL) * 2561) >> 8;
  w = ((w & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
  return ((w & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
}

// Marks (high bit of the byte) where a string scan must stop: '"', '\\', a control character
// or a non-ASCII byte. Borrows can mark bytes after a marked one, never before it, so only
// the lowest mark is exact, which is the one used.
inline uint64_t string_stops(uint64_t w) {
  constexpr uint64_t k1 = 0x0101010101010101ULL, k80 = k1 * 0x80;
  auto zero = [](uint64_t v) { return (v - k1) & ~v & k80; };
  return zero(w ^ (k1 * '"')) | zero(w ^ (k1 * '\\')) | (((w - k1 * 0x20) | w) & k80);
}

// Length of the well-formed UTF-8 sequence at s (whose first byte is >= 0x80), or 0: no
// overlongs, no surrogates, nothing above U+10FFFF.
inline int utf8_length(const char* s) {
  auto b = [s](int i) { return static_cast<uint8_t>(s[i]); };
  auto cont = [&](int i) { return (b(i) & 0xC0) == 0x80; };
  const uint8_t b0 = b(0);
  if (b0 < 0xC2) return 0;
  if (b0 < 0xE0) return cont(1) ? 2 : 0;
  if (b0 < 0xF0) {
    if (!cont(1) || !cont(2)) return 0;
    if ((b0 == 0xE0 && b(1) < 0xA0) || (b0 == 0xED && b(1) > 0x9F)) return 0;
    return 3;
  }
  if (b0 < 0xF5) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if ((b0 == 0xF0 && b(1) < 0x90) || (b0 == 0xF4 && b(1) > 0x8F)) return 0;
    return 4;
  }
  return 0;
}

// Moves p from an opening quote past the closing one. False on a string that does not end
// before `end`, holds a control character or invalid UTF-8. Sets `escaped` if it holds a
// backslash: its escapes are checked by unescape(), not here (their errors are "invalid
// string" where the value is wanted, "invalid JSON" elsewhere).
inline bool scan_string(const char*& p, const char* end, bool& escaped) {
  const char* s = p + 1;
  for (;;) {
    if (s >= end) return false;
    const uint64_t stops = string_stops(load8(s));
    if (stops == 0) {
      s += 8;
      continue;
    }
    s += std::countr_zero(stops) >> 3;
    if (s >= end) return false;
    const auto c = static_cast<uint8_t>(*s);
    if (c == '"') {
      p = s + 1;
      return true;
    }
    if (c == '\\') {
      escaped = true;
      if (s + 1 >= end) return false;
      // The escaped byte is skipped (an escaped quote does not end the string) unless it is a
      // control or non-ASCII byte, which must still be checked as such: the escape is bad
      // anyway, but the verdict on the bytes comes first, as in simdjson.
      const auto n = static_cast<uint8_t>(s[1]);
      s += n >= 0x20 && n < 0x80 ? 2 : 1;
      continue;
    }
    if (c < 0x20) return false;
    const int len = utf8_length(s);
    if (len == 0 || s + len > end) return false;
    s += len;
  }
}

// Unescapes the string body [b, e) (as scan_string accepted it) into out; returns the end
// of what it wrote, or nullptr on an invalid escape: not one of \" \\ \/ \b \f \n \r \t
// \uXXXX, or a \u surrogate that is not a high one followed by a \u low one. Writes at most
// e - b bytes.
char* unescape(const char* b, const char* e, char* out);

// What index_quotes() finds in a text.
struct QuoteIndex {
  uint32_t* quotes;       // positions of the quotes that delimit strings; room for n + 8
  size_t count;           // how many
  uint64_t* backslashes;  // one mask per 64-byte block; room for n / 64 + 1
  bool has_backslashes;
};

// Indexes the quotes that delimit strings in [p, p + n) (quotes escaped by a backslash left
// out) and the backslashes. False if the text has a control character (whitespace other than
// ' ' included) or invalid UTF-8: it must be scanned instead (`index` then holds nothing
// useful). Reads up to 63 bytes past p + n.
bool index_quotes(const char* p, size_t n, QuoteIndex& index);
// The same without the AVX2 version that index_quotes() picks where the CPU has it; for tests.
bool index_quotes_portable(const char* p, size_t n, QuoteIndex& index);

// Whether a range of an indexed text holds a backslash, from the index's masks.
struct IndexedBackslashes {
  const char* base;
  const uint64_t* masks;
  bool any(const char* b, const char* e) const;
};

// Where strings end. Both policies move p from an opening quote past the closing one and
// give the raw body [b, e).
struct ScanStrings {
  const char* end;
  FRESHET_JSON_INLINE bool string(const char*& p, const char*& b, const char*& e,
                                  bool& escaped) const {
    b = p + 1;
    if (!scan_string(p, end, escaped)) return false;
    e = p - 1;
    return true;
  }
};
// Over a text that index_quotes() accepted (with an even count): strings are the quote
// pairs in order. Every quote the walk meets is the next one of the index, because only
// strings consume quotes and a backslash outside a string is an error. kBackslashes: the
// text has some, so each string says whether it holds one (its escapes are then checked as
// with ScanStrings). Strings hold no control character and valid UTF-8 (index_quotes checked
// the whole text).
template <bool kBackslashes>
struct IndexedStrings {
  const char* base;
  const uint32_t* next;
  IndexedBackslashes backslashes;
  FRESHET_JSON_INLINE bool string(const char*& p, const char*& b, const char*& e, bool& escaped) {
    FRESHET_DCHECK(p == base + next[0], "the walk met the quotes out of order");
    b = p + 1;
    e = base + next[1];
    p = e + 1;
    next += 2;
    // Without backslashes in the text, `escaped` stays false and the walk's unescaping code
    // drops out of that instantiation.
    if (kBackslashes) escaped = backslashes.any(b, e);
    return true;
  }
};

// Moves p past a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (the caller checks
// what follows it).
FRESHET_JSON_INLINE bool skip_number(const char*& p, const char* end) {
  const char* s = p;
  if (s < end && *s == '-') ++s;
  if (s >= end || !is_digit(*s)) return false;
  if (*s == '0') {
    ++s;
  } else {
    for (;;) {
      const int d = leading_digits(load8(s));
      s += d;
      if (d < 8 || s >= end) break;
    }
    if (s > end) s = end;
  }
  if (s < end && *s == '.') {
    ++s;
    if (s >= end || !is_digit(*s)) return false;
    while (s < end && is_digit(*s)) ++s;
  }
  if (s < end && (*s == 'e' || *s == 'E')) {
    ++s;
    if (s < end && (*s == '+' || *s == '-')) ++s;
    if (s >= end || !is_digit(*s)) return false;
    while (s < end && is_digit(*s)) ++s;
  }
  p = s;
  return true;
}

// Moves p past `word` (true, false, null) if the text has it there.
inline bool skip_word(const char*& p, const char* end, const char* word, size_t n) {
  if (static_cast<size_t>(end - p) < n || std::memcmp(p, word, n) != 0) return false;
  p += n;
  return true;
}

// A string that is not wanted: scanned, and its escapes checked by a trial unescape into
// `scratch` (room for the body).
template <class Strings>
FRESHET_JSON_INLINE bool skip_string(Strings& strings, const char*& p, char* scratch) {
  const char *b, *e;
  bool escaped = false;
  if (!strings.string(p, b, e, escaped)) return false;
  return !escaped || unescape(b, e, scratch) != nullptr;
}

// A member's key and colon: moves p from the key's opening quote past the colon and the
// whitespace after it. [key, key_end) is the raw key; `escaped` as for scan_string.
template <class Strings>
FRESHET_JSON_INLINE bool scan_key(Strings& strings, const char*& p, const char* end,
                                  const char*& key, const char*& key_end, bool& escaped) {
  if (peek(p, end) != '"' || !strings.string(p, key, key_end, escaped)) return false;
  if (next_char(p, end) != ':') return false;
  ++p;
  next_char(p, end);
  return true;
}

template <class Strings>
FRESHET_JSON_INLINE bool skip_scalar(Strings& strings, const char*& p, const char* end,
                                     char* scratch) {
  switch (peek(p, end)) {
    case '"':
      return skip_string(strings, p, scratch);
    case 't':
      return skip_word(p, end, "true", 4);
    case 'f':
      return skip_word(p, end, "false", 5);
    case 'n':
      return skip_word(p, end, "null", 4);
    default:
      return skip_number(p, end);
  }
}

// An object or array at p, validated; see skip_value.
template <class Strings>
__attribute__((noinline)) bool skip_container(Strings& strings, const char*& p, const char* end,
                                              int depth, char* scratch) {
  // Without recursion: one bit per open container says whether it is an object, so a deeply
  // nested record cannot exhaust the stack.
  uint64_t is_object[kMaxDepth / 64] = {};
  auto top_is_object = [&](int top) { return (is_object[top / 64] >> (top % 64)) & 1; };
  auto key = [&] {
    const char *k, *k_end;
    bool escaped = false;
    return scan_key(strings, p, end, k, k_end, escaped) &&
           (!escaped || unescape(k, k_end, scratch) != nullptr);
  };
  int open = 0;
  for (;;) {
    // At a value.
    const char c = peek(p, end);
    if (c == '{' || c == '[') {
      if (depth + open >= kMaxDepth) return false;
      const bool obj = c == '{';
      is_object[open / 64] =
          (is_object[open / 64] & ~(uint64_t{1} << (open % 64))) | (uint64_t{obj} << (open % 64));
      ++open;
      ++p;
      if (next_char(p, end) != (obj ? '}' : ']')) {
        if (obj && !key()) return false;
        continue;
      }
      ++p;
      --open;
    } else if (!skip_scalar(strings, p, end, scratch)) {
      return false;
    }
    // After a value: closing brackets, then a comma and the next member or element.
    for (;;) {
      if (open == 0) return true;
      const bool obj = top_is_object(open - 1);
      const char close = next_char(p, end);
      if (close == (obj ? '}' : ']')) {
        ++p;
        --open;
        continue;
      }
      if (close != ',') return false;
      ++p;
      next_char(p, end);
      if (obj && !key()) return false;
      break;
    }
  }
}

// Validates one value at p (whitespace already skipped) and moves p past it, with `depth`
// containers already open around it; `scratch` takes trial unescapes (end - p bytes).
// False if it is not valid JSON.
template <class Strings>
FRESHET_JSON_INLINE bool skip_value(Strings& strings, const char*& p, const char* end, int depth,
                                    char* scratch) {
  const char c = peek(p, end);
  if (c != '{' && c != '[') return skip_scalar(strings, p, end, scratch);
  // Copies, so that the caller's cursor and policy need not live in memory.
  Strings s = strings;
  const char* q = p;
  const bool ok = skip_container(s, q, end, depth, scratch);
  strings = s;
  p = q;
  return ok;
}

}  // namespace freshet::query::json
