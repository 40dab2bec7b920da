#pragma once
// Lets doctest print the vectors the query tests compare.

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
  static String convert(const std::vector<std::string>& v) {
    std::string s = "[";
    for (const auto& x : v) s += "\n  " + x;
    return (s + "\n]").c_str();
  }
};
template <>
struct StringMaker<std::vector<std::pair<size_t, std::string>>> {
  static String convert(const std::vector<std::pair<size_t, std::string>>& v) {
    std::string s = "[";
    for (const auto& x : v) s += " (" + std::to_string(x.first) + ", " + x.second + ")";
    return (s + " ]").c_str();
  }
};
}  // namespace doctest
