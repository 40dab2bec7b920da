#include "freshet/sources/file_source.h"

#include <doctest/doctest.h>
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "freshet/shard/runtime.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::sources;
using freshet::testing::TempDir;

namespace {

void write_file(const std::string& path, const std::string& text, bool append = false) {
  std::ofstream f(path, append ? std::ios::app : std::ios::trunc);
  f << text;
}

// Runs a FileSource on a one-shard runtime and collects the values it delivers.
struct Harness {
  std::unique_ptr<shard::Runtime> rt;
  std::unique_ptr<FileSource> source;
  std::mutex mu;
  std::vector<std::string> values;
  std::vector<size_t> batch_sizes;
  std::atomic<bool> finished{false};
  std::atomic<bool> started{false};
  std::string start_error;

  void run(FileSourceOptions o) {
    auto r = shard::Runtime::create({.shards = 1, .pin = false});
    REQUIRE(r.has_value());
    rt = std::move(*r);
    REQUIRE(rt->start([this, o](shard::Shard& s) {
                source = std::make_unique<FileSource>(
                    s, io::posix_file_system(), o,
                    [this](int32_t, std::string&& b, uint32_t) {
                      auto v = log::BatchView::parse(b.data(), b.size());
                      REQUIRE(v.has_value());
                      auto it = v->records();
                      log::RecordView rec;
                      std::lock_guard lock(mu);
                      batch_sizes.push_back(b.size());
                      while (it.next(rec)) values.emplace_back(*rec.value);
                    },
                    [](int32_t) { return false; }, [this] { finished = true; });
                if (auto st = source->start(); !st) start_error = st.error().message;
                started = true;
              }).has_value());
    while (!started) std::this_thread::yield();
  }
  bool wait_for(const std::function<bool()>& cond) {
    for (int i = 0; i < 500 && !cond(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return cond();
  }
  size_t count() {
    std::lock_guard lock(mu);
    return values.size();
  }
  bool source_caught_up() {
    std::atomic<bool> answer{false}, done{false};
    rt->submit_to(ShardId(0), [&] {
      answer = source->caught_up();
      done = true;
    });
    while (!done) std::this_thread::yield();
    return answer;
  }
  ~Harness() {
    if (rt) {
      rt->request_stop();
      rt->join();
    }
  }
};

}  // namespace

TEST_CASE("a bounded file source reads every matching file in order and finishes") {
  TempDir d;
  std::string a, b;
  for (int i = 0; i < 30000; ++i)
    a += "{\"n\":" + std::to_string(i) + ",\"k\":\"" + std::to_string(i % 7) + "\"}\n";
  write_file(d.path + "/part-1.jsonl", a);
  write_file(d.path + "/part-2.jsonl", "{\"n\":\"last\"}");  // no final newline
  write_file(d.path + "/other.txt", "{\"n\":\"ignored\"}\n");
  Harness h;
  h.run({.name = "hist", .pattern = d.path + "/part-*.jsonl", .key_field = "k", .partitions = 3});
  REQUIRE(h.start_error.empty());
  REQUIRE(h.wait_for([&] { return h.finished.load(); }));
  CHECK(h.count() == 30001);
  std::lock_guard lock(h.mu);
  CHECK(std::find(h.values.begin(), h.values.end(), "{\"n\":\"last\"}") != h.values.end());
  CHECK(std::find(h.values.begin(), h.values.end(), "{\"n\":\"ignored\"}") == h.values.end());
}

TEST_CASE("a bounded file source with no matching file is an error, not an empty success") {
  TempDir d;
  Harness h;
  h.run({.name = "typo", .pattern = d.path + "/nope-*.jsonl"});
  CHECK(h.start_error.find("no file matches") != std::string::npos);
}

TEST_CASE("an unbounded source reading from the end sees only lines appended later") {
  TempDir d;
  const std::string path = d.path + "/live.jsonl";
  write_file(path, "{\"old\":1}\n{\"old\":2}\n");
  Harness h;
  h.run({.name = "live", .pattern = path, .read_from_beginning = false, .bounded = false});
  REQUIRE(h.start_error.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  write_file(path, "{\"new\":1}\n{\"new\":", true);
  write_file(path, "2}\n", true);
  REQUIRE(h.wait_for([&] { return h.count() == 2; }));
  std::lock_guard lock(h.mu);
  CHECK(h.values[0] == "{\"new\":1}");
  CHECK(h.values[1] == "{\"new\":2}");
  CHECK_FALSE(h.finished.load());
}

TEST_CASE("batches fill across full reads, up to 256 KiB, and all is handed over at the end") {
  // 16 partitions get 64 KiB each from a 1 MiB read: their batches span reads now, rather than
  // being cut at every read.
  TempDir d;
  std::string text;
  for (int i = 0; text.size() < (5u << 20); ++i)
    text += "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(40 + i % 60, 'x') + "\"}\n";
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  write_file(d.path + "/big.jsonl", text);
  Harness h;
  h.run({.name = "big", .pattern = d.path + "/big.jsonl", .partitions = 16});
  REQUIRE(h.start_error.empty());
  REQUIRE(h.wait_for([&] { return h.finished.load(); }));
  CHECK(h.count() == lines);
  std::lock_guard lock(h.mu);
  const size_t largest = *std::max_element(h.batch_sizes.begin(), h.batch_sizes.end());
  CHECK(largest > (128u << 10));
  CHECK(largest <= (256u << 10) + 1024);  // the limit, plus the line crossing it and a header
}

TEST_CASE("an unbounded source whose last read was a full one hands its lines over at the end") {
  // Exactly one read's worth (1 MiB): the read that fills the buffer leaves its batches open,
  // and only the empty read after it says the source caught up.
  TempDir d;
  const std::string path = d.path + "/exact.jsonl";
  std::string text;
  for (int i = 0; text.size() < (1u << 20); ++i) {
    std::string line = "{\"n\":" + std::to_string(i) + ",\"pad\":\"";
    line += std::string(61 - line.size(), 'x') + "\"}\n";  // 64 bytes: 16384 lines, 1 MiB
    text += line;
  }
  REQUIRE(text.size() == (1u << 20));
  write_file(path, text);
  Harness h;
  h.run({.name = "exact", .pattern = path, .bounded = false, .partitions = 2});
  REQUIRE(h.start_error.empty());
  REQUIRE(h.wait_for([&] { return h.count() == 16384; }));
  CHECK(h.source_caught_up());
  CHECK_FALSE(h.finished.load());
}
