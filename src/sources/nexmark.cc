#include "freshet/sources/nexmark.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

namespace freshet::sources {
namespace {

// The model's constants (performance.md §1.2).
constexpr uint64_t kPersonProportion = 1, kAuctionProportion = 3, kTotalProportion = 50;
constexpr int64_t kFirstPersonId = 1000, kFirstAuctionId = 1000, kFirstCategoryId = 10;
constexpr int64_t kCategories = 5;
constexpr int64_t kInFlightAuctions = 100, kAuctionIdLead = 10;
constexpr int64_t kActivePeople = 1000, kPersonIdLead = 10;
constexpr int kHotAuctionRatio = 2, kHotSellersRatio = 4, kHotBiddersRatio = 4;
constexpr int kAvgPersonBytes = 200, kAvgAuctionBytes = 500, kAvgBidBytes = 100;

constexpr std::array<std::string_view, 11> kFirstNames = {
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
constexpr std::array<std::string_view, 9> kLastNames = {
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};
constexpr std::array<std::string_view, 6> kStates = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr std::array<std::string_view, 10> kCities = {
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
    "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr std::array<std::string_view, 4> kHotChannels = {"Google", "Facebook", "Baidu", "Apple"};
constexpr std::array<std::string_view, 4> kHotUrls = {
    "https://www.nexmark.com/googl/item.htm?query=1",
    "https://www.nexmark.com/faceb/item.htm?query=1",
    "https://www.nexmark.com/baidu/item.htm?query=1",
    "https://www.nexmark.com/apple/item.htm?query=1"};

struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
};

Rng stream(uint64_t seed, uint64_t n) {
  Rng r{seed * 0xd1b54a32d192ed03ull ^ (n + 7) * 0x9e3779b97f4a7c15ull};
  r.next();
  return r;
}

// Ids come from the event number alone, so every slice of the stream agrees on them.
int64_t last_base0_person_id(uint64_t n) {
  const uint64_t epoch = n / kTotalProportion;
  uint64_t offset = n % kTotalProportion;
  if (offset >= kPersonProportion) offset = kPersonProportion - 1;
  return static_cast<int64_t>(epoch * kPersonProportion + offset);
}

int64_t last_base0_auction_id(uint64_t n) {
  int64_t epoch = static_cast<int64_t>(n / kTotalProportion);
  int64_t offset = static_cast<int64_t>(n % kTotalProportion);
  if (offset < static_cast<int64_t>(kPersonProportion)) {
    --epoch;  // no auction yet in this epoch: the last one is the previous epoch's
    offset = kAuctionProportion - 1;
  } else if (offset >= static_cast<int64_t>(kPersonProportion + kAuctionProportion)) {
    offset = kAuctionProportion - 1;
  } else {
    offset -= kPersonProportion;
  }
  return std::max<int64_t>(0, epoch * static_cast<int64_t>(kAuctionProportion) + offset);
}

int64_t next_base0_person_id(Rng& r, uint64_t n) {
  const int64_t people = last_base0_person_id(n) + 1;
  const int64_t active = std::min(people, kActivePeople);
  return people - active + r.below(active + kPersonIdLead);
}

int64_t next_base0_auction_id(Rng& r, uint64_t n) {
  const int64_t max_auction = last_base0_auction_id(n);
  const int64_t min_auction = std::max<int64_t>(max_auction - kInFlightAuctions, 0);
  return min_auction + r.below(max_auction - min_auction + 1 + kAuctionIdLead);
}

int64_t next_price(Rng& r) {
  return static_cast<int64_t>(std::llround(std::pow(10.0, r.uniform() * 6.0) * 100.0));
}

void letters(Rng& r, std::string& out, int len) {
  for (int i = 0; i < len; ++i) out.push_back(static_cast<char>('a' + r.below(26)));
}

// Pads the event to its type's average size ±20%, each number counting as 8 bytes as in the
// reference generators' "idealized" sizes.
void extra(Rng& r, std::string& out, int avg, int current) {
  const int target = static_cast<int>(avg * (0.8 + 0.4 * r.uniform()));
  out += ",\"extra\":\"";
  letters(r, out, std::max(0, target - current));
  out += "\"}";
}

}  // namespace

NexmarkGenerator::Kind NexmarkGenerator::kind_of(uint64_t n) {
  const uint64_t offset = n % kTotalProportion;
  if (offset < kPersonProportion) return Kind::kPerson;
  if (offset < kPersonProportion + kAuctionProportion) return Kind::kAuction;
  return Kind::kBid;
}

TimestampMs NexmarkGenerator::date_time(uint64_t n) const {
  return o_.base_time +
         static_cast<int64_t>(std::floor(static_cast<double>(n) * 1000.0 / o_.density));
}

void NexmarkGenerator::event(uint64_t n, std::string& out) const {
  out.clear();
  Rng r = stream(o_.seed, n);
  const TimestampMs ts = date_time(n);
  auto it = std::back_inserter(out);
  switch (kind_of(n)) {
    case Kind::kPerson: {
      const int64_t id = kFirstPersonId + last_base0_person_id(n);
      const auto first = kFirstNames[static_cast<size_t>(r.below(kFirstNames.size()))];
      const auto last = kLastNames[static_cast<size_t>(r.below(kLastNames.size()))];
      fmt::format_to(it, R"({{"type":"person","id":{},"name":"{} {}","emailAddress":")", id, first,
                     last);
      letters(r, out, 3 + static_cast<int>(r.below(5)));
      out += '@';
      letters(r, out, 3 + static_cast<int>(r.below(3)));
      fmt::format_to(
          it,
          R"(.com","creditCard":"{:04} {:04} {:04} {:04}","city":"{}","state":"{}","dateTime":{})",
          r.below(10000), r.below(10000), r.below(10000), r.below(10000),
          kCities[static_cast<size_t>(r.below(kCities.size()))],
          kStates[static_cast<size_t>(r.below(kStates.size()))], ts);
      extra(r, out, kAvgPersonBytes, 8 * 2 + 40);
      break;
    }
    case Kind::kAuction: {
      const int64_t id = kFirstAuctionId + last_base0_auction_id(n);
      const int64_t seller =
          kFirstPersonId + (r.below(kHotSellersRatio) > 0 ? last_base0_person_id(n) / 100 * 100
                                                          : next_base0_person_id(r, n));
      const int64_t initial = next_price(r);
      const int64_t reserve = initial + next_price(r);
      // Auctions last about as long as it takes to create the next 100 of them.
      const double horizon_ms = 100.0 * kTotalProportion / kAuctionProportion * 1000.0 / o_.density;
      const auto expires = ts + 1 + static_cast<int64_t>(r.uniform() * 2.0 * horizon_ms);
      out += R"({"type":"auction","id":)";
      fmt::format_to(it, "{}", id);
      out += R"(,"itemName":")";
      letters(r, out, 5 + static_cast<int>(r.below(16)));
      out += R"(","description":")";
      letters(r, out, 20 + static_cast<int>(r.below(81)));
      fmt::format_to(
          it,
          R"(","initialBid":{},"reserve":{},"dateTime":{},"expires":{},"seller":{},"category":{})",
          initial, reserve, ts, expires, seller, kFirstCategoryId + r.below(kCategories));
      extra(r, out, kAvgAuctionBytes, 8 * 7 + 60);
      break;
    }
    case Kind::kBid: {
      const int64_t auction =
          kFirstAuctionId + (r.below(kHotAuctionRatio) > 0 ? last_base0_auction_id(n) / 100 * 100
                                                           : next_base0_auction_id(r, n));
      const int64_t bidder =
          kFirstPersonId + (r.below(kHotBiddersRatio) > 0 ? last_base0_person_id(n) / 100 * 100 + 1
                                                          : next_base0_person_id(r, n));
      const int64_t price = next_price(r);
      fmt::format_to(it, R"({{"type":"bid","auction":{},"bidder":{},"price":{},"channel":")",
                     auction, bidder, price);
      if (r.below(2) == 0) {
        const auto c = static_cast<size_t>(r.below(kHotChannels.size()));
        fmt::format_to(it, R"({}","url":"{})", kHotChannels[c], kHotUrls[c]);
      } else {
        const auto ch = static_cast<uint32_t>(r.below(10000));
        fmt::format_to(it, R"(channel-{}","url":"https://www.nexmark.com/)", ch);
        letters(r, out, 5);
        out += '/';
        letters(r, out, 5);
        out += "/item.htm?query=1";
        if (r.below(10) > 0) {
          // Flink's extension: abs(Integer.reverse(i)) as the channel id in 90% of urls.
          uint32_t x = ch, rev = 0;
          for (int b = 0; b < 32; ++b, x >>= 1) rev = (rev << 1) | (x & 1);
          fmt::format_to(it, "&channel_id={}",
                         std::abs(static_cast<int64_t>(static_cast<int32_t>(rev))));
        }
      }
      fmt::format_to(it, R"(","dateTime":{})", ts);
      extra(r, out, kAvgBidBytes, 8 * 4 + 20);
      break;
    }
  }
}

}  // namespace freshet::sources
