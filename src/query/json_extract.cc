#include "json_extract.h"

#include <cstring>

#include "json_scan.h"

namespace freshet::query {

namespace {

using json::peek;
using json::skip_ws;

// As LocalAggregator::add_batch promises callers: less padding and the record is copied.
constexpr size_t kPaddingNeeded = 64;
static_assert(kPaddingNeeded >= json::kReadAhead);

constexpr const char* kInvalidJson = "invalid JSON";

struct Node {
  std::string name;   // unescaped
  uint64_t head = 0;  // the name's first 8 bytes as json::load8 reads them, zero-padded
  int leaf = -1;      // index into values if this path is wanted itself
  std::vector<Node> children;
  uint64_t child_lengths = 0;  // bit min(length, 63) for each child's name
};

size_t length_bit(size_t n) { return n < 63 ? n : 63; }

// The child whose name is the raw (escape-free) key [k, k + n): length first, then one word,
// then the rest; no call for the keys of a typical record.
inline __attribute__((always_inline)) const Node* match_raw(const Node& node, const char* k,
                                                            size_t n) {
  if (((node.child_lengths >> length_bit(n)) & 1) == 0) return nullptr;
  const uint64_t head = json::low_bytes(json::load8(k), n);
  for (const Node& c : node.children)
    if (c.name.size() == n && c.head == head &&
        (n <= 8 || std::memcmp(k + 8, c.name.data() + 8, n - 8) == 0))
      return &c;
  return nullptr;
}

const Node* match_unescaped(const Node& node, std::string_view key) {
  for (const Node& c : node.children)
    if (c.name == key) return &c;
  return nullptr;
}

}  // namespace

class FieldExtractor::Impl {
 public:
  explicit Impl(const std::vector<std::string>& paths) : count_(paths.size()) {
    for (size_t i = 0; i < paths.size(); ++i) {
      Node* n = &root_;
      std::string_view p = paths[i];
      for (;;) {
        size_t dot = p.find('.');
        std::string_view part = p.substr(0, dot);
        Node* child = nullptr;
        for (Node& c : n->children)
          if (c.name == part) child = &c;
        if (child == nullptr) {
          Node c;
          c.name = std::string(part);
          char word[8] = {};
          std::memcpy(word, part.data(), part.size() < 8 ? part.size() : 8);
          c.head = json::load8(word);
          n->child_lengths |= uint64_t{1} << length_bit(part.size());
          n->children.push_back(std::move(c));
          child = &n->children.back();
        }
        n = child;
        if (dot == std::string_view::npos) break;
        p.remove_prefix(dot + 1);
      }
      if (n->leaf < 0) n->leaf = static_cast<int>(i);
    }
  }

  const char* extract(std::string_view record, size_t padding, Value* values) {
    for (size_t i = 0; i < count_; ++i) values[i] = Value{};
    const char* p = record.data();
    if (padding < kPaddingNeeded) {
      // Copy into our own padded buffer; it only ever grows.
      if (copy_.size() < record.size() + kPaddingNeeded)
        copy_.resize(record.size() + kPaddingNeeded);
      std::memcpy(copy_.data(), record.data(), record.size());
      p = copy_.data();
    }
    const char* end = p + record.size();
    if (scratch_.size() < record.size()) {
      // Unescaped strings are never longer than their JSON text.
      scratch_.resize(record.size());
      strings_.resize(record.size());
      quotes_.resize(record.size() + 8);
      backslashes_.resize(record.size() / 64 + 1);
    }
    strings_end_ = strings_.data();

    json::QuoteIndex index{quotes_.data(), 0, backslashes_.data(), false};
    if (json::index_quotes(p, record.size(), index) && index.count % 2 == 0) {
      const char* err;
      if (!index.has_backslashes) {
        json::IndexedStrings<false> strings{p, quotes_.data(), {}};
        err = document(strings, p, end, values);
      } else {
        json::IndexedStrings<true> strings{p, quotes_.data(), {p, backslashes_.data()}};
        err = document(strings, p, end, values);
      }
      if (err == nullptr) return nullptr;
      // Rejected: the scan below finds the reason, so that it never depends on the path.
      for (size_t i = 0; i < count_; ++i) values[i] = Value{};
      strings_end_ = strings_.data();
    }
    // Control characters or an unpaired quote (or a rejection, for its reason): scan each
    // string.
    json::ScanStrings strings{end};
    return document(strings, p, end, values);
  }

