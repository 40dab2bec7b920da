#include "freshet/log/partition_log.h"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "freshet/io/file_system.h"
#include "log_test_util.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::log;

using freshet::testing::TempDir;

using freshet::log::testing::make_batch;
using freshet::log::testing::read_all;

TEST_CASE("appends get consecutive offsets and read back in order across segment rolls") {
  TempDir dir;
  auto& fs = io::posix_file_system();
  PartitionOptions opts;
  opts.segment_bytes = 4096;  // below the config minimum on purpose: many rolls
  auto log = PartitionLog::open(fs, dir.path, opts);
  REQUIRE(log.has_value());
  int next = 0;
  for (int i = 0; i < 100; ++i) {
    std::string b = make_batch(next, 7);
    auto base = (*log)->append(b);
    REQUIRE(base.has_value());
    CHECK(*base == Offset(next));
    next += 7;
  }
  CHECK((*log)->end_offset() == Offset(700));
  auto values = read_all(**log);
  REQUIRE(values.size() == 700);
  for (int i = 0; i < 700; ++i)
    CHECK(values[static_cast<size_t>(i)] == "value-" + std::to_string(i));
  auto files = fs.list_dir(dir.path);
  REQUIRE(files.has_value());
  CHECK(files->size() >= 3);  // it rolled
  CHECK(std::find(files->begin(), files->end(), "00000000000000000000.log") != files->end());
}

TEST_CASE("a reopened partition continues after its last batch") {
  TempDir dir;
  auto& fs = io::posix_file_system();
  PartitionOptions opts;
  opts.segment_bytes = 8192;
  {
    auto log = PartitionLog::open(fs, dir.path, opts);
    REQUIRE(log.has_value());
    for (int i = 0; i < 30; ++i) {
      std::string b = make_batch(i * 3, 3);
      REQUIRE((*log)->append(b).has_value());
    }
    REQUIRE((*log)->close().has_value());
  }
  auto log = PartitionLog::open(fs, dir.path, opts);
  REQUIRE(log.has_value());
  CHECK((*log)->end_offset() == Offset(90));
  CHECK((*log)->bytes_dropped_at_recovery() == 0);
  std::string b = make_batch(90, 2);
  CHECK((*log)->append(b).value() == Offset(90));
  CHECK(read_all(**log).size() == 92);
}

TEST_CASE("a torn last batch is truncated at every byte position and reported") {
  TempDir dir;
  auto& fs = io::posix_file_system();
  PartitionOptions opts;
  opts.segment_bytes = 1 << 16;
  std::string first = make_batch(0, 4);
  std::string second = make_batch(4, 4);
  for (size_t cut = 1; cut < second.size(); cut += 3) {
    const std::string path = dir.path + "/p" + std::to_string(cut);
    {
      auto log = PartitionLog::open(fs, path, opts);
      REQUIRE(log.has_value());
      std::string a = first;
      REQUIRE((*log)->append(a).has_value());
    }
    // Simulate a crash mid-write: only `cut` bytes of the second batch reached the file.
    auto fd = fs.open(path + "/00000000000000000000.log", O_RDWR, 0);
    REQUIRE(fd.has_value());
    std::string torn = second;
    set_base_offset(torn.data(), Offset(4));
    REQUIRE(fs.pwrite(fd->get(), torn.data(), cut, first.size()).has_value());
    auto log = PartitionLog::open(fs, path, opts);
    REQUIRE(log.has_value());
    CHECK((*log)->end_offset() == Offset(4));
    // The first 8 bytes of this batch are its base offset 4: zeros up to the last one, and
    // a tail of zeros is indistinguishable from nothing written.
    if (cut >= 8) CHECK((*log)->bytes_dropped_at_recovery() > 0);
    CHECK(read_all(**log).size() == 4);
    std::string again = second;
    CHECK((*log)->append(again).value() == Offset(4));
  }
}

