// FieldExtractor (projection pushdown) and the scanner under it: the values it reads, the
// records it rejects and why, and a randomized comparison with simdjson's DOM parser on valid
// and broken documents, through both the quote-index path and the string-scanning path.

#include <doctest/doctest.h>
#include <simdjson.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "json_extract.h"
#include "json_scan.h"

using namespace freshet::query;

namespace {

// A record in a buffer with `padding` bytes of `fill` after it (as the log would have other
// records there), extracted with the given padding.
struct Extracted {
  const char* err = nullptr;
  std::vector<Value> values;
  std::string buffer;  // with `extractor`, keeps the views alive
  std::unique_ptr<FieldExtractor> extractor;
};

Extracted extract_with(FieldExtractor& ex, size_t n_paths, const std::string& record,
                       size_t padding, char fill = '}') {
  Extracted r;
  r.buffer = record + std::string(padding, fill);
  r.values.resize(n_paths);
  r.err = ex.extract(std::string_view(r.buffer.data(), record.size()), padding, r.values.data());
  return r;
}

Extracted extract(const std::vector<std::string>& paths, const std::string& record,
                  size_t padding = 64) {
  auto ex = std::make_unique<FieldExtractor>(paths);
  Extracted r = extract_with(*ex, paths.size(), record, padding);
  r.extractor = std::move(ex);
  return r;
}

std::string reason(const std::vector<std::string>& paths, const std::string& record) {
  const Extracted a = extract(paths, record, 64);
  const Extracted b = extract(paths, record, 0);
  CHECK(std::string(a.err ? a.err : "ok") == std::string(b.err ? b.err : "ok"));
  return a.err ? a.err : "ok";
}

bool is_decimal(const Value& v, int64_t m, int scale = 0) {
  return v.type == ValueType::kDecimal && v.dec.mantissa == m && v.dec.scale == scale;
}

}  // namespace

TEST_CASE("wanted fields of a flat record come out typed, in path order") {
  auto r = extract({"dateTime", "type", "n", "t", "f", "z", "o", "a", "x", "d"},
                   R"({"type":"bid","n":-12.50,"t":true,"f":false,"z":null,"o":{"k":1},)"
                   R"("a":[1,"]"],"dateTime":1764064800000,"d":1.5e3})");
  REQUIRE(r.err == nullptr);
  CHECK(is_decimal(r.values[0], 1764064800000));
  CHECK(r.values[1].type == ValueType::kString);
  CHECK(r.values[1].str == "bid");
  CHECK(is_decimal(r.values[2], -125, 1));
  CHECK(r.values[3].type == ValueType::kTrue);
  CHECK(r.values[4].type == ValueType::kFalse);
  CHECK(r.values[5].type == ValueType::kNull);
  CHECK(r.values[6].type == ValueType::kOther);
  CHECK(r.values[7].type == ValueType::kOther);
  CHECK(r.values[8].type == ValueType::kMissing);
  CHECK(r.values[9].type == ValueType::kDouble);
  CHECK(r.values[9].dbl == 1500.0);
}

TEST_CASE("integers take the fast path up to 15 digits and parse_json_number beyond") {
  for (std::string digits :
       {"0", "7", "12345678", "123456789", "999999999999999", "1000000000000000",
        "123456789012345678", "9223372036854775807", "9223372036854775808", "-0", "-42"}) {
    CAPTURE(digits);
    auto r = extract({"n"}, R"({"n":)" + digits + "}");
    REQUIRE(r.err == nullptr);
    Decimal d;
    double x;
    NumberParse want = parse_json_number(digits, d, x);
    if (want == NumberParse::kExact) {
      CHECK(is_decimal(r.values[0], d.mantissa, d.scale));
    } else {
      CHECK(r.values[0].type == ValueType::kDouble);
      CHECK(r.values[0].dbl == x);
    }
  }
}

TEST_CASE("whitespace is allowed between every token") {
  auto r = extract({"a", "b"}, " \t{ \"a\" :\n\"x\" ,\r\n\"b\"\t: [ 1 , { } ] } \n");
  REQUIRE(r.err == nullptr);
  CHECK(r.values[0].str == "x");
  CHECK(r.values[1].type == ValueType::kOther);
}

TEST_CASE("a repeated key: the first occurrence wins, null included") {
  auto r = extract({"a", "b"}, R"({"a":1,"b":null,"a":2,"b":3})");
  REQUIRE(r.err == nullptr);
  CHECK(is_decimal(r.values[0], 1));
  CHECK(r.values[1].type == ValueType::kNull);
}