 private:
  template <class Strings>
  const char* document(Strings& strings, const char* p, const char* end, Value* values) {
    skip_ws(p, end);
    if (peek(p, end) != '{') {
      // Either another JSON value or no JSON at all, for the reason.
      const bool json = p < end && json::skip_value(strings, p, end, 0, scratch_.data()) &&
                        (skip_ws(p, end), p == end);
      return json ? "record is not a JSON object" : kInvalidJson;
    }
    ++p;
    if (const char* err = object(strings, p, end, root_, values, 1)) return err;
    skip_ws(p, end);
    return p == end ? nullptr : kInvalidJson;
  }

  // The members of an object (p just past its '{'), taking the children of `node` into
  // values. The whole object is validated, wanted or not.
  //
  // A repeated key: the first occurrence wins. A member whose path is wanted itself and
  // already has a value is skipped as a whole, nested wanted paths included; a member that is
  // only on the way to nested paths is read again, filling what is still missing.
  template <class Strings>
  const char* object(Strings& strings_io, const char*& p_io, const char* end, const Node& node,
                     Value* values, int depth) {
    // Local copies: the per-member code below is all inline, so the cursor and the policy can
    // stay in registers; only calls out of line take (and hand back) copies.
    Strings strings = strings_io;
    const char* p = p_io;
    const char* err = members(strings, p, end, node, values, depth);
    strings_io = strings;
    p_io = p;
    return err;
  }

  template <class Strings>
  FRESHET_JSON_INLINE const char* members(Strings& strings, const char*& p, const char* end,
                                          const Node& node, Value* values, int depth) {
    if (json::next_char(p, end) == '}') {
      ++p;
      return nullptr;
    }
    for (;;) {
      const char *k, *k_end;
      bool escaped = false;
      if (!json::scan_key(strings, p, end, k, k_end, escaped)) return kInvalidJson;
      const Node* match;
      if (!escaped) {
        match = match_raw(node, k, static_cast<size_t>(k_end - k));
      } else {
        const char* u_end = json::unescape(k, k_end, scratch_.data());
        if (u_end == nullptr) return kInvalidJson;
        match =
            match_unescaped(node, {scratch_.data(), static_cast<size_t>(u_end - scratch_.data())});
      }
      if (match != nullptr && match->leaf >= 0 && values[match->leaf].type != ValueType::kMissing)
        match = nullptr;
      if (match == nullptr) {
        if (!json::skip_value(strings, p, end, depth, scratch_.data())) return kInvalidJson;
      } else if (!match->children.empty() && peek(p, end) == '{') {
        if (depth >= json::kMaxDepth) return kInvalidJson;
        Strings s = strings;
        const char* q = p + 1;
        if (const char* err = object(s, q, end, *match, values, depth + 1)) return err;
        strings = s;
        p = q;
        if (match->leaf >= 0) values[match->leaf].type = ValueType::kOther;
      } else if (match->leaf >= 0) {
        if (const char* err = read_value(strings, p, end, values[match->leaf], depth)) return err;
      } else if (!json::skip_value(strings, p, end, depth, scratch_.data())) {
        return kInvalidJson;
      }
      const char c = json::next_char(p, end);
      ++p;
      if (c == '}') return nullptr;
      if (c != ',') return kInvalidJson;
      json::next_char(p, end);
    }
  }