TEST_CASE("corruption in a sealed segment marks the partition failed instead of truncating") {
  TempDir dir;
  auto& fs = io::posix_file_system();
  PartitionOptions opts;
  opts.segment_bytes = 2048;
  {
    auto log = PartitionLog::open(fs, dir.path, opts);
    REQUIRE(log.has_value());
    for (int i = 0; i < 40; ++i) {
      std::string b = make_batch(i * 5, 5);
      REQUIRE((*log)->append(b).has_value());
    }
    REQUIRE((*log)->close().has_value());
  }
  auto fd = fs.open(dir.path + "/00000000000000000000.log", O_RDWR, 0);
  REQUIRE(fd.has_value());
  char c = 0;
  REQUIRE(fs.pread(fd->get(), &c, 1, 100).has_value());
  c = static_cast<char>(c ^ 0x10);
  REQUIRE(fs.pwrite(fd->get(), &c, 1, 100).has_value());
  auto size_before = fs.file_size(fd->get());
  auto log = PartitionLog::open(fs, dir.path, opts);
  REQUIRE(log.has_value());
  REQUIRE((*log)->failed());
  CHECK((*log)->failure().code == ErrorCode::kCorruption);
  CHECK((*log)->failure().message.find("marked failed") != std::string::npos);
  CHECK((*log)->failure().message.find("00000000000000000000.log is corrupt at byte") !=
        std::string::npos);
  // Never served, never truncated.
  PartitionLog::Reader r(**log);
  CHECK_FALSE(r.next().has_value());
  std::string b = make_batch(0, 1);
  CHECK_FALSE((*log)->append(b).has_value());
  CHECK(fs.file_size(fd->get()).value() == size_before.value());
}

TEST_CASE("readers see only the durable end under an fsync policy") {
  TempDir dir;
  auto& fs = io::posix_file_system();
  PartitionOptions opts;
  opts.segment_bytes = 1 << 16;
  opts.durable_on_append = false;
  auto log = PartitionLog::open(fs, dir.path, opts);
  REQUIRE(log.has_value());
  std::string b = make_batch(0, 3);
  REQUIRE((*log)->append(b).has_value());
  CHECK(read_all(**log).empty());
  CHECK((*log)->has_unsynced());
  auto req = (*log)->prepare_sync();
  CHECK(req.end == Offset(3));
  for (int fd : req.fds) REQUIRE(fs.fdatasync(fd).has_value());
  (*log)->complete_sync(req.end);
  CHECK_FALSE((*log)->has_unsynced());
  CHECK(read_all(**log).size() == 3);
}

TEST_CASE("a batch that rotted on disk before open is reported as corruption when read") {
  TempDir dir;
  auto& fs = io::posix_file_system();
  PartitionOptions opts;
  opts.segment_bytes = 1 << 16;
  opts.index_interval_bytes = 64;  // every batch indexed: open checks only the last one
  std::vector<size_t> positions;
  size_t end = 0;
  {
    auto log = PartitionLog::open(fs, dir.path, opts);
    REQUIRE(log.has_value());
    for (int i = 0; i < 20; ++i) {
      std::string b = make_batch(i * 3, 3);
      positions.push_back(end);
      end += b.size();
      REQUIRE((*log)->append(b).has_value());
    }
    REQUIRE((*log)->close().has_value());
  }
  // A value byte of the third batch, which open() trusts through the index after it.
  const std::string path = dir.path + "/00000000000000000000.log";
  auto fd = fs.open(path, O_RDWR, 0);
  REQUIRE(fd.has_value());
  char c = 0;
  REQUIRE(fs.pread(fd->get(), &c, 1, positions[2] + 70).has_value());
  c = static_cast<char>(c ^ 0x04);
  REQUIRE(fs.pwrite(fd->get(), &c, 1, positions[2] + 70).has_value());

  auto log = PartitionLog::open(fs, dir.path, opts);
  REQUIRE(log.has_value());
  REQUIRE_FALSE((*log)->failed());
  for (int i = 20; i < 22; ++i) {  // appends after open do not make the old bytes trusted
    std::string b = make_batch(i * 3, 3);
    REQUIRE((*log)->append(b).has_value());
  }
  PartitionLog::Reader r(**log);
  for (int i = 0; i < 2; ++i) {
    auto b = r.next();
    REQUIRE(b.has_value());
    REQUIRE(b->has_value());
  }
  auto bad = r.next();
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == ErrorCode::kCorruption);
  CHECK(bad.error().message.find("crc mismatch") != std::string::npos);
  CHECK(bad.error().message.find(fmt::format("{} at byte {}", path, positions[2])) !=
        std::string::npos);
  // The batches around it are still served, the recovered ones and the appended ones.
  PartitionLog::Reader after(**log);
  REQUIRE(after.seek(Offset(9)).has_value());
  int records = 0;
  for (;;) {
    auto b = after.next();
    REQUIRE(b.has_value());
    if (!*b) break;
    auto it = (*b)->records();
    RecordView rec;
    while (it.next(rec)) {
      CHECK(*rec.value == "value-" + std::to_string(9 + records));
      ++records;
    }
  }
  CHECK(records == 66 - 9);
}