TEST_CASE("keys compare after unescaping; values are unescaped") {
  auto r = extract({"type", "a\"b", "s"},
                   R"({"t\u0079pe":"bid","a\"b":1,"s":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"})");
  REQUIRE(r.err == nullptr);
  CHECK(r.values[0].str == "bid");
  CHECK(is_decimal(r.values[1], 1));
  CHECK(r.values[2].str == "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
}

TEST_CASE("nested paths read through objects; a wanted parent comes out as kOther") {
  auto r = extract({"geo.lat", "geo.lon", "geo", "x.y.z"},
                   R"({"geo":{"lat":1.5,"lon":{"deg":2}},"x":{"y":{"z":"deep"}}})");
  REQUIRE(r.err == nullptr);
  CHECK(is_decimal(r.values[0], 15, 1));
  CHECK(r.values[1].type == ValueType::kOther);
  CHECK(r.values[2].type == ValueType::kOther);
  CHECK(r.values[3].str == "deep");
  // A parent repeated: nested paths fill from later objects what the first one lacked, and a
  // parent that is not an object gives nothing below it.
  auto d = extract({"g.a", "g.b", "h.a"}, R"({"g":{"a":1},"h":5,"g":{"a":2,"b":3},"h":{"a":4}})");
  REQUIRE(d.err == nullptr);
  CHECK(is_decimal(d.values[0], 1));
  CHECK(is_decimal(d.values[1], 3));
  CHECK(is_decimal(d.values[2], 4));
}

TEST_CASE("damage after the last wanted field rejects the record") {
  // Regression: the On-Demand walk stopped at the last wanted field and let these through.
  CHECK(reason({"a"}, R"({"a":1,"b":})") == "invalid JSON");
  CHECK(reason({"a"}, R"({"a":1,"b":01})") == "invalid JSON");
  CHECK(reason({"a"}, R"({"a":1,"b":"\x"})") == "invalid JSON");
  CHECK(reason({"a"}, R"({"a":1,"b":[1,2})") == "invalid JSON");
  CHECK(reason({"a"}, R"({"a":1} x)") == "invalid JSON");
  CHECK(reason({"a"}, R"({"a":1}})") == "invalid JSON");
  CHECK(reason({"a"}, "{\"a\":1,\"b\":\"\xff\"}") == "invalid JSON");
  CHECK(reason({"a"}, "{\"a\":1,\"b\":\"tab\there\"}") == "invalid JSON");
  CHECK(reason({"a"}, R"({"a":1,"b":"\ud800"})") == "invalid JSON");
  CHECK(reason({"a"}, R"({"a":1,"b":tru})") == "invalid JSON");
}

TEST_CASE("reasons: not an object, invalid number, invalid string") {
  CHECK(reason({"a"}, "") == "invalid JSON");
  CHECK(reason({"a"}, "   ") == "invalid JSON");
  CHECK(reason({"a"}, "not json") == "invalid JSON");
  CHECK(reason({"a"}, "[1,2]") == "record is not a JSON object");
  CHECK(reason({"a"}, " \"s\" ") == "record is not a JSON object");
  CHECK(reason({"a"}, "-5") == "record is not a JSON object");
  CHECK(reason({"a"}, "null") == "record is not a JSON object");
  CHECK(reason({"a"}, "[1,2") == "invalid JSON");
  CHECK(reason({"a"}, R"({"a":01})") == "invalid number");
  CHECK(reason({"a"}, R"({"a":-})") == "invalid number");
  CHECK(reason({"a"}, R"({"a":12abc})") == "invalid number");
  CHECK(reason({"a"}, R"({"a":1.})") == "invalid number");
  CHECK(reason({"a"}, R"({"a":"\x"})") == "invalid string");
  CHECK(reason({"a"}, R"({"a":"\udc00"})") == "invalid string");
  CHECK(reason({"a"}, R"({"a":"\u12"})") == "invalid string");
  CHECK(reason({"a"}, R"({"a":tru})") == "invalid JSON");
  CHECK(reason({"a"}, R"({"a" 1})") == "invalid JSON");
  CHECK(reason({"a"}, R"({"a":1,})") == "invalid JSON");
  CHECK(reason({"a"}, R"({,"a":1})") == "invalid JSON");
  CHECK(reason({"a"}, R"({"a":1 "b":2})") == "invalid JSON");
  CHECK(reason({"a"}, R"({'a':1})") == "invalid JSON");
  // The first error in document order decides.
  CHECK(reason({"a"}, R"({"a":01,"b":})") == "invalid number");
  CHECK(reason({"a"}, R"({"b":,"a":01})") == "invalid JSON");
}

TEST_CASE("what follows a record never changes its verdict") {
  // Every prefix of a valid record is invalid, whatever the bytes after it are; the buffer
  // holds the rest of the record, then padding that would close anything still open.
  const std::string full =
      R"({"type":"bid","s":"a\"b\\","u":"\u00e9x","n":-1.5e3,"o":{"k":[true,null]},"d":123})";
  FieldExtractor ex({"type", "s", "u", "n", "o.k", "d"});
  for (size_t padding : {size_t{64}, size_t{0}}) {
    for (size_t len = 0; len < full.size(); ++len) {
      CAPTURE(len);
      std::string buffer = full + std::string(80, '}');
      std::vector<Value> v(6);
      CHECK(ex.extract(std::string_view(buffer.data(), len), padding, v.data()) != nullptr);
    }
    std::string buffer = full + std::string(80, '}');
    std::vector<Value> v(6);
    CHECK(ex.extract(std::string_view(buffer.data(), full.size()), padding, v.data()) == nullptr);
  }
}

