#include "freshet/checkpoint/store.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "freshet/io/fault_injecting_file_system.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::checkpoint;
using freshet::testing::TempDir;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void spill(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

std::unique_ptr<CheckpointStore> open_store(io::FileSystem& fs, const std::string& dir) {
  auto s = CheckpointStore::open(fs, dir);
  REQUIRE_MESSAGE(s.has_value(), s.error().message);
  return std::move(*s);
}

// Writes epoch `epoch`'s state files through `store` and returns the manifest to commit.
Result<Manifest> prepare(CheckpointStore& store, uint64_t epoch) {
  Manifest m;
  m.epoch = epoch;
  m.created_ms = 1000 * static_cast<int64_t>(epoch);
  m.shard_count = 2;
  m.queries.push_back(QueryEntry{"q", 99, {{"t", PartitionId(0), Offset(10 * epoch)}}});
  for (uint32_t shard = 0; shard < 2; ++shard) {
    std::string state = fmt::format("state of shard {} at epoch {}", shard, epoch);
    FRESHET_ASSIGN_OR_RETURN(
        StateFileEntry e,
        store.write_state_file(epoch, ShardId(shard), fmt::format("shard-{}.state", shard), state));
    m.state_files.push_back(e);
  }
  return m;
}

Manifest prepared(CheckpointStore& store, uint64_t epoch) {
  auto m = prepare(store, epoch);
  REQUIRE_MESSAGE(m.has_value(), m.error().message);
  return *m;
}

std::optional<Manifest> latest(CheckpointStore& store) {
  auto m = store.latest();
  REQUIRE_MESSAGE(m.has_value(), m.error().message);
  return *m;
}

constexpr io::FsOp kAllOps[] = {io::FsOp::kOpen,      io::FsOp::kPwrite,    io::FsOp::kPread,
                                io::FsOp::kFsync,     io::FsOp::kFdatasync, io::FsOp::kFtruncate,
                                io::FsOp::kFileSize,  io::FsOp::kRename,    io::FsOp::kUnlink,
                                io::FsOp::kRemoveAll, io::FsOp::kMkdirs,    io::FsOp::kFsyncDir,
                                io::FsOp::kListDir,   io::FsOp::kExists};

}  // namespace

TEST_CASE("a committed epoch is what latest returns, with its state files intact") {
  TempDir tmp;
  auto store = open_store(io::posix_file_system(), tmp.file("checkpoints"));
  CHECK(!latest(*store).has_value());

  Manifest m1 = prepared(*store, 1);
  REQUIRE(store->commit(m1).has_value());
  Manifest m2 = prepared(*store, 2);
  REQUIRE(store->commit(m2).has_value());

  CHECK(latest(*store) == m2);
  CHECK(*store->committed_epochs() == std::vector<uint64_t>{1, 2});
  CHECK(slurp(tmp.file("checkpoints/CURRENT")) == "2\n");
  CHECK(*store->current() == std::optional<uint64_t>(2));
  CHECK(slurp(tmp.file("checkpoints/2/MANIFEST")) == encode(m2));
  CHECK(!io::posix_file_system().exists(tmp.file("checkpoints/2/MANIFEST.tmp")).value());
  CHECK(*store->read_state_file(m2, ShardId(1)) == "state of shard 1 at epoch 2");
  CHECK(*store->read_state_file(m1, ShardId(0)) == "state of shard 0 at epoch 1");
  CHECK(store->read_state_file(m2, ShardId(5)).error().code == ErrorCode::kNotFound);
}

