#pragma once
// Helpers for the sources' crash tests: real partition logs in a temp dir, a kill -9 that
// leaves only a prefix of each partition's batches on disk (and maybe a torn batch after it),
// and reading back what a partition holds.

#include <doctest/doctest.h>
#include <fcntl.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "freshet/io/file_system.h"
#include "freshet/log/partition_log.h"
#include "freshet/log/segment_format.h"
#include "freshet/sources/source_position.h"

namespace freshet::sources::testing {

using Parts = std::vector<std::unique_ptr<log::PartitionLog>>;

// Small segments, so that crashes also land in sealed segments and positions are found
// across segment boundaries.
inline log::PartitionOptions small_segments() {
  log::PartitionOptions o;
  o.segment_bytes = 1 << 20;
  o.index_interval_bytes = 1024;
  return o;
}

inline Parts open_parts(const std::string& dir, int n) {
  Parts parts;
  for (int p = 0; p < n; ++p) {
    auto l = log::PartitionLog::open(io::posix_file_system(), dir + "/" + std::to_string(p),
                                     small_segments());
    REQUIRE(l.has_value());
    REQUIRE_FALSE((*l)->failed());
    parts.push_back(std::move(*l));
  }
  return parts;
}

inline std::vector<log::PartitionLog*> raw(const Parts& parts) {
  std::vector<log::PartitionLog*> out;
  for (const auto& p : parts) out.push_back(p.get());
  return out;
}

// The records of a partition as "key|value|timestamp" (or "key|value"), in offset order;
// headers are left out (batch boundaries, and so positions, differ between runs).
inline std::vector<std::string> contents(const log::PartitionLog& l, bool timestamps = true) {
  std::vector<std::string> out;
  log::PartitionLog::Reader r(l);
  for (;;) {
    auto b = r.next();
    REQUIRE(b.has_value());
    if (!*b) break;
    auto it = (*b)->records();
    log::RecordView rec;
    while (it.next(rec))
      out.push_back(std::string(rec.key.value_or("<null>")) + "|" + std::string(*rec.value) +
                    (timestamps ? "|" + std::to_string(rec.timestamp) : ""));
    REQUIRE_FALSE(it.error().has_value());
  }
  return out;
}

inline size_t batch_count(const log::PartitionLog& l) {
  size_t n = 0;
  log::PartitionLog::Reader r(l);
  for (;;) {
    auto b = r.next();
    REQUIRE(b.has_value());
    if (!*b) return n;
    ++n;
  }
}

// What kill -9 leaves of a partition whose log object is gone: its first `keep` batches, then,
// if `torn`, the first half of the next one; the rest of that segment is zeroed and later
// segments are removed (as if never written back). Recovery must drop the torn batch.
inline void crash_cut(const std::string& dir, size_t keep, bool torn) {
  auto& fs = io::posix_file_system();
  auto names = fs.list_dir(dir);
  REQUIRE(names.has_value());
  std::vector<std::string> logs;
  for (const auto& n : *names)
    if (n.size() == 24 && n.substr(20) == ".log") logs.push_back(n);
  std::sort(logs.begin(), logs.end());
  size_t kept = 0;
  bool cut = false;
  for (const auto& name : logs) {
    const std::string path = dir + "/" + name;
    if (cut) {
      const std::string stem = path.substr(0, path.size() - 4);
      for (const char* suffix : {".log", ".index", ".timeindex"}) (void)fs.unlink(stem + suffix);
      continue;
    }
    auto fd = fs.open(path, O_RDWR, 0);
    REQUIRE(fd.has_value());
    const uint64_t size = fs.file_size(fd->get()).value();
    std::string data(size, '\0');
    REQUIRE(fs.pread(fd->get(), data.data(), size, 0).has_value());
    size_t pos = 0;
    while (pos + log::kBatchHeaderSize <= size && data[pos + log::kMagicOffset] == log::kMagicV2) {
      const size_t len = size_t{log::BatchView::peek_batch_length(data.data() + pos)} + 12;
      if (kept == keep) {
        cut = true;
        const size_t from = torn ? pos + len / 2 : pos;
        const std::string zeros(size - from, '\0');
        REQUIRE(fs.pwrite(fd->get(), zeros.data(), zeros.size(), from).has_value());
        break;
      }
      ++kept;
      pos += len;
    }
  }
}

// last_source_position of every partition.
inline std::vector<std::optional<std::string>> positions(const Parts& parts,
                                                         std::string_view source) {
  std::vector<std::optional<std::string>> out;
  for (const auto& p : parts) {
    auto pos = last_source_position(*p, source);
    REQUIRE(pos.has_value());
    out.push_back(*pos);
  }
  return out;
}

}  // namespace freshet::sources::testing
