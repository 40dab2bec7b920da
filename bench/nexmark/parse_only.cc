// The parse-only limit for the Nexmark benches: simdjson On-Demand over the same JSON-lines
// file, reading the fields a query reads (default: type, bidder, dateTime) and doing nothing
// else. Usage: parse_only FILE [field ...]. Prints events, wall seconds, a checksum and the
// process's CPU seconds: iterate_many runs stage 1 of the next batch on a second thread, so
// wall time alone would count up to two cores as one.

#include <simdjson.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: parse_only FILE [field ...]\n");
    return 64;
  }
  std::vector<std::string> fields;
  for (int i = 2; i < argc; ++i) fields.emplace_back(argv[i]);
  if (fields.empty()) fields = {"type", "bidder", "dateTime"};
  simdjson::padded_string json;
  if (simdjson::padded_string::load(argv[1]).get(json)) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 66;
  }
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  const double cpu0 = cpu_now();
  const auto t0 = std::chrono::steady_clock::now();
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document_stream docs;
  if (parser.iterate_many(json, 1 << 20).get(docs)) return 65;
  uint64_t events = 0, checksum = 0;
  for (auto doc : docs) {
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) continue;
    for (const auto& f : fields) {
      simdjson::ondemand::value v;
      if (obj.find_field_unordered(f).get(v)) continue;
      std::string_view raw = v.raw_json_token();
      checksum += raw.size();  // keep the read from being optimised away
    }
    ++events;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%llu %.6f %llu %.6f\n", static_cast<unsigned long long>(events), secs,
              static_cast<unsigned long long>(checksum), cpu_now() - cpu0);
  return 0;
}
