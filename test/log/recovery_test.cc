// Crash recovery: torn writes, bit flips, lost unsynced tails, interrupted rolls, and
// damaged indexes, each simulated on the files a crash would leave behind.

#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "freshet/io/fault_injecting_file_system.h"
#include "freshet/log/partition_log.h"
#include "freshet/log/segment_preparer.h"
#include "log_test_util.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::log;
using namespace freshet::log::testing;
using freshet::testing::TempDir;

namespace {

struct Built {
  std::vector<size_t> positions;  // byte position of each batch in segment 0
  std::vector<size_t> sizes;
  size_t used = 0;
};

// Appends `batches` batches of 3 records to a fresh partition in `dir` and "crashes" (no
// close: the file stays preallocated, nothing is trimmed).
Built build(io::FileSystem& fs, const std::string& dir, int batches, PartitionOptions opts) {
  Built b;
  auto log = PartitionLog::open(fs, dir, opts);
  REQUIRE(log.has_value());
  for (int i = 0; i < batches; ++i) {
    std::string batch = make_batch(i * 3, 3);
    b.positions.push_back(b.used);
    b.sizes.push_back(batch.size());
    b.used += batch.size();
    REQUIRE((*log)->append(batch).has_value());
  }
  return b;
}

PartitionOptions small(uint32_t interval) {
  PartitionOptions o;
  o.segment_bytes = 64 << 10;
  o.index_interval_bytes = interval;
  return o;
}

}  // namespace

TEST_CASE("a torn write at every byte position of the last batch is truncated and reported") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  const int n = 20;
  for (uint32_t interval : {256u, 4096u}) {
    CAPTURE(interval);
    for (size_t cut = 0;; ++cut) {
      const std::string dir = fmt::format("{}/i{}-c{}", tmp.path, interval, cut);
      Built b = build(fs, dir, n, small(interval));
      const size_t last = b.positions.back(), size = b.sizes.back();
      if (cut >= size) break;
      CAPTURE(cut);
      const std::string path = seg(dir, 0);
      const std::string original = read_file(path);
      // Only the first `cut` bytes of the last batch reached the disk.
      write_at(path, last + cut, std::string(size - cut, '\0'));
      size_t nonzero = 0;
      for (size_t i = 0; i < cut; ++i) nonzero += original[last + i] != 0;
      // Trailing zero bytes of the batch (an empty header count) read back the same torn
      // or not: then the batch is whole.
      const bool whole = original.find_first_not_of('\0', last + cut) >= last + size;
      auto log = PartitionLog::open(fs, dir, small(interval));
      REQUIRE(log.has_value());
      REQUIRE_FALSE((*log)->failed());
      if (whole) {
        CHECK((*log)->end_offset() == Offset(3 * n));
        continue;
      }
      CHECK((*log)->end_offset() == Offset(3 * (n - 1)));
      CHECK((*log)->bytes_dropped_at_recovery() <= cut);
      if (nonzero > 0) CHECK((*log)->bytes_dropped_at_recovery() > 0);
      CHECK(read_all(**log).size() == size_t(3 * (n - 1)));
      std::string again = make_batch(3 * (n - 1), 3);
      CHECK((*log)->append(again).value() == Offset(3 * (n - 1)));
      CHECK(read_all(**log).size() == size_t(3 * n));
    }
  }
}

TEST_CASE("a bit flip anywhere in the last batch is a torn tail: truncated, not failed") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  const int n = 6;
  Built shape = build(fs, tmp.path + "/shape", n, small(4096));
  for (size_t i = 0; i < shape.sizes.back(); ++i) {
    CAPTURE(i);
    const std::string dir = fmt::format("{}/f{}", tmp.path, i);
    Built b = build(fs, dir, n, small(4096));
    const std::string path = seg(dir, 0);
    std::string byte = read_file(path).substr(b.positions.back() + i, 1);
    byte[0] = static_cast<char>(byte[0] ^ (1 << (i % 8)));
    write_at(path, b.positions.back() + i, byte);
    auto log = PartitionLog::open(fs, dir, small(4096));
    REQUIRE(log.has_value());
    REQUIRE_FALSE((*log)->failed());
    CHECK((*log)->end_offset() == Offset(3 * (n - 1)));
    CHECK((*log)->bytes_dropped_at_recovery() > 0);
    CHECK(read_all(**log).size() == size_t(3 * (n - 1)));
  }
}

