#pragma once
// The `payments` generator profile: card payments with a few hot cards, for demos, tests and
// benches. Event n is a pure function of (seed, n), so any shard can produce any slice of the
// stream and the whole stream is the same for a given seed whatever the shard count.
//
//   {"card_id":"c-0042","merchant":"m-017","amount":12.50,"country":"DE","ts":1764064800000}
//
// card_id: 30% of events go to 10 hot cards (c-0000..c-0009), the rest spread over 10 000.
// amount: two decimals, log-uniform in [1, 2000), 3% negative (refunds).
// ts: start_time + n·1000/rate ms, minus a uniform delay in [0, out_of_order]: bounded
//     out-of-order arrival, so a watermark delay >= out_of_order loses nothing.

#include <cstdint>
#include <string>
#include <string_view>

#include "freshet/base/ids.h"

namespace freshet::sources {

struct PaymentsOptions {
  uint64_t seed = 1;
  double rate_per_sec = 1000;
  TimestampMs start_time = 0;
  DurationMs out_of_order = 2000;
};

class PaymentsProfile {
 public:
  explicit PaymentsProfile(PaymentsOptions options) : o_(options) {}

  // The fields a topic may be keyed by.
  static bool has_field(std::string_view field);

  // Writes event n's JSON into `json` (cleared first) and returns its event time. `key_field`
  // names the field whose value is copied into `key` (empty: no key).
  TimestampMs event(uint64_t n, std::string_view key_field, std::string& json,
                    std::string& key) const;
  // Whether key_of() is cheaper than event() for this key field (card_id and no key are: the
  // card is the first draw; other fields need the whole event).
  static bool cheap_key(std::string_view key_field) {
    return key_field.empty() || key_field == "card_id";
  }
  // Only the key of event n, to decide its partition before generating the rest.
  void key_of(uint64_t n, std::string_view key_field, std::string& key) const;

 private:
  PaymentsOptions o_;
};

}  // namespace freshet::sources