TEST_CASE("nesting deeper than 1024 containers is rejected without recursion") {
  auto nested = [](int depth) {
    return R"({"a":1,"x":)" + std::string(static_cast<size_t>(depth - 1), '[') +
           std::string(static_cast<size_t>(depth - 1), ']') + "}";
  };
  CHECK(reason({"a"}, nested(1024)) == "ok");
  CHECK(reason({"a"}, nested(1025)) == "invalid JSON");
  CHECK(reason({"a"}, R"({"a":1,"x":)" + std::string(200000, '[')) == "invalid JSON");
  simdjson::dom::parser dom;
  CHECK(dom.parse(simdjson::padded_string(nested(1024))).error() == simdjson::SUCCESS);
  CHECK(dom.parse(simdjson::padded_string(nested(1025))).error() != simdjson::SUCCESS);
}

TEST_CASE("the quote index leaves escaped quotes out and agrees with its portable version") {
  std::mt19937 rng(7);
  const std::string alphabet = "\"\"\\\\\\ab{}:, \t\x01\x7f\x80\xc3\xa9";
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text(rng() % 300, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    if (rng() % 2) {
      for (char& c : text)
        if (static_cast<uint8_t>(c) < 0x20 || static_cast<uint8_t>(c) >= 0x7f) c = 'x';
    }
    const size_t n = text.size();
    text.append(64, '"');  // quotes past the end must not be indexed
    std::vector<uint32_t> a(n + 8), b(n + 8);
    std::vector<uint64_t> bs_masks_a(n / 64 + 1), bs_masks_b(n / 64 + 1);
    json::QuoteIndex ia{a.data(), 0, bs_masks_a.data(), false};
    json::QuoteIndex ib{b.data(), 0, bs_masks_b.data(), false};
    const bool ok_a = json::index_quotes(text.data(), n, ia);
    const bool ok_b = json::index_quotes_portable(text.data(), n, ib);
    CAPTURE(iter);
    CAPTURE(text.substr(0, n));
    // The reference: a backslash escapes the next character, whatever it is.
    std::vector<uint32_t> want;
    bool escaped = false, controls = false, backslashes = false;
    for (size_t i = 0; i < n; ++i) {
      const auto c = static_cast<uint8_t>(text[i]);
      controls |= c < 0x20;
      backslashes |= c == '\\';
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        want.push_back(static_cast<uint32_t>(i));
      }
    }
    bool utf8 = true;
    for (size_t i = 0; i < n;) {
      if (static_cast<uint8_t>(text[i]) < 0x80) {
        ++i;
        continue;
      }
      const int len = json::utf8_length(text.data() + i);
      if (len == 0 || i + static_cast<size_t>(len) > n) {
        utf8 = false;
        break;
      }
      i += static_cast<size_t>(len);
    }
    REQUIRE(ok_a == (!controls && utf8));
    REQUIRE(ok_b == ok_a);
    if (!ok_a) continue;
    CHECK(ia.has_backslashes == backslashes);
    CHECK(ib.has_backslashes == backslashes);
    a.resize(ia.count);
    b.resize(ib.count);
    CHECK(a == want);
    CHECK(b == want);
    if (!backslashes) continue;
    // Backslashes in every range, from the masks.
    for (int r = 0; r < 20; ++r) {
      size_t lo = rng() % (n + 1), hi = rng() % (n + 1);
      if (lo > hi) std::swap(lo, hi);
      const bool any = text.substr(lo, hi - lo).find('\\') != std::string::npos;
      CHECK(json::IndexedBackslashes{text.data(), bs_masks_a.data()}.any(text.data() + lo,
                                                                         text.data() + hi) == any);
    }
  }
}