TEST_CASE("a bit flip in an earlier batch fails the partition and truncates nothing") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  const int n = 6;
  Built shape = build(fs, tmp.path + "/shape", n, small(4096));
  const size_t victim = n - 2;  // the batch before the last
  for (size_t i = 0; i < shape.sizes[victim]; ++i) {
    CAPTURE(i);
    const std::string dir = fmt::format("{}/f{}", tmp.path, i);
    Built b = build(fs, dir, n, small(4096));
    const std::string path = seg(dir, 0);
    std::string byte = read_file(path).substr(b.positions[victim] + i, 1);
    byte[0] = static_cast<char>(byte[0] ^ (1 << (i % 8)));
    write_at(path, b.positions[victim] + i, byte);
    const std::string damaged = read_file(path);
    auto log = PartitionLog::open(fs, dir, small(4096));
    REQUIRE(log.has_value());
    REQUIRE((*log)->failed());
    CHECK((*log)->failure().code == ErrorCode::kCorruption);
    CHECK((*log)->failure().message.find(fmt::format("{} is corrupt at byte {}", path,
                                                     b.positions[victim])) != std::string::npos);
    CHECK(read_file(path) == damaged);  // not a byte changed
    PartitionLog::Reader r(**log);
    CHECK_FALSE(r.next().has_value());
  }
}

TEST_CASE("full validation finds a flip in a sealed segment that the index would skip") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  PartitionOptions o;
  o.segment_bytes = 4096;
  o.index_interval_bytes = 256;
  {
    auto log = PartitionLog::open(fs, tmp.path, o);
    REQUIRE(log.has_value());
    for (int i = 0; i < 100; ++i) {
      std::string b = make_batch(i * 3, 3);
      REQUIRE((*log)->append(b).has_value());
    }
    REQUIRE((*log)->close().has_value());
  }
  // Flip a value byte of the first batch of the first (sealed) segment: it lies before the
  // segment's last index entry, so only full validation reads it at open.
  const std::string path = seg(tmp.path, 0);
  std::string byte = read_file(path).substr(80, 1);
  byte[0] = static_cast<char>(byte[0] ^ 1);
  write_at(path, 80, byte);
  {
    auto log = PartitionLog::open(fs, tmp.path, o);
    REQUIRE(log.has_value());
    CHECK_FALSE((*log)->failed());
    // Still never served: the reader checks the CRC of every byte that was on disk at open.
    PartitionLog::Reader r(**log);
    CHECK_FALSE(r.next().has_value());
  }
  o.validate_sealed_segments = true;
  auto log = PartitionLog::open(fs, tmp.path, o);
  REQUIRE(log.has_value());
  REQUIRE((*log)->failed());
  CHECK((*log)->failure().message.find(path + " is corrupt at byte 0") != std::string::npos);
}

TEST_CASE("a crash between append and fsync keeps every offset below the durable end") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  const uint32_t seed = test_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int variant = 0; variant < 3; ++variant) {
    CAPTURE(variant);
    const std::string dir = fmt::format("{}/v{}", tmp.path, variant);
    PartitionOptions o = small(256);
    o.durable_on_append = false;
    Offset durable{0};
    size_t synced_bytes = 0, used = 0;
    {
      auto log = PartitionLog::open(fs, dir, o);
      REQUIRE(log.has_value());
      for (int i = 0; i < 100; ++i) {
        std::string b = make_batch(i * 3, 3);
        used += b.size();
        REQUIRE((*log)->append(b).has_value());
        if (i == 24) {
          auto req = (*log)->prepare_sync();
          for (size_t k = 0; k < req.fds.size(); ++k) REQUIRE(fs.fdatasync(req.fds[k]).has_value());
          (*log)->complete_sync(req.end);
          durable = (*log)->durable_end();
          synced_bytes = used;
        }
      }
    }
    // What a crash may do to bytes after the durable end: lose them (zeros), leave garbage,
    // or lose a page in the middle while later ones reached the disk.
    const std::string path = seg(dir, 0);
    std::string tail(used - synced_bytes, '\0');
    if (variant == 1)
      for (auto& c : tail) c = static_cast<char>(rng());
    if (variant == 2) {
      // One whole page lost in the middle; later pages reached the disk.
      tail = read_file(path).substr(synced_bytes, used - synced_bytes);
      REQUIRE(synced_bytes <= 4096);
      REQUIRE(used >= 8192);
      std::fill(tail.begin() + (4096 - synced_bytes), tail.begin() + (8192 - synced_bytes), '\0');
    }
    write_at(path, synced_bytes, tail);
    auto log = PartitionLog::open(fs, dir, o);
    REQUIRE(log.has_value());
    REQUIRE_FALSE((*log)->failed());
    CHECK((*log)->end_offset() >= durable);
    auto values = read_all(**log);
    REQUIRE(values.size() >= size_t(durable.value()));
    for (int64_t i = 0; i < durable.value(); ++i)
      CHECK(values[static_cast<size_t>(i)] == "value-" + std::to_string(i));
    std::string b = make_batch(0, 1);
    const Offset end = (*log)->end_offset();
    CHECK((*log)->append(b).value() == end);
  }
}

