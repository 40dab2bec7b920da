// The per-shard front half of a Nexmark query without the server around it: the same
// JSON-lines file in memory, then (1) FieldExtractor alone over every record with the query's
// fields, and (2) LocalAggregator::add_batch in batches of --batch records, draining every
// batch 4 s behind the highest event time as the watermark would (partials are dropped).
//
//   nexmark_local_agg FILE [q5|q7|q12] [--runs N] [--batch N]
//
// Prints one line per stage: events, median CPU seconds of --runs runs (this thread's CPU
// time, so that time preempted on a shared machine does not count), M events per CPU second.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "freshet/query/aggregator.h"
#include "freshet/query/plan.h"
#include "json_extract.h"

// Every operator new in the process is counted, to report allocations per event.
static uint64_t g_allocations = 0;

void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace {

using namespace freshet;
using namespace freshet::query;

// The SQL of config/nexmark/<q>.yaml.
const char* sql_of(const std::string& q) {
  if (q == "q5")
    return "SELECT auction, window_start, window_end, COUNT(*) AS num "
           "FROM HOP(nexmark, dateTime, INTERVAL '2' SECOND, INTERVAL '10' SECOND) "
           "WHERE type = 'bid' GROUP BY auction, window_start, window_end";
  if (q == "q7")
    return "SELECT window_start, window_end, MAX(price) AS maxprice "
           "FROM TUMBLE(nexmark, dateTime, INTERVAL '10' SECOND) "
           "WHERE type = 'bid' GROUP BY window_start, window_end";
  if (q == "q12")
    return "SELECT bidder, window_start, window_end, COUNT(*) AS bid_count "
           "FROM TUMBLE(nexmark, dateTime, INTERVAL '10' SECOND) "
           "WHERE type = 'bid' GROUP BY bidder, window_start, window_end";
  return nullptr;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// CPU seconds of this thread: on a shared machine, time spent preempted is not ours.
double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <class F>
double seconds(F&& f) {
  const double t0 = cpu_now();
  f();
  return cpu_now() - t0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: nexmark_local_agg FILE [q5|q7|q12] [--runs N] [--batch N]\n");
    return 64;
  }
  std::string query = "q5";
  int runs = 5;
  size_t batch = 4096;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
      batch = static_cast<size_t>(std::atol(argv[++i]));
    } else {
      query = argv[i];
    }
  }
  const char* sql = sql_of(query);
  if (sql == nullptr || runs < 1 || batch < 1) {
    std::fprintf(stderr, "unknown query %s (q5, q7, q12) or bad --runs/--batch\n", query.c_str());
    return 64;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (!in || text.empty()) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 66;
  }
  const size_t size = text.size();
  text.append(64, '\0');  // every record has 64 readable bytes after it, as in the log
  std::vector<std::string_view> records;
  for (size_t pos = 0; pos < size;) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos || nl > size) nl = size;
    records.emplace_back(text.data() + pos, nl - pos);
    pos = nl + 1;
  }
  std::vector<Diagnostic> diags;
  auto plan = compile({query, sql}, diags);
  if (plan == nullptr) {
    std::fprintf(stderr, "%s does not compile\n", query.c_str());
    return 70;
  }
  const size_t n = records.size();
  std::printf("# %s, %zu events, median of %d runs, batches of %zu\n", query.c_str(), n, runs,
              batch);

  std::vector<double> t;
  size_t bad = 0;
  for (int r = 0; r < runs; ++r) {
    FieldExtractor ex(plan->referenced_fields());
    std::vector<Value> values(plan->referenced_fields().size());
    bad = 0;
    t.push_back(seconds([&] {
      for (auto rec : records) bad += ex.extract(rec, 64, values.data()) != nullptr;
    }));
  }
  double s = median(t);
  std::printf("extract      %8.3f cpu s %8.2f M ev/cpu-s  (%zu rejected)\n", s, n / s / 1e6, bad);

  t.clear();
  uint64_t parts = 0, allocations = 0;
  for (int r = 0; r < runs; ++r) {
    LocalAggregator agg(plan);
    std::vector<PartialBatch> out;
    TimestampMs high = kMinTimestamp;
    parts = 0;
    const uint64_t allocations_before = g_allocations;
    t.push_back(seconds([&] {
      for (size_t b = 0; b < n; b += batch) {
        auto span = std::span(records).subspan(b, std::min(batch, n - b));
        const auto st = agg.add_batch(span, 64);
        high = std::max(high, st.max_event_time);
        agg.drain(high - 4000, 1, out);
        for (PartialBatch& p : out) {
          parts += p.size();
          p.clear();
        }
      }
    }));
    allocations = g_allocations - allocations_before;
  }
  s = median(t);
  std::printf(
      "add_batch    %8.3f cpu s %8.2f M ev/cpu-s  (%llu partials, %.4f allocations/event)\n", s,
      n / s / 1e6, static_cast<unsigned long long>(parts),
      static_cast<double>(allocations) / static_cast<double>(n));
  return 0;
}
