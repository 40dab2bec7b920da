#include "freshet/sinks/committed_file.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "freshet/io/fault_injecting_file_system.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::sinks;
using checkpoint::SinkFileEntry;
using freshet::testing::TempDir;

namespace {

constexpr TimestampMs kT0 = 1764064800000;  // 2025-11-25T10:00:00Z

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Every visible file in `dir` (the live file and its rotated files, not the hidden staging
// directory) by name. Rotated files sort before the live file and by time among themselves.
std::map<std::string, std::string> visible_files(const std::string& dir) {
  std::map<std::string, std::string> out;
  const std::vector<std::string> names = io::posix_file_system().list_dir(dir).value();
  for (const std::string& name : names) {
    if (name[0] != '.') out[name] = slurp(dir + "/" + name);
  }
  return out;
}

// Checks every visible file begins with `header` and returns the rows of all of them, in
// file order.
std::string all_rows(const std::string& dir, const std::string& header) {
  std::string rows;
  for (const auto& [name, bytes] : visible_files(dir)) {
    CAPTURE(name);
    if (bytes.size() < header.size()) {
      // A live file not yet published to, or a header cut short by a crash.
      REQUIRE(header.substr(0, bytes.size()) == bytes);
      continue;
    }
    REQUIRE(bytes.substr(0, header.size()) == header);
    std::string body = bytes.substr(header.size());
    if (!header.empty()) CHECK(body.find(header) == std::string::npos);
    rows += body;
  }
  return rows;
}

std::unique_ptr<CommittedFile> open_file(io::FileSystem& fs, const CommittedFileOptions& o,
                                         const SinkFileEntry* committed) {
  auto f = CommittedFile::open(fs, o, committed);
  REQUIRE_MESSAGE(f.has_value(), f.error().message);
  return std::move(*f);
}

// One full epoch without faults; returns the entry it published.
SinkFileEntry run_epoch(CommittedFile& f, uint64_t epoch, const std::string& rows,
                        TimestampMs now) {
  if (!rows.empty()) REQUIRE(f.stage(epoch, rows).has_value());
  auto e = f.precommit(epoch, now);
  REQUIRE_MESSAGE(e.has_value(), e.error().message);
  auto p = f.publish(*e);
  REQUIRE_MESSAGE(p.has_value(), p.error().message);
  REQUIRE(f.forget_before(epoch).has_value());
  return *e;
}

std::string rows_of(uint64_t epoch, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += fmt::format("e{},row{}\n", epoch, i);
  return out;
}

constexpr io::FsOp kPublishOps[] = {
    io::FsOp::kOpen,      io::FsOp::kPwrite,    io::FsOp::kPread,    io::FsOp::kFsync,
    io::FsOp::kFdatasync, io::FsOp::kFtruncate, io::FsOp::kFileSize, io::FsOp::kRename,
    io::FsOp::kUnlink,    io::FsOp::kRemoveAll, io::FsOp::kMkdirs,   io::FsOp::kFsyncDir,
    io::FsOp::kListDir,   io::FsOp::kExists};

}  // namespace

TEST_CASE("staged rows reach the live file only when their epoch is published") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  CommittedFileOptions o{.path = tmp.file("out.jsonl"), .sink = "per_user", .kind = "main"};
  auto f = open_file(fs, o, nullptr);
  CHECK(f->staging_dir() == tmp.file(".out.jsonl.pending"));

  REQUIRE(f->stage(1, "{\"a\":1}\n").has_value());
  REQUIRE(f->stage(1, "{\"a\":2}\n").has_value());
  CHECK(!fs.exists(o.path).value());  // nothing visible before the commit
  CHECK(slurp(tmp.file(".out.jsonl.pending/1")) == "{\"a\":1}\n{\"a\":2}\n");

  auto e = f->precommit(1, kT0);
  REQUIRE(e.has_value());
  CHECK(e->sink == "per_user");
  CHECK(e->kind == "main");
  CHECK(e->epoch == 1);
  CHECK(e->live_path == o.path);
  CHECK(e->live_length == 0);
  CHECK(e->rotate_to.empty());
  CHECK(e->staging_path == tmp.file(".out.jsonl.pending/1"));
  CHECK(e->staging_length == 16);
  // Rows of the next epoch arrive before epoch 1 is published.
  REQUIRE(f->stage(2, "{\"a\":3}\n").has_value());
  CHECK(f->stage(1, "late").error().code == ErrorCode::kInvalidArgument);

