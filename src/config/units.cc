#include "freshet/config/units.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <numeric>
#include <optional>

namespace freshet::config {
namespace {

// A decimal number split into its exact parts, so "1.5m" is 90000 ms without rounding.
struct Number {
  uint64_t whole = 0;
  uint64_t frac = 0;        // digits after the point, as an integer
  uint64_t frac_scale = 1;  // 10^(number of fraction digits)
  size_t length = 0;        // characters consumed
};

std::optional<Number> leading_number(std::string_view s) {
  Number n;
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    if (__builtin_mul_overflow(n.whole, 10u, &n.whole) ||
        __builtin_add_overflow(n.whole, static_cast<uint64_t>(s[i] - '0'), &n.whole))
      return std::nullopt;
    ++i;
  }
  if (i == 0) return std::nullopt;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (i - start >= 9) return std::nullopt;  // more precision than any unit needs
      n.frac = n.frac * 10 + static_cast<uint64_t>(s[i] - '0');
      n.frac_scale *= 10;
      ++i;
    }
    if (i == start) return std::nullopt;  // "5." is a typo, not a number
  }
  n.length = i;
  return n;
}

// n * unit, exactly; nullopt on overflow or when the product is not a whole number.
std::optional<uint64_t> scale(const Number& n, uint64_t unit, bool* fractional) {
  uint64_t whole = 0;
  if (__builtin_mul_overflow(n.whole, unit, &whole)) return std::nullopt;
  // frac * unit / frac_scale without overflow: divide both by their gcd first. The result is
  // below `unit` because frac < frac_scale.
  uint64_t g = std::gcd(unit, n.frac_scale);
  uint64_t denominator = n.frac_scale / g;
  if (n.frac % denominator != 0) {
    *fractional = true;
    return std::nullopt;
  }
  uint64_t add = n.frac / denominator * (unit / g);
  if (__builtin_add_overflow(whole, add, &whole)) return std::nullopt;
  return whole;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

struct Unit {
  std::string_view name;
  uint64_t factor;
};

constexpr std::array<Unit, 5> kDurationUnits{
    {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};

// Spellings people write for our units, mapped to ours for the "did you mean" hint.
constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kDurationAliases{
    {{"msec", "ms"},
     {"msecs", "ms"},
     {"millis", "ms"},
     {"sec", "s"},
     {"secs", "s"},
     {"second", "s"},
     {"seconds", "s"},
     {"min", "m"},
     {"mins", "m"},
     {"minute", "m"},
     {"minutes", "m"},
     {"hr", "h"},
     {"hrs", "h"},
     {"hour", "h"},
     {"hours", "h"},
     {"day", "d"},
     {"days", "d"}}};

constexpr std::array<Unit, 9> kSizeUnits{{{"B", 1},
                                          {"KB", 1000ull},
                                          {"MB", 1000ull * 1000},
                                          {"GB", 1000ull * 1000 * 1000},
                                          {"TB", 1000ull * 1000 * 1000 * 1000},
                                          {"KiB", 1ull << 10},
                                          {"MiB", 1ull << 20},
                                          {"GiB", 1ull << 30},
                                          {"TiB", 1ull << 40}}};

std::string suggest(std::string_view number, std::string_view unit) {
  return fmt::format("did you mean \"{}{}\"?", number, unit);
}

}  // namespace

UnitResult<DurationMs> parse_duration(std::string_view text, bool bare_is_ms) {
  std::string_view t = trim(text);
  if (t.empty())
    return tl::unexpected(UnitError{"empty duration", "write a number and a unit, e.g. \"5s\""});
  if (t.front() == '-')
    return tl::unexpected(UnitError{fmt::format("negative duration `{}`", text),
                                    "durations are zero or more, e.g. \"0s\""});
  auto n = leading_number(t);
  if (!n)
    return tl::unexpected(UnitError{fmt::format("`{}` is not a duration", text),
                                    "write a number and a unit: ms, s, m, h or d, e.g. \"5s\""});
  std::string_view num = t.substr(0, n->length);
  std::string_view rest = t.substr(n->length);
  if (rest.empty()) {
    if (bare_is_ms && n->frac_scale == 1 && n->whole <= INT64_MAX)
      return static_cast<DurationMs>(n->whole);
    return tl::unexpected(
        UnitError{fmt::format("duration `{}` has no unit", text), suggest(num, "s")});
  }
  std::string_view unit_text = trim(rest);
  const Unit* unit = nullptr;
  for (const Unit& u : kDurationUnits)
    if (u.name == unit_text) unit = &u;
  if (!unit || unit_text.size() != rest.size()) {
    // Find the unit they meant: "10 s", "5S", "5sec" and "5 minutes" all get a hint.
    std::string l = lower(unit_text);
    std::string_view meant;
    for (const Unit& u : kDurationUnits)
      if (u.name == l) meant = u.name;
    for (auto [alias, ours] : kDurationAliases)
      if (alias == l) meant = ours;
    std::string hint = meant.empty() ? "units are ms, s, m, h and d, e.g. \"250ms\" or \"7d\""
                                     : suggest(num, meant);
    return tl::unexpected(UnitError{fmt::format("`{}` is not a duration", text), hint});
  }
  bool fractional = false;
  auto ms = scale(*n, unit->factor, &fractional);
  if (!ms || *ms > static_cast<uint64_t>(INT64_MAX)) {
    if (fractional)
      return tl::unexpected(
          UnitError{fmt::format("duration `{}` is finer than a millisecond", text),
                    "durations have millisecond resolution"});
    return tl::unexpected(UnitError{fmt::format("duration `{}` is too long", text), ""});
  }
  return static_cast<DurationMs>(*ms);
}

UnitResult<uint64_t> parse_size(std::string_view text, bool bare_is_bytes) {
  std::string_view t = trim(text);
  if (t.empty())
    return tl::unexpected(UnitError{"empty size", "write a number and a unit, e.g. \"128MiB\""});
  if (t.front() == '-')
    return tl::unexpected(UnitError{fmt::format("negative size `{}`", text), ""});
  auto n = leading_number(t);
  if (!n)
    return tl::unexpected(UnitError{fmt::format("`{}` is not a size", text),
                                    "write a number and a unit, e.g. \"128MiB\" or \"10GB\""});
  std::string_view num = t.substr(0, n->length);
  std::string_view rest = t.substr(n->length);
  if (rest.empty()) {
    if (bare_is_bytes && n->frac_scale == 1) return n->whole;
    return tl::unexpected(UnitError{fmt::format("size `{}` has no unit", text), suggest(num, "B")});
  }
  std::string_view unit_text = trim(rest);
  const Unit* unit = nullptr;
  for (const Unit& u : kSizeUnits)
    if (u.name == unit_text) unit = &u;
  if (!unit || unit_text.size() != rest.size()) {
    std::string l = lower(unit_text);
    std::string hint;
    for (const Unit& u : kSizeUnits)
      if (lower(u.name) == l) hint = suggest(num, u.name);
    if (hint.empty() && (l == "k" || l == "m" || l == "g" || l == "t")) {
      char c = static_cast<char>(std::toupper(static_cast<unsigned char>(l[0])));
      hint =
          fmt::format("did you mean \"{}{}iB\" (binary) or \"{}{}B\" (decimal)?", num, c, num, c);
    }
    if (hint.empty()) hint = "units are B, KB, MB, GB, TB (powers of 1000) and KiB, MiB, GiB, TiB";
    return tl::unexpected(UnitError{fmt::format("`{}` is not a size", text), hint});
  }
  bool fractional = false;
  auto bytes = scale(*n, unit->factor, &fractional);
  if (!bytes) {
    if (fractional)
      return tl::unexpected(
          UnitError{fmt::format("size `{}` is not a whole number of bytes", text), ""});
    return tl::unexpected(UnitError{fmt::format("size `{}` is too large", text), ""});
  }
  return *bytes;
}

UnitResult<double> parse_rate(std::string_view text) {
  std::string_view t = trim(text);
  size_t slash = t.find('/');
  std::string_view num = trim(t.substr(0, slash));
  auto n = leading_number(num);
  if (!n || n->length != num.size()) {
    return tl::unexpected(
        UnitError{fmt::format("`{}` is not a rate", text),
                  "write events per unit of time, e.g. \"10000/s\" or \"600/m\""});
  }
  if (slash == std::string_view::npos)
    return tl::unexpected(
        UnitError{fmt::format("rate `{}` has no unit", text), suggest(num, "/s")});
  std::string_view unit_text = t.substr(slash + 1);
  const Unit* unit = nullptr;
  for (const Unit& u : kDurationUnits)
    if (u.name == unit_text && u.name != "d") unit = &u;
  if (!unit || num.size() != slash) {
    std::string l = lower(trim(unit_text));
    std::string_view meant;
    for (const Unit& u : kDurationUnits)
      if (u.name == l && u.name != "d") meant = u.name;
    for (auto [alias, ours] : kDurationAliases)
      if (alias == l && ours != "d") meant = ours;
    std::string hint = meant.empty() ? "units are /ms, /s, /m and /h, e.g. \"10000/s\""
                                     : fmt::format("did you mean \"{}/{}\"?", num, meant);
    return tl::unexpected(UnitError{fmt::format("`{}` is not a rate", text), hint});
  }
  double value = static_cast<double>(n->whole) +
                 static_cast<double>(n->frac) / static_cast<double>(n->frac_scale);
  if (value <= 0)
    return tl::unexpected(
        UnitError{fmt::format("rate `{}` is not positive", text), "a rate must be more than 0"});
  return value * 1000.0 / static_cast<double>(unit->factor);
}

}  // namespace freshet::config