TEST_CASE("a damaged state file is reported, not returned") {
  TempDir tmp;
  auto store = open_store(io::posix_file_system(), tmp.file("checkpoints"));
  Manifest m = prepared(*store, 3);
  REQUIRE(store->commit(m).has_value());
  const std::string path = tmp.file("checkpoints/3/shard-0.state");
  std::string bytes = slurp(path);

  SUBCASE("a flipped byte") {
    bytes[4] ^= 0x20;
    spill(path, bytes);
    auto r = store->read_state_file(m, ShardId(0));
    REQUIRE(!r.has_value());
    CHECK(r.error().code == ErrorCode::kCorruption);
  }
  SUBCASE("a torn tail") {
    spill(path, bytes.substr(0, bytes.size() - 1));
    auto r = store->read_state_file(m, ShardId(0));
    REQUIRE(!r.has_value());
    CHECK(r.error().code == ErrorCode::kCorruption);
  }
  SUBCASE("a missing file") {
    REQUIRE(io::posix_file_system().unlink(path).has_value());
    CHECK(store->read_state_file(m, ShardId(0)).error().code == ErrorCode::kNotFound);
  }
}

TEST_CASE("epochs without a valid MANIFEST are incomplete: skipped, then removed") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  auto store = open_store(fs, tmp.file("checkpoints"));
  Manifest m1 = prepared(*store, 1);
  REQUIRE(store->commit(m1).has_value());
  Manifest m2 = prepared(*store, 2);
  REQUIRE(store->commit(m2).has_value());
  // Epoch 3 wrote its state and a MANIFEST.tmp but never renamed it.
  Manifest m3 = prepared(*store, 3);
  spill(tmp.file("checkpoints/3/MANIFEST.tmp"), encode(m3));
  // Epoch 4 only got as far as its directory.
  REQUIRE(store->epoch_dir(4).has_value());
  // Epoch 2's MANIFEST was damaged on disk: latest falls back to epoch 1.
  std::string text = slurp(tmp.file("checkpoints/2/MANIFEST"));
  text[text.size() / 2] ^= 1;
  spill(tmp.file("checkpoints/2/MANIFEST"), text);
  // Junk that is not an epoch is left alone.
  REQUIRE(fs.mkdirs(tmp.file("checkpoints/notes")).has_value());

  CHECK(latest(*store) == m1);
  CHECK(*store->committed_epochs() == std::vector<uint64_t>{1});
  REQUIRE(store->remove_incomplete().has_value());
  CHECK(*fs.list_dir(tmp.file("checkpoints")) == std::vector<std::string>{"1", "CURRENT", "notes"});
  CHECK(latest(*store) == m1);
}

TEST_CASE("remove_epoch deletes one epoch and keeps the others") {
  TempDir tmp;
  auto store = open_store(io::posix_file_system(), tmp.file("checkpoints"));
  for (uint64_t e = 1; e <= 3; ++e) REQUIRE(store->commit(prepared(*store, e)).has_value());
  REQUIRE(store->remove_epoch(1).has_value());
  REQUIRE(store->remove_epoch(7).has_value());  // missing: nothing to do
  CHECK(*store->committed_epochs() == std::vector<uint64_t>{2, 3});
  CHECK(!io::posix_file_system().exists(tmp.file("checkpoints/1")).value());
  CHECK(latest(*store)->epoch == 3);
}

TEST_CASE("a crash between the MANIFEST rename and CURRENT still recovers the new epoch") {
  TempDir tmp;
  io::FaultInjectingFileSystem fs(io::posix_file_system());
  auto store = open_store(fs, tmp.file("checkpoints"));
  REQUIRE(store->commit(prepared(*store, 1)).has_value());
  Manifest m2 = prepared(*store, 2);
  fs.fail_nth(io::FsOp::kRename, 2, EIO);  // the first rename is MANIFEST's, the second CURRENT's
  auto r = store->commit(m2);
  REQUIRE(!r.has_value());
  CHECK(r.error().message.find("epoch 2 is committed") != std::string::npos);
  fs.clear_faults();
  auto fresh = open_store(io::posix_file_system(), tmp.file("checkpoints"));
  CHECK(latest(*fresh) == m2);
  CHECK(*fresh->current() == std::optional<uint64_t>(1));  // only a hint
}