  REQUIRE(f->publish(*e).has_value());
  CHECK(slurp(o.path) == "{\"a\":1}\n{\"a\":2}\n");
  CHECK(f->committed_length() == 16);
  // The staging file stays until the next epoch commits, for a redo.
  CHECK(fs.exists(e->staging_path).value());
  REQUIRE(f->publish(*e).has_value());  // idempotent
  CHECK(slurp(o.path) == "{\"a\":1}\n{\"a\":2}\n");

  auto e2 = f->precommit(2, kT0 + 1000);
  REQUIRE(e2.has_value());
  CHECK(e2->live_length == 16);
  REQUIRE(f->publish(*e2).has_value());
  REQUIRE(f->forget_before(2).has_value());
  CHECK(!fs.exists(e->staging_path).value());
  CHECK(fs.exists(e2->staging_path).value());
  CHECK(slurp(o.path) == "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
}

TEST_CASE("an epoch with nothing staged commits without a staging file") {
  TempDir tmp;
  CommittedFileOptions o{.path = tmp.file("out.jsonl")};
  auto f = open_file(io::posix_file_system(), o, nullptr);
  SinkFileEntry e = run_epoch(*f, 1, "", kT0);
  CHECK(e.staging_length == 0);
  CHECK(!io::posix_file_system().exists(e.staging_path).value());
  CHECK(slurp(o.path).empty());
  auto again = open_file(io::posix_file_system(), o, &e);
  CHECK(again->committed_length() == 0);
}

TEST_CASE("a CSV header starts the live file once, also across restarts") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  CommittedFileOptions o{.path = tmp.file("out.csv"), .header = "epoch,row\n"};
  auto f = open_file(fs, o, nullptr);
  run_epoch(*f, 1, rows_of(1, 2), kT0);
  SinkFileEntry e2 = run_epoch(*f, 2, rows_of(2, 1), kT0);
  f.reset();
  f = open_file(fs, o, &e2);
  run_epoch(*f, 3, rows_of(3, 1), kT0);
  CHECK(slurp(o.path) == "epoch,row\n" + rows_of(1, 2) + rows_of(2, 1) + rows_of(3, 1));
}

TEST_CASE("without a manifest entry the live file's bytes are kept and orphans removed") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  CommittedFileOptions o{.path = tmp.file("out.jsonl")};
  {
    auto f = open_file(fs, o, nullptr);
    REQUIRE(f->stage(1, "never committed\n").has_value());
    REQUIRE(f->precommit(1, kT0).has_value());
  }  // the process dies before the manifest commit
  std::ofstream(o.path) << "from an earlier run\n";
  auto f = open_file(fs, o, nullptr);
  CHECK(fs.list_dir(f->staging_dir()).value().empty());
  CHECK(f->committed_length() == 20);
  run_epoch(*f, 1, "new\n", kT0);
  CHECK(slurp(o.path) == "from an earlier run\nnew\n");
}

TEST_CASE("recovery drops epochs that staged rows but never committed") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  CommittedFileOptions o{.path = tmp.file("out.jsonl")};
  auto f = open_file(fs, o, nullptr);
  SinkFileEntry e1 = run_epoch(*f, 1, "one\n", kT0);
  REQUIRE(f->stage(2, "two\n").has_value());
  REQUIRE(f->precommit(2, kT0).has_value());
  REQUIRE(f->stage(3, "three\n").has_value());
  f.reset();  // crash: epoch 2's manifest was never committed
  f = open_file(fs, o, &e1);
  CHECK(fs.list_dir(f->staging_dir()).value() == std::vector<std::string>{"1"});
  // The replayed rows come back under the reused epoch number.
  run_epoch(*f, 2, "two again\n", kT0);
  CHECK(slurp(o.path) == "one\ntwo again\n");
}

TEST_CASE("rotation by size leaves immutable rotated files that each start with the header") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  const std::string header = "epoch,row\n";
  CommittedFileOptions o{.path = tmp.file("out.csv"), .header = header, .rotate_max_bytes = 60};
  auto f = open_file(fs, o, nullptr);
  std::string expected;
  std::map<std::string, std::string> sealed;  // rotated files as first seen
  int rotations = 0;
  for (uint64_t epoch = 1; epoch <= 20; ++epoch) {
    const std::string rows = rows_of(epoch, static_cast<int>(epoch % 3));
    SinkFileEntry e = run_epoch(*f, epoch, rows, kT0 + 1000 * static_cast<int64_t>(epoch));
    expected += rows;
    if (!e.rotate_to.empty()) {
      ++rotations;
      CHECK(e.live_length >= 60);
      CHECK(e.rotate_to.find(tmp.file("out-20251125T")) == 0);
      CHECK(e.rotate_to.ends_with(fmt::format("-{:06}.csv", epoch)));
      const std::string rotated = slurp(e.rotate_to);
      CHECK(rotated.size() == e.live_length);
      sealed[e.rotate_to] = rotated;
    }
    for (const auto& [path, bytes] : sealed) CHECK(slurp(path) == bytes);
    CHECK(slurp(o.path).size() < 60 + 3 * 9);  // never far past the limit
  }
  CHECK(rotations >= 3);
  CHECK(all_rows(tmp.path, header) == expected);
}

