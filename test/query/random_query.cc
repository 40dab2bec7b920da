#include "random_query.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

namespace freshet::query::test {

const char* const kAggSql =
    "COUNT(*) AS n, COUNT(x) AS nx, SUM(x) AS s, MIN(x) AS lo, MAX(x) AS hi, AVG(x) AS av, "
    "COUNT(DISTINCT x) AS d, FIRST_VALUE(x) AS f, LAST_VALUE(x) AS l, "
    "APPROX_COUNT_DISTINCT(x) AS hd, APPROX_PERCENTILE(x, 0.5) AS p50";

Query random_query(std::mt19937_64& rng) {
  Query q;
  q.win = static_cast<Win>(rng() % 4);
  std::string from;
  switch (q.win) {
    case Win::kTumble:
      q.a = 50 + 50 * static_cast<DurationMs>(rng() % 3);
      from = fmt::format("TUMBLE(events, ts, INTERVAL '{}' MILLISECOND)", q.a);
      break;
    case Win::kHop:
      q.a = 20 + 10 * static_cast<DurationMs>(rng() % 3);
      q.b = q.a * static_cast<DurationMs>(1 + rng() % 4);
      from = fmt::format("HOP(events, ts, INTERVAL '{}' MILLISECOND, INTERVAL '{}' MILLISECOND)",
                         q.a, q.b);
      break;
    case Win::kCumulate:
      q.a = 25;
      q.b = 25 * static_cast<DurationMs>(1 + rng() % 4);
      from = fmt::format(
          "CUMULATE(events, ts, INTERVAL '{}' MILLISECOND, INTERVAL '{}' MILLISECOND)", q.a, q.b);
      break;
    case Win::kSession:
      q.a = 5 + static_cast<DurationMs>(rng() % 30);
      from = fmt::format("SESSION(events, ts, INTERVAL '{}' MILLISECOND)", q.a);
      break;
  }
  q.grouped = rng() % 4 != 0;
  q.where = static_cast<int>(rng() % 3);
  q.having = rng() % 3 == 0;
  q.lateness = rng() % 2 == 0 ? 0 : 20 + static_cast<DurationMs>(rng() % 60);
  q.sql = fmt::format("SELECT {}window_start, window_end, {} FROM {}", q.grouped ? "k, " : "",
                      kAggSql, from);
  if (q.where == 1) q.sql += " WHERE x > 0";
  if (q.where == 2) q.sql += " WHERE x IS NOT NULL OR k = 1";
  q.sql += fmt::format(" GROUP BY {}window_start, window_end", q.grouped ? "k, " : "");
  if (q.having) q.sql += " HAVING COUNT(*) >= 2";
  return q;
}

std::vector<Event> random_stream(std::mt19937_64& rng, size_t n) {
  std::vector<Event> out;
  const TimestampMs disorder = 30 + static_cast<TimestampMs>(rng() % 80);
  for (size_t i = 0; i < n; ++i) {
    Event e;
    e.ts = static_cast<TimestampMs>(i) * 2 + static_cast<TimestampMs>(rng() % disorder) - 40;
    e.key = static_cast<int>(rng() % 5) - 1;
    if (rng() % 6 != 0) e.cents = static_cast<int64_t>(rng() % 4001) - 1000;
    std::string x = "null";
    if (e.cents) {
      int64_t c = *e.cents;
      x = fmt::format("{}{}.{:02}", c < 0 ? "-" : "", std::abs(c) / 100, std::abs(c) % 100);
    }
    e.json = fmt::format("{{\"ts\":{},\"k\":{},\"x\":{}}}", e.ts,
                         e.key < 0 ? "null" : std::to_string(e.key), x);
    out.push_back(std::move(e));
  }
  return out;
}

void random_chunks(std::mt19937_64& rng, const std::vector<Event>& evs,
                   std::vector<size_t>& chunk_ends, std::vector<TimestampMs>& wms) {
  TimestampMs max_ts = kMinTimestamp;
  const TimestampMs delay = static_cast<TimestampMs>(rng() % 60);
  for (size_t i = 0; i < evs.size();) {
    i = std::min(evs.size(), i + 1 + rng() % 40);
    for (size_t k = chunk_ends.empty() ? 0 : chunk_ends.back(); k < i; ++k)
      max_ts = std::max(max_ts, evs[k].ts);
    chunk_ends.push_back(i);
    TimestampMs wm = max_ts - delay - 1;
    wms.push_back(wms.empty() ? wm : std::max(wms.back(), wm));
  }
  chunk_ends.push_back(evs.size());
  wms.push_back(kMaxTimestamp);
}

}  // namespace freshet::query::test