TEST_CASE("batches appended after open read back after the recovered ones, across rolls") {
  TempDir dir;
  auto& fs = io::posix_file_system();
  PartitionOptions opts;
  opts.segment_bytes = 2048;  // many rolls, on both sides of the reopen
  {
    auto log = PartitionLog::open(fs, dir.path, opts);
    REQUIRE(log.has_value());
    for (int i = 0; i < 30; ++i) {
      std::string b = make_batch(i * 4, 4);
      REQUIRE((*log)->append(b).has_value());
    }
    REQUIRE((*log)->close().has_value());
  }
  auto log = PartitionLog::open(fs, dir.path, opts);
  REQUIRE(log.has_value());
  const size_t segments_at_open = (*log)->segment_count();
  // A reader that caught up before the appends sees them as they come.
  PartitionLog::Reader tail(**log);
  REQUIRE(tail.seek((*log)->end_offset()).has_value());
  CHECK_FALSE(tail.next().value().has_value());
  for (int i = 30; i < 60; ++i) {
    std::string b = make_batch(i * 4, 4);
    REQUIRE((*log)->append(b).value() == Offset(i * 4));
    auto got = tail.next();
    REQUIRE(got.has_value());
    REQUIRE(got->has_value());
    CHECK((*got)->base_offset() == Offset(i * 4));
    CHECK((*got)->record_count() == 4);
  }
  CHECK((*log)->segment_count() > segments_at_open);
  auto values = read_all(**log);
  REQUIRE(values.size() == 240);
  for (int i = 0; i < 240; ++i)
    CHECK(values[static_cast<size_t>(i)] == "value-" + std::to_string(i));
}

TEST_CASE("the active segment's file ends at its data, and a full-size one still recovers") {
  TempDir dir;
  auto& fs = io::posix_file_system();
  PartitionOptions opts;
  opts.segment_bytes = 1 << 20;
  const std::string seg = dir.path + "/00000000000000000000.log";
  size_t bytes = 0;
  {
    auto log = PartitionLog::open(fs, dir.path, opts);
    REQUIRE(log.has_value());
    for (int i = 0; i < 10; ++i) {
      std::string b = make_batch(i * 3, 3);
      bytes += b.size();
      REQUIRE((*log)->append(b).has_value());
    }
    // Read-ahead behind a reader stops at the data instead of zero-filling pages past it.
    auto fd = fs.open(seg, O_RDONLY, 0);
    REQUIRE(fd.has_value());
    CHECK(fs.file_size(fd->get()).value() == bytes);
    CHECK(read_all(**log).size() == 30);
  }
  // A data dir from before: the segment is a full-size file with a zero tail.
  {
    auto fd = fs.open(seg, O_RDWR, 0);
    REQUIRE(fd.has_value());
    REQUIRE(fs.fallocate(fd->get(), 0, opts.segment_bytes).has_value());
  }
  auto log = PartitionLog::open(fs, dir.path, opts);
  REQUIRE(log.has_value());
  CHECK((*log)->end_offset() == Offset(30));
  CHECK((*log)->bytes_dropped_at_recovery() == 0);
  std::string b = make_batch(30, 3);
  CHECK((*log)->append(b).value() == Offset(30));
  CHECK(read_all(**log).size() == 33);
}
