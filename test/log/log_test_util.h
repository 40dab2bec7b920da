#pragma once
// Helpers shared by the log tests: building batches, reading a partition back, poking bytes.

#include <doctest/doctest.h>
#include <fcntl.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "freshet/io/file_system.h"
#include "freshet/log/partition_log.h"

namespace freshet::log::testing {

// Fixed so CI is repeatable; FRESHET_TEST_SEED replays another (every failure prints its seed).
inline uint32_t test_seed() {
  const char* env = std::getenv("FRESHET_TEST_SEED");
  return env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : 20261125u;
}

// A batch of `n` records "value-<first>".. with timestamps first.., base offset unset.
inline std::string make_batch(int first, int n, TimestampMs ts = -1) {
  std::string buf;
  BatchBuilder b(buf, ts < 0 ? first : ts);
  for (int i = first; i < first + n; ++i)
    b.add(std::nullopt, "value-" + std::to_string(i), ts < 0 ? i : ts);
  b.finish(Offset(0));
  return buf;
}

inline std::vector<std::string> read_all(PartitionLog& log) {
  std::vector<std::string> out;
  PartitionLog::Reader r(log);
  for (;;) {
    auto b = r.next();
    REQUIRE(b.has_value());
    if (!*b) break;
    auto it = (*b)->records();
    RecordView rec;
    while (it.next(rec)) out.emplace_back(*rec.value);
  }
  return out;
}

inline std::string read_file(const std::string& path) {
  auto& fs = io::posix_file_system();
  auto fd = fs.open(path, O_RDONLY, 0);
  REQUIRE(fd.has_value());
  const uint64_t size = fs.file_size(fd->get()).value();
  std::string out(size, '\0');
  REQUIRE(fs.pread(fd->get(), out.data(), size, 0).has_value());
  return out;
}

inline void write_at(const std::string& path, uint64_t offset, const std::string& bytes) {
  auto& fs = io::posix_file_system();
  auto fd = fs.open(path, O_RDWR, 0);
  REQUIRE(fd.has_value());
  REQUIRE(fs.pwrite(fd->get(), bytes.data(), bytes.size(), offset).has_value());
}

inline std::string seg(const std::string& dir, int64_t base, const char* suffix = ".log") {
  return dir + "/" + fmt::format("{:020}{}", base, suffix);
}

}  // namespace freshet::log::testing
