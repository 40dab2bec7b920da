#include "freshet/sources/payments_profile.h"

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace freshet::sources {
namespace {

// SplitMix64: a tiny, fully specified generator; each event gets its own stream seeded by
// (seed, n), which is what makes slices independent of each other.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  uint64_t below(uint64_t n) { return next() % n; }
};

Rng stream(uint64_t seed, uint64_t n) {
  Rng r{seed * 0xd1b54a32d192ed03ull ^ (n + 1) * 0x9e3779b97f4a7c15ull};
  r.next();
  return r;
}

constexpr std::array<std::string_view, 12> kCountries = {"DE", "FR", "US", "GB", "NL", "ES",
                                                         "IT", "PL", "SE", "BR", "IN", "JP"};
constexpr uint64_t kCards = 10000;
constexpr uint64_t kHotCards = 10;
constexpr uint64_t kMerchants = 200;

// The draws happen in a fixed order: card first, so key_of() needs only one draw.
uint64_t draw_card(Rng& r) { return r.uniform() < 0.3 ? r.below(kHotCards) : r.below(kCards); }

void format_card(uint64_t card, std::string& out) {
  fmt::format_to(std::back_inserter(out), "c-{:04}", card);
}

}  // namespace

bool PaymentsProfile::has_field(std::string_view f) {
  return f == "card_id" || f == "merchant" || f == "country";
}

void PaymentsProfile::key_of(uint64_t n, std::string_view key_field, std::string& key) const {
  key.clear();
  if (key_field.empty()) return;
  if (key_field == "card_id") {
    Rng r = stream(o_.seed, n);
    format_card(draw_card(r), key);
    return;
  }
  std::string json;
  event(n, key_field, json, key);
}

TimestampMs PaymentsProfile::event(uint64_t n, std::string_view key_field, std::string& json,
                                   std::string& key) const {
  Rng r = stream(o_.seed, n);
  const uint64_t card = draw_card(r);
  const uint64_t merchant = r.below(kMerchants);
  // Log-uniform cents in [100, 200000): many small payments, a few large ones.
  auto cents = static_cast<int64_t>(std::floor(100.0 * std::pow(2000.0, r.uniform())));
  if (r.uniform() < 0.03) cents = -cents;
  const std::string_view country = kCountries[r.below(kCountries.size())];
  const auto delay = o_.out_of_order > 0
                         ? static_cast<int64_t>(r.below(static_cast<uint64_t>(o_.out_of_order) + 1))
                         : 0;
  const auto ts =
      o_.start_time +
      static_cast<int64_t>(std::floor(static_cast<double>(n) * 1000.0 / o_.rate_per_sec)) - delay;
  json.clear();
  auto out = std::back_inserter(json);
  const int64_t abs_cents = cents < 0 ? -cents : cents;
  fmt::format_to(
      out,
      R"({{"card_id":"c-{:04}","merchant":"m-{:03}","amount":{}{}.{:02},"country":"{}","ts":{}}})",
      card, merchant, cents < 0 ? "-" : "", abs_cents / 100, abs_cents % 100, country, ts);
  key.clear();
  if (key_field == "card_id")
    format_card(card, key);
  else if (key_field == "merchant")
    fmt::format_to(std::back_inserter(key), "m-{:03}", merchant);
  else if (key_field == "country")
    key.assign(country);
  return ts;
}

}  // namespace freshet::sources
