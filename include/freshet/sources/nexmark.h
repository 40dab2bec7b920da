#pragma once
// A deterministic Nexmark event generator (the model of performance.md §1.2: the Beam/Flink
// generator's proportions, id arithmetic, hot keys and sizes), written from the documented
// model, not from their code. Event n is a pure function of (seed, n): each event draws from
// its own SplitMix64 stream, so any slice of the stream can be generated independently and
// the output is byte-identical across runs and machines.
//
// One flat JSON object per event, with Flink's field names and a `type` tag:
//   {"type":"person","id":1000,"name":"...","emailAddress":"...","creditCard":"...",
//    "city":"...","state":"OR","dateTime":1764064800000,"extra":"..."}
//   {"type":"auction","id":1000,"itemName":"...","description":"...","initialBid":123,
//    "reserve":456,"dateTime":...,"expires":...,"seller":1000,"category":10,"extra":"..."}
//   {"type":"bid","auction":1000,"bidder":1001,"price":4711,"channel":"Google",
//    "url":"https://...","dateTime":...,"extra":"..."}
// Deviations from the reference generators, on purpose: the bidder id is FIRST_PERSON_ID +
// base id once (Flink adds it twice); strings use lower-case letters only (Beam's can go below
// 'a'); the PRNG is SplitMix64, not java.util.Random.
//
// Event time: dateTime(n) = base_time + floor(n * 1000 / density) ms. The density (events
// per second of event time) decides how many windows a run spans; state it with every result.

#include <cstdint>
#include <string>

#include "freshet/base/ids.h"

namespace freshet::sources {

struct NexmarkOptions {
  uint64_t seed = 1;
  double density = 100000;                    // events per second of event time
  TimestampMs base_time = 1'764'064'800'000;  // 2025-11-25T10:00:00Z
};

class NexmarkGenerator {
 public:
  explicit NexmarkGenerator(NexmarkOptions options) : o_(options) {}

  enum class Kind { kPerson, kAuction, kBid };
  static Kind kind_of(uint64_t n);
  TimestampMs date_time(uint64_t n) const;
  // Writes event n as one JSON object (no newline) into `out`, which is cleared first.
  void event(uint64_t n, std::string& out) const;

 private:
  NexmarkOptions o_;
};

}  // namespace freshet::sources
