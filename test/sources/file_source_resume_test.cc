// The file source after kill -9: resumed from the positions its batches carry, every
// partition ends up with exactly the lines an uninterrupted run routes there.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "crash_util.h"
#include "freshet/shard/runtime.h"
#include "freshet/sources/file_source.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::sources;
using namespace freshet::sources::testing;
using freshet::testing::TempDir;

namespace {

void write_file(const std::string& path, const std::string& text, bool append = false) {
  std::ofstream f(path, append ? std::ios::app : std::ios::trunc);
  f << text;
}

// Three files of JSON lines; some lack the key, some end in CR LF, blank lines between them,
// and the last file has no final newline.
void write_inputs(const std::string& dir) {
  for (int f = 0; f < 3; ++f) {
    std::string s;
    for (int i = 0; i < 4000; ++i) {
      const int n = f * 4000 + i;
      if (n % 9 == 4)
        s += "{\"n\":" + std::to_string(n) + "}\r\n";
      else
        s += "{\"n\":" + std::to_string(n) + ",\"k\":\"key-" + std::to_string(n % 11) +
             "\",\"pad\":\"" + std::string(static_cast<size_t>(n % 40), 'p') + "\"}\n";
      if (n % 97 == 0) s += "\n  \n";
    }
    if (f == 2) s += "{\"n\":\"last\",\"k\":\"key-1\"}";
    write_file(dir + "/in-" + std::to_string(f) + ".jsonl", s);
  }
}

// Runs a FileSource on a one-shard runtime that appends what it delivers to `parts` (on that
// shard, which owns them meanwhile), until it finished or `until` holds.
void run_source(FileSourceOptions o, const Parts& parts,
                const std::function<bool(uint64_t delivered)>& until = nullptr) {
  auto r = shard::Runtime::create({.shards = 1, .pin = false});
  REQUIRE(r.has_value());
  std::unique_ptr<shard::Runtime> rt = std::move(*r);
  std::unique_ptr<FileSource> source;
  std::atomic<bool> started{false}, finished{false}, append_failed{false};
  std::atomic<uint64_t> delivered{0};
  std::string start_error;
  REQUIRE(rt->start([&](shard::Shard& s) {
              source = std::make_unique<FileSource>(
                  s, io::posix_file_system(), o,
                  [&](int32_t p, std::string&& b, uint32_t n) {
                    if (!parts[static_cast<size_t>(p)]->append(b)) append_failed = true;
                    delivered += n;
                  },
                  [](int32_t) { return false; }, [&] { finished = true; });
              if (auto st = source->start(); !st) start_error = st.error().message;
              started = true;
            }).has_value());
  while (!started) std::this_thread::yield();
  CHECK(start_error.empty());
  for (int i = 0; i < 3000 && start_error.empty(); ++i) {
    if (until ? until(delivered.load()) : finished.load()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  rt->request_stop();
  rt->join();
  source.reset();
  CHECK_FALSE(append_failed.load());
  CHECK((until ? until(delivered.load()) : finished.load()));
}

FileSourceOptions options(const std::string& dir, int partitions, bool keyed) {
  FileSourceOptions o;
  o.name = "history";
  o.pattern = dir + "/in-*.jsonl";
  o.key_field = keyed ? "k" : "";
  o.partitions = partitions;
  return o;
}

}  // namespace

TEST_CASE("a file source killed at any point resumes with no duplicate and no gap") {
  TempDir in;
  write_inputs(in.path);
  for (int partitions = 1; partitions <= 3; ++partitions)
    for (bool keyed : {false, true}) {
      CAPTURE(partitions);
      CAPTURE(keyed);
      std::vector<std::vector<std::string>> expected;
      {
        TempDir ref_dir;
        Parts ref = open_parts(ref_dir.path, partitions);
        run_source(options(in.path, partitions, keyed), ref);
        for (const auto& l : ref) expected.push_back(contents(*l, false));
      }
      size_t total = 0;
      for (const auto& e : expected) total += e.size();
      CHECK(total == 12001);
      std::mt19937 rng(20261125u + static_cast<uint32_t>(partitions * 2 + keyed));
      for (int trial = 0; trial < 6; ++trial) {
        CAPTURE(trial);
        TempDir d;
        std::vector<size_t> batches;
        {
          Parts parts = open_parts(d.path, partitions);
          run_source(options(in.path, partitions, keyed), parts);
          for (const auto& l : parts) batches.push_back(batch_count(*l));
        }
        for (int p = 0; p < partitions; ++p)
          crash_cut(d.path + "/" + std::to_string(p), rng() % (batches[static_cast<size_t>(p)] + 1),
                    rng() % 2 == 0);
        Parts parts = open_parts(d.path, partitions);
        FileSourceOptions o = options(in.path, partitions, keyed);
        o.resume_from = positions(parts, "history");
        run_source(o, parts);
        for (int p = 0; p < partitions; ++p)
          CHECK(contents(*parts[static_cast<size_t>(p)], false) ==
                expected[static_cast<size_t>(p)]);
      }
    }
}

TEST_CASE("read_from: end resumes from the recovered position, lines written while down included") {
  TempDir in, d;
  const std::string path = in.path + "/live.jsonl";
  auto lines = [](int from, int to) {
    std::string s;
    for (int n = from; n < to; ++n) s += "{\"n\":" + std::to_string(n) + "}\n";
    return s;
  };
  write_file(path, lines(0, 100));  // before the first start: never read
  FileSourceOptions o;
  o.name = "live";
  o.pattern = path;
  o.read_from_beginning = false;
  o.bounded = false;
  o.partitions = 2;
  {
    Parts parts = open_parts(d.path, 2);
    std::thread writer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      write_file(path, lines(100, 150), true);
    });
    run_source(o, parts, [](uint64_t delivered) { return delivered == 50; });
    writer.join();
  }
  write_file(path, lines(150, 180), true);  // while it is down
  // Partition 1 lost its last batch in the crash.
  crash_cut(d.path + "/1", 0, false);
  Parts parts = open_parts(d.path, 2);
  o.resume_from = positions(parts, "live");
  REQUIRE(o.resume_from[0].has_value());
  CHECK_FALSE(o.resume_from[1].has_value());
  CHECK(FilePosition::decode(*o.resume_from[0]).value().origin_offset == lines(0, 100).size());
  run_source(o, parts, [](uint64_t delivered) { return delivered == 55; });
  // Line L of the stream (n = 100 + L) goes to partition L % 2, each exactly once.
  for (int p = 0; p < 2; ++p) {
    std::vector<std::string> want;
    for (int n = 100 + p; n < 180; n += 2)
      want.push_back("<null>|{\"n\":" + std::to_string(n) + "}");
    CHECK(contents(*parts[static_cast<size_t>(p)], false) == want);
  }
}
