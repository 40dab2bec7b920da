// The file source's CPU work per line, without the ring or the log: LineBatcher turning
// Nexmark JSON lines into batches, fed in the file source's read-sized chunks, with positions
// tracked. --batch and --flush follow FileSource (file_source.cc): batches of up to 256 KiB,
// flushed after a short chunk or once 2 MiB are open (`--flush open`), or after every chunk
// (`--flush chunk`, what the source did before). Emitted batches are dropped (their bytes
// freed), as the log's append does after copying them. Prints ns per line and MB/s: the
// median of --rounds rounds over the same in-memory input.
//
//   line_batcher_bench [--events N] [--partitions P] [--chunk BYTES] [--batch BYTES]
//                      [--flush open|chunk] [--rounds R] [--key FIELD]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/sources/line_batcher.h"
#include "freshet/sources/nexmark.h"

using namespace freshet;

int main(int argc, char** argv) {
  uint64_t events = 500'000;
  int32_t partitions = 4;
  size_t chunk = 1 << 20;
  size_t batch = 256 << 10;
  bool flush_every_chunk = false;
  int rounds = 9;
  std::string key;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--events")
      events = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--partitions")
      partitions = std::atoi(argv[i + 1]);
    else if (a == "--chunk")
      chunk = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--batch")
      batch = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--flush")
      flush_every_chunk = std::string_view(argv[i + 1]) == "chunk";
    else if (a == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (a == "--key")
      key = argv[i + 1];
    else {
      std::fprintf(stderr, "line_batcher_bench: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  std::string input;
  {
    sources::NexmarkGenerator gen({});
    std::string ev;
    for (uint64_t n = 0; n < events; ++n) {
      gen.event(n, ev);
      input += ev;
      input += '\n';
    }
  }
  std::vector<char> buf(chunk);
  std::vector<double> ns_per_line;
  uint64_t batches = 0, batch_bytes = 0;
  for (int r = 0; r < rounds; ++r) {
    batches = batch_bytes = 0;
    sources::LineBatcher b(
        key, partitions,
        [&](int32_t, std::string&& bytes, uint32_t) {
          ++batches;
          batch_bytes += bytes.size();
          std::string gone = std::move(bytes);  // freed here, as after the log's copy
        },
        batch);
    b.track_positions("bench", "/data/nexmark.jsonl", 0);
    b.begin_file("/data/nexmark.jsonl", 0);
    double s = 0;
    for (size_t at = 0; at < input.size(); at += chunk) {
      // Untimed, as the ring's read is: the chunk lands in the read buffer (and the cache).
      const size_t n = std::min(chunk, input.size() - at);
      std::memcpy(buf.data(), input.data() + at, n);
      const auto t0 = std::chrono::steady_clock::now();
      b.feed(std::string_view(buf.data(), n), 1'764'064'800'000);
      if (flush_every_chunk || n < chunk || b.open_bytes() >= (2u << 20)) b.flush();
      s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    b.end_of_file(1'764'064'800'000);
    b.flush();
    ns_per_line.push_back(s * 1e9 / static_cast<double>(events));
  }
  std::sort(ns_per_line.begin(), ns_per_line.end());
  const double med = ns_per_line[ns_per_line.size() / 2];
  std::printf(
      "# line_batcher_bench: %llu Nexmark lines (%.1f MB), %d partitions, %zu-byte chunks, "
      "batches up to %zu bytes flushed %s, key `%s`, median of %d rounds\n",
      static_cast<unsigned long long>(events), input.size() / 1e6, partitions, chunk, batch,
      flush_every_chunk ? "after every chunk" : "past 2 MiB open", key.c_str(), rounds);
  std::printf("| ns/line (min, median, max) | MB/s (median) | batches | batch bytes / input |\n");
  std::printf("|---|---|---|---|\n");
  std::printf("| %.1f, %.1f, %.1f | %.0f | %llu | %.3f |\n", ns_per_line.front(), med,
              ns_per_line.back(), static_cast<double>(input.size()) / events / med * 1e3,
              static_cast<unsigned long long>(batches),
              static_cast<double>(batch_bytes) / static_cast<double>(input.size()));
  return 0;
}