TEST_CASE("a crash with a prepared next segment under its temporary name reopens cleanly") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  SegmentPreparer preparer;
  PartitionOptions o = small(512);
  o.preparer = &preparer;
  int appended = 0;
  {
    auto log = PartitionLog::open(fs, tmp.path, o);
    REQUIRE(log.has_value());
    while ((*log)->size_bytes() < (40u << 10)) {
      std::string b = make_batch(appended, 3);
      REQUIRE((*log)->append(b).has_value());
      appended += 3;
    }
  }  // the destructor waits for the preparer's job: next.log.tmp now exists
  CHECK(fs.exists(tmp.path + "/next.log.tmp").value());
  CHECK(fs.exists(tmp.path + "/next.index.tmp").value());
  auto log = PartitionLog::open(fs, tmp.path, small(512));
  REQUIRE(log.has_value());
  CHECK_FALSE(fs.exists(tmp.path + "/next.log.tmp").value());
  CHECK_FALSE(fs.exists(tmp.path + "/next.timeindex.tmp").value());
  CHECK((*log)->end_offset() == Offset(appended));
  std::string b = make_batch(appended, 3);
  CHECK((*log)->append(b).value() == Offset(appended));
  CHECK(read_all(**log).size() == size_t(appended + 3));
}

TEST_CASE("a crash after creating the next segment, before trimming the old one, reopens") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  for (int64_t next_base : {60, 75}) {
    CAPTURE(next_base);
    const std::string dir = fmt::format("{}/n{}", tmp.path, next_base);
    build(fs, dir, 20, small(256));  // offsets 0..59, untrimmed, indexed
    // The next segment exists (empty, preallocated) and the old index is gone. Base 60
    // follows the old segment; base 75 does not (the old one lost an unsynced tail).
    {
      auto fd = fs.open(seg(dir, next_base), O_RDWR | O_CREAT, 0644);
      REQUIRE(fd.has_value());
      REQUIRE(fs.fallocate(fd->get(), 0, 64 << 10).has_value());
    }
    REQUIRE(fs.unlink(seg(dir, 0, ".index")).has_value());
    auto log = PartitionLog::open(fs, dir, small(256));
    REQUIRE(log.has_value());
    REQUIRE_FALSE((*log)->failed());
    CHECK((*log)->end_offset() == Offset(60));
    CHECK((*log)->stats().index_rebuilds >= 1);
    std::string b = make_batch(60, 3);
    CHECK((*log)->append(b).value() == Offset(60));
    CHECK(read_all(**log).size() == 63u);
    if (next_base == 60) {
      CHECK((*log)->segment_count() == 2);
      // The old segment was sealed: trimmed to its batches.
      CHECK(read_file(seg(dir, 0)).size() < (64u << 10));
    } else {
      CHECK((*log)->segment_count() == 1);
      CHECK_FALSE(fs.exists(seg(dir, next_base)).value());
    }
  }
}

TEST_CASE("a next segment with data that does not follow the previous one fails the partition") {
  TempDir tmp;
  auto& fs = io::posix_file_system();
  build(fs, tmp.path, 5, small(256));  // offsets 0..14
  {
    auto fd = fs.open(seg(tmp.path, 20), O_RDWR | O_CREAT, 0644);
    REQUIRE(fd.has_value());
    std::string b = make_batch(20, 2);
    set_base_offset(b.data(), Offset(20));
    REQUIRE(fs.pwrite(fd->get(), b.data(), b.size(), 0).has_value());
  }
  auto log = PartitionLog::open(fs, tmp.path, small(256));
  REQUIRE(log.has_value());
  REQUIRE((*log)->failed());
  CHECK((*log)->failure().message.find("starts at offset 20 but the previous one ends at 15") !=
        std::string::npos);
}

TEST_CASE("a failed fallocate at roll time is an append error, and the log stays usable") {
  TempDir tmp;
  io::FaultInjectingFileSystem fs(io::posix_file_system());
  PartitionOptions o;
  o.segment_bytes = 4096;
  auto log = PartitionLog::open(fs, tmp.path, o);
  REQUIRE(log.has_value());
  int next = 0;
  while ((*log)->segment_count() == 1) {
    std::string b = make_batch(next, 3);
    REQUIRE((*log)->append(b).has_value());
    next += 3;
  }
  // Fill the second segment, then make the third one's preallocation fail.
  const Offset before_third = (*log)->end_offset();
  (void)before_third;
  fs.fail_nth(io::FsOp::kFallocate, 1, ENOSPC);
  bool failed_once = false;
  for (int i = 0; i < 200 && !failed_once; ++i) {
    std::string b = make_batch(next, 3);
    auto r = (*log)->append(b);
    if (!r) {
      failed_once = true;
      CHECK(r.error().message.find("No space left") != std::string::npos);
    } else {
      next += 3;
    }
  }
  CHECK(failed_once);
  std::string b = make_batch(next, 3);
  auto r = (*log)->append(b);
  REQUIRE_MESSAGE(r.has_value(), r.error().message);
  CHECK(*r == Offset(next));
}