TEST_CASE("a commit cut short at any file-system call leaves epoch n-1 or n, never garbage") {
  // Learn how many calls of each kind one commit makes, then fail each of them in turn. A
  // failed call does nothing and the commit stops there, which is what a kill -9 at that
  // point leaves on disk.
  std::array<uint64_t, io::kFsOpCount> counts{};
  {
    TempDir tmp;
    io::FaultInjectingFileSystem fs(io::posix_file_system());
    auto store = open_store(fs, tmp.file("checkpoints"));
    REQUIRE(store->commit(prepared(*store, 1)).has_value());
    std::array<uint64_t, io::kFsOpCount> before{};
    for (io::FsOp op : kAllOps) before[static_cast<size_t>(op)] = fs.calls(op);
    REQUIRE(store->commit(prepared(*store, 2)).has_value());
    for (io::FsOp op : kAllOps) {
      counts[static_cast<size_t>(op)] = fs.calls(op) - before[static_cast<size_t>(op)];
    }
  }
  int cases = 0;
  for (io::FsOp op : kAllOps) {
    for (uint64_t n = 1; n <= counts[static_cast<size_t>(op)]; ++n) {
      CAPTURE(io::to_string(op));
      CAPTURE(n);
      ++cases;
      TempDir tmp;
      io::FaultInjectingFileSystem fs(io::posix_file_system());
      auto store = open_store(fs, tmp.file("checkpoints"));
      Manifest m1 = prepared(*store, 1);
      REQUIRE(store->commit(m1).has_value());
      fs.fail_nth(op, n, EIO);
      auto m2 = prepare(*store, 2);
      const bool committed = m2.has_value() && store->commit(*m2).has_value();
      fs.clear_faults();
      const bool renamed =
          io::posix_file_system().exists(tmp.file("checkpoints/2/MANIFEST")).value();

      // Recovery, as the server does it: a fresh store over the same directory.
      auto fresh = open_store(io::posix_file_system(), tmp.file("checkpoints"));
      std::optional<Manifest> got = latest(*fresh);
      REQUIRE(got.has_value());
      if (committed || renamed) {
        CHECK(got->epoch == 2);
      } else {
        CHECK(*got == m1);
      }
      if (got->epoch == 2) {
        CHECK(*got == *m2);
        CHECK(fresh->read_state_file(*got, ShardId(1)).has_value());
      }
      REQUIRE(fresh->remove_incomplete().has_value());
      CHECK(latest(*fresh) == got);
      // The pipeline then checkpoints again, reusing the epoch number if it was lost.
      Manifest again = prepared(*fresh, 2);
      REQUIRE(fresh->commit(again).has_value());
      CHECK(latest(*fresh) == again);
    }
  }
  CHECK(cases >= 10);
}

TEST_CASE("a torn MANIFEST never becomes the latest epoch") {
  for (size_t keep : {size_t{0}, size_t{1}, size_t{20}, size_t{100}}) {
    CAPTURE(keep);
    for (int err : {EIO, 0}) {
      // err == 0: the write claims success, as when a power cut drops unsynced data and the
      // rename reached the disk anyway.
      CAPTURE(err);
      TempDir tmp;
      io::FaultInjectingFileSystem fs(io::posix_file_system());
      auto store = open_store(fs, tmp.file("checkpoints"));
      Manifest m1 = prepared(*store, 1);
      REQUIRE(store->commit(m1).has_value());
      Manifest m2 = prepared(*store, 2);
      fs.tear_nth_pwrite(1, keep, err);
      (void)store->commit(m2);
      fs.clear_faults();
      auto fresh = open_store(io::posix_file_system(), tmp.file("checkpoints"));
      CHECK(latest(*fresh) == m1);
      CHECK(*fresh->committed_epochs() == std::vector<uint64_t>{1});
    }
  }
}
