// append_json_string: the escaping every JSON output row goes through, checked byte by byte
// against the rule it implements, across the 16-byte steps of its fast scan.

#include "freshet/base/json.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <random>
#include <string>

using namespace freshet;

namespace {

// RFC 8259: '"', '\\' and the control characters must be escaped (the short forms where
// there is one, else \u00XX); everything else, UTF-8 bytes included, stands for itself.
std::string reference(std::string_view s) {
  static const std::map<unsigned char, std::string> kShort = {
      {'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\r', "\\r"},
      {'\t', "\\t"}, {'\b', "\\b"},  {'\f', "\\f"}};
  std::string out = "\"";
  for (unsigned char c : s) {
    if (auto it = kShort.find(c); it != kShort.end()) {
      out += it->second;
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

std::string escaped(std::string_view s) {
  std::string out = "x";  // appends, keeping what is there
  append_json_string(out, s);
  return out.substr(1);
}

}  // namespace

TEST_CASE("JSON string escaping: the characters that must be escaped, and no others") {
  CHECK(escaped("") == "\"\"");
  CHECK(escaped("plain text") == "\"plain text\"");
  CHECK(escaped("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(escaped(std::string_view("\0\x1f\x7f", 3)) == "\"\\u0000\\u001f\x7f\"");
  CHECK(escaped("tab\there\nnew") == "\"tab\\there\\nnew\"");
  CHECK(escaped("caf\xc3\xa9 \xe2\x82\xac") == "\"caf\xc3\xa9 \xe2\x82\xac\"");
}

TEST_CASE("JSON string escaping agrees with the rule at every position of long strings") {
  std::mt19937 rng(5);
  const std::string specials = std::string("\"\\\n\r\t\b\f\x01\x1f\x7f\x80\xff", 12) + '\0';
  for (int round = 0; round < 3000; ++round) {
    std::string s(rng() % 80, 'a');
    for (char& c : s) c = static_cast<char>('a' + rng() % 26);
    // A few specials, anywhere: before, inside and after whole 16-byte blocks.
    for (int k = static_cast<int>(rng() % 4); k > 0 && !s.empty(); --k)
      s[rng() % s.size()] = specials[rng() % specials.size()];
    CHECK(escaped(s) == reference(s));
  }
}