TEST_CASE("rotation by age rotates a non-empty live file once it is old enough") {
  TempDir tmp;
  CommittedFileOptions o{.path = tmp.file("out"), .rotate_max_age = 60'000};
  auto f = open_file(io::posix_file_system(), o, nullptr);
  CHECK(run_epoch(*f, 1, "a\n", kT0).rotate_to.empty());
  CHECK(run_epoch(*f, 2, "b\n", kT0 + 30'000).rotate_to.empty());
  SinkFileEntry e3 = run_epoch(*f, 3, "c\n", kT0 + 60'000);
  CHECK(e3.rotate_to == tmp.file("out-20251125T100100Z-000003"));  // no extension to keep
  CHECK(slurp(e3.rotate_to) == "a\nb\n");
  CHECK(slurp(o.path) == "c\n");
  // Age counts from the rotation; an empty live file is never rotated.
  CHECK(run_epoch(*f, 4, "", kT0 + 100'000).rotate_to.empty());
  SinkFileEntry e5 = run_epoch(*f, 5, "", kT0 + 200'000);
  CHECK(!e5.rotate_to.empty());
  CHECK(slurp(o.path).empty());
  CHECK(run_epoch(*f, 6, "", kT0 + 300'000).rotate_to.empty());
}

TEST_CASE("bytes the manifest does not cover are replaced at recovery") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  const std::string header = "epoch,row\n";
  CommittedFileOptions o{.path = tmp.file("out.csv"), .header = header};
  auto f = open_file(fs, o, nullptr);
  run_epoch(*f, 1, rows_of(1, 2), kT0);
  SinkFileEntry e2 = run_epoch(*f, 2, rows_of(2, 2), kT0);
  f.reset();
  const std::string want = header + rows_of(1, 2) + rows_of(2, 2);
  REQUIRE(slurp(o.path) == want);

  SUBCASE("a tail the manifest never committed") {
    std::ofstream(o.path, std::ios::app) << "e3,row0\n";
  }
  SUBCASE("zeros where a power cut lost epoch 2's data but kept the size") {
    std::string bytes = want;
    std::fill(bytes.end() - 5, bytes.end(), '\0');
    std::ofstream(o.path, std::ios::trunc) << bytes << std::string(3, '\0');
  }
  SUBCASE("epoch 2's append never happened") {
    std::ofstream(o.path, std::ios::trunc) << header + rows_of(1, 2);
  }
  f = open_file(fs, o, &e2);
  CHECK(slurp(o.path) == want);
  CHECK(f->committed_length() == want.size());
}

TEST_CASE("a live file shorter than its committed length is reported, not papered over") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  CommittedFileOptions o{.path = tmp.file("out.jsonl")};
  auto f = open_file(fs, o, nullptr);
  run_epoch(*f, 1, "one\n", kT0);
  SinkFileEntry e2 = run_epoch(*f, 2, "two\n", kT0);
  f.reset();
  std::ofstream(o.path, std::ios::trunc) << "on";
  auto r = CommittedFile::open(fs, o, &e2);
  REQUIRE(!r.has_value());
  CHECK(r.error().code == ErrorCode::kCorruption);
  SUBCASE("and so is a lost staging file") {
    std::ofstream(o.path, std::ios::trunc) << "one\n";
    REQUIRE(fs.unlink(e2.staging_path).has_value());
    auto r2 = CommittedFile::open(fs, o, &e2);
    REQUIRE(!r2.has_value());
    CHECK(r2.error().code == ErrorCode::kNotFound);
  }
}

// The scenarios for the exhaustive crash test: what epoch `kLast` publishes.
struct PublishScenario {
  const char* name;
  std::string header;
  std::optional<uint64_t> rotate_max_bytes;
  int rows_last;  // rows staged in the last epoch
};

TEST_CASE("a crash at any call inside publish, and inside the recovery, ends in the same files") {
  const PublishScenario scenarios[] = {
      {"append", "", std::nullopt, 3},
      {"first publish writes the header", "epoch,row\n", std::nullopt, 2},
      {"rotation then append", "epoch,row\n", 60, 2},
      {"empty epoch", "epoch,row\n", std::nullopt, 0},
  };
  for (const PublishScenario& sc : scenarios) {
    const std::string scenario = sc.name;
    CAPTURE(scenario);
    const bool first_only = scenario == "first publish writes the header";
    const uint64_t last = first_only ? 1 : 4;
    // Builds the files up to epoch `last`'s precommit and returns its entry.
    auto setup = [&](io::FileSystem& fs, const std::string& dir,
                     std::unique_ptr<CommittedFile>& f) {
      CommittedFileOptions o{
          .path = dir + "/out.csv", .header = sc.header, .rotate_max_bytes = sc.rotate_max_bytes};
      f = open_file(fs, o, nullptr);
      for (uint64_t epoch = 1; epoch < last; ++epoch) run_epoch(*f, epoch, rows_of(epoch, 3), kT0);
      if (sc.rows_last > 0) REQUIRE(f->stage(last, rows_of(last, sc.rows_last)).has_value());
      auto e = f->precommit(last, kT0 + 5000);
      REQUIRE(e.has_value());
      return std::make_pair(o, *e);
    };

    // The reference: an uninterrupted publish, counting its calls.
    TempDir ref_dir;
    io::FaultInjectingFileSystem ref_fs(io::posix_file_system());
    std::unique_ptr<CommittedFile> ref;
    auto [ref_options, ref_entry] = setup(ref_fs, ref_dir.path, ref);
    if (sc.rotate_max_bytes) REQUIRE(!ref_entry.rotate_to.empty());
    std::array<uint64_t, io::kFsOpCount> counts{};
    for (io::FsOp op : kPublishOps) counts[static_cast<size_t>(op)] = ref_fs.calls(op);
    REQUIRE(ref->publish(ref_entry).has_value());
    for (io::FsOp op : kPublishOps) {
      counts[static_cast<size_t>(op)] = ref_fs.calls(op) - counts[static_cast<size_t>(op)];
    }
    const std::map<std::string, std::string> want = visible_files(ref_dir.path);

    // Crash points: each call of each kind fails (nothing after it runs), plus torn writes.
    struct Crash {
      io::FsOp op;
      uint64_t n;
      std::optional<size_t> tear_keep;
    };
    std::vector<Crash> crashes;
    for (io::FsOp op : kPublishOps) {
      for (uint64_t n = 1; n <= counts[static_cast<size_t>(op)]; ++n)
        crashes.push_back({op, n, {}});
    }
    for (uint64_t n = 1; n <= counts[static_cast<size_t>(io::FsOp::kPwrite)]; ++n) {
      for (size_t keep : {size_t{1}, size_t{7}}) crashes.push_back({io::FsOp::kPwrite, n, keep});
    }
    auto inject = [](io::FaultInjectingFileSystem& fs, const Crash& c) {
      if (c.tear_keep) {
        fs.tear_nth_pwrite(c.n, *c.tear_keep, EIO);
      } else {
        fs.fail_nth(c.op, c.n, EIO);
      }
    };

    for (const Crash& first : crashes) {
      CAPTURE(io::to_string(first.op));
      CAPTURE(first.n);
      CAPTURE(first.tear_keep.value_or(0));
      TempDir tmp;
      io::FaultInjectingFileSystem fs(io::posix_file_system());
      std::unique_ptr<CommittedFile> f;
      auto [o, entry] = setup(fs, tmp.path, f);
      // The same decision, by the same name, as in the reference directory.
      CHECK(entry.rotate_to.empty() == ref_entry.rotate_to.empty());
      if (!entry.rotate_to.empty()) {
        CHECK(entry.rotate_to.substr(tmp.path.size()) ==
              ref_entry.rotate_to.substr(ref_dir.path.size()));
      }
      inject(fs, first);
      CHECK(!f->publish(entry).has_value());
      fs.clear_faults();
      f.reset();
      // Whatever is visible now holds committed rows only, in order.
      const std::string want_rows = all_rows(ref_dir.path, sc.header);
      const std::string got_rows = all_rows(tmp.path, sc.header);
      CHECK(want_rows.substr(0, got_rows.size()) == got_rows);

      f = open_file(fs, o, &entry);
      CHECK(visible_files(tmp.path) == want);
      CHECK(f->committed_length() == want.at("out.csv").size());
    }

    // A second crash during the recovery from the first one. Limited to failed calls in the
    // middle of publish, to keep the case count modest.
    for (size_t i = 0; i < crashes.size(); i += 3) {
      for (const Crash& second : crashes) {
        if (second.tear_keep) continue;
        TempDir tmp;
        io::FaultInjectingFileSystem fs(io::posix_file_system());
        std::unique_ptr<CommittedFile> f;
        auto [o, entry] = setup(fs, tmp.path, f);
        inject(fs, crashes[i]);
        (void)f->publish(entry);
        fs.clear_faults();
        f.reset();
        inject(fs, second);
        auto broken = CommittedFile::open(fs, o, &entry);
        fs.clear_faults();
        broken = {};
        f = open_file(fs, o, &entry);
        CHECK(visible_files(tmp.path) == want);
      }
    }
  }
}

TEST_CASE("random epochs with crashes anywhere publish exactly the committed rows") {
  const uint32_t seed = 4242;
  INFO("seed ", seed);
  std::mt19937 rng(seed);
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };

  TempDir tmp;
  io::FaultInjectingFileSystem fs(io::posix_file_system());
  const std::string header = "epoch,row\n";
  CommittedFileOptions o{.path = tmp.file("out.csv"),
                         .header = header,
                         .rotate_max_bytes = 150,
                         .rotate_max_age = 20'000};
  std::optional<SinkFileEntry> manifest;  // the entry in the latest committed manifest
  std::string committed_rows;
  std::map<std::string, std::string> sealed;  // rotated files as first seen
  auto f = open_file(fs, o, nullptr);
  TimestampMs now = kT0;
  uint64_t epoch = 1;
  int crashes = 0, commits = 0;

  auto verify_prefix = [&] {
    const std::string rows = all_rows(tmp.path, header);
    REQUIRE(committed_rows.substr(0, rows.size()) == rows);
    for (const auto& [name, bytes] : visible_files(tmp.path)) {
      const std::string path = tmp.file(name);
      if (path == o.path) continue;
      if (auto it = sealed.find(path); it != sealed.end()) {
        CHECK(bytes == it->second);
      } else {
        sealed[path] = bytes;
      }
    }
  };
  auto crash_and_recover = [&] {
    ++crashes;
    fs.clear_faults();
    f.reset();
    verify_prefix();
    for (;;) {
      // Recovery itself may be cut short too; then it is simply tried again.
      if (chance(20)) fs.fail_nth(kPublishOps[rng() % std::size(kPublishOps)], 1 + rng() % 3, EIO);
      auto r = CommittedFile::open(fs, o, manifest ? &*manifest : nullptr);
      fs.clear_faults();
      if (r) {
        f = std::move(*r);
        break;
      }
      verify_prefix();
    }
    REQUIRE(all_rows(tmp.path, header) == committed_rows);
    epoch = manifest ? manifest->epoch + 1 : 1;
  };

  for (int step = 0; step < 400; ++step) {
    CAPTURE(step);
    now += static_cast<TimestampMs>(rng() % 4000);
    if (chance(30)) {
      const io::FsOp op = kPublishOps[rng() % std::size(kPublishOps)];
      if (op == io::FsOp::kPwrite && chance(50)) {
        fs.tear_nth_pwrite(1 + rng() % 3, rng() % 12, EIO);
      } else {
        fs.fail_nth(op, 1 + rng() % 4, EIO);
      }
    }
    // Stage, precommit, commit, publish, forget; a failure or a random kill at any step
    // crashes the process.
    std::string rows;
    bool ok = true;
    for (int i = 0, n = static_cast<int>(rng() % 3); ok && i < n; ++i) {
      std::string part = fmt::format("e{}s{}r{},{}\n", epoch, step, i, rng() % 1000);
      ok = f->stage(epoch, part).has_value();
      rows += part;
    }
    verify_prefix();
    if (!ok || chance(5)) {
      crash_and_recover();
      continue;
    }
    auto entry = f->precommit(epoch, now);
    if (!entry || chance(5)) {
      crash_and_recover();
      continue;
    }
    manifest = *entry;  // the commit: CheckpointStore's MANIFEST rename
    committed_rows += rows;
    ++commits;
    if (chance(5)) {
      crash_and_recover();
      continue;
    }
    if (!f->publish(*entry) || chance(5)) {
      crash_and_recover();
      continue;
    }
    REQUIRE(all_rows(tmp.path, header) == committed_rows);
    if (!f->forget_before(epoch)) {
      crash_and_recover();
      continue;
    }
    fs.clear_faults();
    ++epoch;
  }
  crash_and_recover();
  CHECK(crashes > 50);
  CHECK(commits > 150);
  CHECK(sealed.size() > 5);
  MESSAGE("crashes ", crashes, ", commits ", commits, ", rotated files ", sealed.size());
}
