#pragma once
// Random queries and event streams for the randomized query tests (differential_test.cc,
// snapshot_test.cc): every window type, with or without a group key, WHERE, HAVING and
// allowed lateness, over every aggregate kind; events with disorder, null keys and values.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "freshet/base/ids.h"

namespace freshet::query::test {

struct Event {
  TimestampMs ts;
  int key;                       // -1: null
  std::optional<int64_t> cents;  // x in hundredths; nullopt: null
  std::string json;
};

enum class Win { kTumble, kHop, kCumulate, kSession };

struct Query {
  Win win;
  DurationMs a = 0, b = 0;  // tumble size | hop slide,size | cumulate step,max | session gap
  bool grouped = true;
  int where = 0;  // 0 none, 1: x > 0, 2: x IS NOT NULL OR k = 1
  bool having = false;
  DurationMs lateness = 0;
  std::string sql;
};

// Every aggregate kind, as SELECT items (columns n, nx, s, lo, hi, av, d, f, l, hd, p50).
extern const char* const kAggSql;

Query random_query(std::mt19937_64& rng);
std::vector<Event> random_stream(std::mt19937_64& rng, size_t n);
// Cuts the stream into chunks with a global watermark after each (max ts so far - a random
// delay - 1, never decreasing); the last chunk ends the stream at watermark kMaxTimestamp.
void random_chunks(std::mt19937_64& rng, const std::vector<Event>& evs,
                   std::vector<size_t>& chunk_ends, std::vector<TimestampMs>& wms);

}  // namespace freshet::query::test