  // Reads a wanted value and moves p past it.
  template <class Strings>
  FRESHET_JSON_INLINE const char* read_value(Strings& strings, const char*& p, const char* end,
                                             Value& out, int depth) {
    switch (peek(p, end)) {
      case '"': {
        const char *b, *e;
        bool escaped = false;
        if (!strings.string(p, b, e, escaped)) return kInvalidJson;
        if (!escaped) {
          out.str = {b, static_cast<size_t>(e - b)};
        } else {
          char* s = strings_end_;
          char* s_end = json::unescape(b, e, s);
          if (s_end == nullptr) return "invalid string";
          strings_end_ = s_end;
          out.str = {s, static_cast<size_t>(s_end - s)};
        }
        out.type = ValueType::kString;
        return nullptr;
      }
      case 't':
        out.type = ValueType::kTrue;
        return json::skip_word(p, end, "true", 4) ? nullptr : kInvalidJson;
      case 'f':
        out.type = ValueType::kFalse;
        return json::skip_word(p, end, "false", 5) ? nullptr : kInvalidJson;
      case 'n':
        out.type = ValueType::kNull;
        return json::skip_word(p, end, "null", 4) ? nullptr : kInvalidJson;
      case '{':
      case '[':
        out.type = ValueType::kOther;
        return json::skip_value(strings, p, end, depth, scratch_.data()) ? nullptr : kInvalidJson;
      case '-':
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9':
        return read_number(p, end, out);
      default:
        return kInvalidJson;
    }
  }

  // A number as parse_json_number reads it, with a fast path for integers of up to 16
  // digits. The token runs to the next delimiter, so "12abc" is an invalid number rather
  // than invalid JSON.
  static FRESHET_JSON_INLINE const char* read_number(const char*& p, const char* end, Value& out) {
    const bool neg = *p == '-';
    const char* digits = p + neg;
    const uint64_t w1 = json::load8(digits);
    int n = json::leading_digits(w1);
    uint64_t m = 0;
    if (n > 0) {
      if (n < 8) {
        m = json::digits_value(w1, n);
      } else {
        const uint64_t w2 = json::load8(digits + 8);
        const int n2 = json::leading_digits(w2);
        m = json::digits_value(w1, 8);
        if (n2 > 0) {
          static constexpr uint64_t kPow10[] = {1,      10,      100,      1000,     10000,
                                                100000, 1000000, 10000000, 100000000};
          m = m * kPow10[n2] + json::digits_value(w2, n2);
        }
        n += n2;
      }
    }
    const char* s = digits + n;
    // Digits read past the end do not count (s > end), nor do 16 digits that may go on.
    if (n > 0 && n < 16 && s <= end && (n == 1 || *digits != '0') &&
        (s == end || json::is_delim(*s))) {
      out.type = ValueType::kDecimal;
      out.dec = {neg ? -static_cast<int64_t>(m) : static_cast<int64_t>(m), 0};
      p = s;
      return nullptr;
    }
    s = p + neg;
    while (s < end && !json::is_delim(*s)) ++s;
    const std::string_view token(p, static_cast<size_t>(s - p));
    p = s;
    switch (parse_json_number(token, out.dec, out.dbl)) {
      case NumberParse::kExact:
        out.type = ValueType::kDecimal;
        return nullptr;
      case NumberParse::kInexact:
        out.type = ValueType::kDouble;
        return nullptr;
      case NumberParse::kInvalid:
        out.type = ValueType::kInvalid;
        return "invalid number";
    }
    return nullptr;
  }

  size_t count_;
  Node root_;
  std::vector<char> copy_;
  std::vector<char> scratch_;          // trial unescapes of keys and skipped strings
  std::vector<char> strings_;          // unescaped wanted strings of the current record
  std::vector<uint32_t> quotes_;       // index_quotes() of the current record
  std::vector<uint64_t> backslashes_;  // its backslash masks
  char* strings_end_ = nullptr;
};

FieldExtractor::FieldExtractor(const std::vector<std::string>& paths)
    : impl_(std::make_unique<Impl>(paths)) {}
FieldExtractor::~FieldExtractor() = default;

const char* FieldExtractor::extract(std::string_view record, size_t padding, Value* values) {
  return impl_->extract(record, padding, values);
}

}  // namespace freshet::query
