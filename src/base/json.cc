#include "freshet/base/json.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace freshet {

namespace {

bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// The first byte at or after p that must be escaped, or end. Output strings are mostly long
// runs of plain text (Nexmark's `extra`, URLs): they are passed over 16 bytes at a time.
const char* next_to_escape(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i below_space = _mm_set1_epi8(0x1f);
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Unsigned v <= 0x1f: max(v, 0x1f) == 0x1f (a signed compare would take UTF-8 bytes).
    const __m128i bad =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_cmpeq_epi8(_mm_max_epu8(v, below_space), below_space));
    if (const int m = _mm_movemask_epi8(bad); m != 0) return p + __builtin_ctz(m);
  }
#endif
  while (p < end && !needs_escape(static_cast<unsigned char>(*p))) ++p;
  return p;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  const char* p = s.data();
  const char* const end = p + s.size();
  for (;;) {
    const char* special = next_to_escape(p, end);
    out.append(p, static_cast<size_t>(special - p));
    if (special == end) break;
    const auto c = static_cast<unsigned char>(*special);
    p = special + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.push_back('"');
}

}  // namespace freshet
