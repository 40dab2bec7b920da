#include "freshet/io/file_system.h"

#include <doctest/doctest.h>
#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "freshet/io/fault_injecting_file_system.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::io;
using freshet::testing::TempDir;

namespace {
std::string read_all(FileSystem& fs, const std::string& path) {
  auto fd = fs.open(path, O_RDONLY);
  REQUIRE(fd.has_value());
  auto size = fs.file_size(fd->get());
  REQUIRE(size.has_value());
  std::string out(*size, '\0');
  auto n = fs.pread(fd->get(), out.data(), out.size(), 0);
  REQUIRE(n.has_value());
  out.resize(*n);
  return out;
}
}  // namespace

TEST_CASE("bytes written through a MappedRegion and synced are visible through pread") {
  TempDir dir;
  FileSystem& fs = posix_file_system();
  auto fd = fs.open(dir.file("seg.log"), O_RDWR | O_CREAT);
  REQUIRE(fd.has_value());
  REQUIRE(fs.fallocate(fd->get(), 0, 8192).has_value());
  auto region = fs.map(fd->get(), 8192, /*writable=*/true);
  REQUIRE(region.has_value());
  REQUIRE(region->populate().has_value());
  std::memcpy(region->data() + 4100, "hello", 5);
  REQUIRE(region->sync(4100, 5).has_value());

  char buf[5] = {};
  auto n = fs.pread(fd->get(), buf, sizeof(buf), 4100);
  REQUIRE(n.has_value());
  CHECK(*n == 5);
  CHECK(std::string(buf, 5) == "hello");
  CHECK_FALSE(region->sync(8000, 500).has_value());  // past the end of the mapping
}

TEST_CASE("a moved MappedRegion keeps the mapping and the source becomes empty") {
  TempDir dir;
  FileSystem& fs = posix_file_system();
  auto fd = fs.open(dir.file("a"), O_RDWR | O_CREAT);
  REQUIRE(fd.has_value());
  REQUIRE(fs.ftruncate(fd->get(), 4096).has_value());
  auto region = fs.map(fd->get(), 4096, false);
  REQUIRE(region.has_value());
  MappedRegion moved = std::move(*region);
  CHECK(moved.size() == 4096);
  CHECK_FALSE(moved.writable());
  CHECK(moved.data()[0] == std::byte{0});
  CHECK_FALSE(static_cast<bool>(*region));  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("directory operations: mkdirs, list_dir, rename, exists, remove_all") {
  TempDir dir;
  FileSystem& fs = posix_file_system();
  const std::string nested = dir.file("topics/payments/0");
  REQUIRE(fs.mkdirs(nested).has_value());
  REQUIRE(fs.mkdirs(nested).has_value());  // idempotent
  for (const char* name : {"b.log", "a.log"}) {
    REQUIRE(fs.open(nested + "/" + name, O_WRONLY | O_CREAT).has_value());
  }
  auto names = fs.list_dir(nested);
  REQUIRE(names.has_value());
  CHECK(*names == std::vector<std::string>{"a.log", "b.log"});
  REQUIRE(fs.rename(nested + "/a.log", nested + "/c.log").has_value());
  CHECK(fs.exists(nested + "/c.log").value());
  CHECK_FALSE(fs.exists(nested + "/a.log").value());
  REQUIRE(fs.fsync_dir(nested).has_value());
  REQUIRE(fs.remove_all(dir.file("topics")).has_value());
  CHECK_FALSE(fs.exists(dir.file("topics")).value());
  CHECK(fs.remove_all(dir.file("topics")).has_value());  // missing is fine
}

TEST_CASE("errors name the path and keep errno") {
  FileSystem& fs = posix_file_system();
  auto r = fs.open("/tmp/freshet-definitely-missing/x", O_RDONLY);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kNotFound);
  CHECK(r.error().sys_errno == ENOENT);
  CHECK(r.error().message.find("/tmp/freshet-definitely-missing/x") != std::string::npos);
}

TEST_CASE("lock_file refuses a second holder with a clear error and allows it after release") {
  TempDir dir;
  FileSystem& fs = posix_file_system();
  auto first = fs.lock_file(dir.file("LOCK"));
  REQUIRE(first.has_value());
  auto second = fs.lock_file(dir.file("LOCK"));  // a separate open file description conflicts
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().code == ErrorCode::kUnavailable);
  CHECK(second.error().message.find("held by another process") != std::string::npos);
  first->reset();
  CHECK(fs.lock_file(dir.file("LOCK")).has_value());
}

TEST_CASE("FaultInjectingFileSystem fails the Nth pwrite and counts calls") {
  TempDir dir;
  FaultInjectingFileSystem fs(posix_file_system());
  auto fd = fs.open(dir.file("f"), O_RDWR | O_CREAT);
  REQUIRE(fd.has_value());
  fs.fail_nth(FsOp::kPwrite, 3, ENOSPC);
  CHECK(fs.pwrite(fd->get(), "aa", 2, 0).has_value());
  CHECK(fs.pwrite(fd->get(), "bb", 2, 2).has_value());
  auto third = fs.pwrite(fd->get(), "cc", 2, 4);
  REQUIRE_FALSE(third.has_value());
  CHECK(third.error().sys_errno == ENOSPC);
  CHECK(third.error().message.find(dir.file("f")) != std::string::npos);
  CHECK(fs.pwrite(fd->get(), "dd", 2, 4).has_value());  // one-shot: the 4th succeeds
  CHECK(fs.calls(FsOp::kPwrite) == 4);
  CHECK(fs.calls(FsOp::kOpen) == 1);
  CHECK(read_all(fs, dir.file("f")) == "aabbdd");

  fs.fail_always(FsOp::kFdatasync, EIO);
  CHECK_FALSE(fs.fdatasync(fd->get()).has_value());
  CHECK_FALSE(fs.fdatasync(fd->get()).has_value());
  fs.clear_faults();
  CHECK(fs.fdatasync(fd->get()).has_value());
}

TEST_CASE("FaultInjectingFileSystem tears a pwrite at byte k") {
  TempDir dir;
  FaultInjectingFileSystem fs(posix_file_system());
  auto fd = fs.open(dir.file("f"), O_RDWR | O_CREAT);
  REQUIRE(fd.has_value());
  const std::string record = "0123456789";

  SUBCASE("reporting success, as a crash after the ack would") {
    fs.tear_nth_pwrite(1, 4);
    auto n = fs.pwrite(fd->get(), record.data(), record.size(), 0);
    REQUIRE(n.has_value());
    CHECK(*n == record.size());
    CHECK(read_all(fs, dir.file("f")) == "0123");
  }
  SUBCASE("reporting an error") {
    fs.tear_nth_pwrite(2, 3, EIO);
    REQUIRE(fs.pwrite(fd->get(), record.data(), record.size(), 0).has_value());
    auto n = fs.pwrite(fd->get(), record.data(), record.size(), 10);
    REQUIRE_FALSE(n.has_value());
    CHECK(n.error().sys_errno == EIO);
    CHECK(read_all(fs, dir.file("f")) == "0123456789012");
  }
}
