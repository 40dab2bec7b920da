#pragma once
// The `file` source: JSON-lines files (a path or a glob) read into a topic.
//   bounded: true   read every matching file to its end, then finish (history, backfill)
//   bounded: false  keep reading as the files grow (following rotation comes later)
//   read_from       beginning | end (end: only what is appended after start-up)
//
// Exactly once across crashes: every batch carries the position after its last line
// (source_position.h). Given every partition's last position (resume_from), start() reads
// again from the lowest of them and drops the lines a partition already holds; a partition
// with no position holds nothing, so the stream is read from its origin (where line 0 was
// read) for it. This holds for read_from: end too: on a restart with any position the
// source resumes from the recovered positions, not from the current end of the files, and
// only a restart with no position at all starts at the end again. Files must only grow:
// lines are found again by byte offset and numbered from the origin. When a partition never
// receives a line (keyed data with few keys), every restart reads from the origin again.
//
// Owned by one shard, which reads through its io_uring ring in 1 MiB chunks and turns lines
// into per-partition batches of up to 256 KiB (LineBatcher). Batches are handed to `deliver`,
// which the server routes to the shard owning the partition: when full, when a read comes
// back short (the source caught up with its files) or at their end, and when more than
// 2 MiB are open in all. Reading pauses while a target is backlogged, so memory stays bounded
// however fast the disk is.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "freshet/base/result.h"
#include "freshet/io/file_system.h"
#include "freshet/io/ring.h"
#include "freshet/shard/shard.h"
#include "freshet/sources/line_batcher.h"

namespace freshet::sources {

struct FileSourceOptions {
  std::string name;
  std::string pattern;  // a path or a glob(7) pattern; files are read in sorted order
  bool read_from_beginning = true;
  bool bounded = true;
  std::string key_field;
  int32_t partitions = 1;
  // last_source_position(partition p, name) for every partition p of the topic, gathered
  // from their owner shards; empty (or all nullopt) on a first start.
  std::vector<std::optional<std::string>> resume_from;
};

class FileSource final : public io::Completion {
 public:
  using Deliver = std::function<void(int32_t partition, std::string&& batch, uint32_t records)>;
  // `backlogged(partition)` says the partition's shard cannot take more right now.
  using Backlogged = std::function<bool(int32_t partition)>;

  FileSource(shard::Shard& shard, io::FileSystem& fs, FileSourceOptions options, Deliver deliver,
             Backlogged backlogged, std::function<void()> on_finished);
  ~FileSource() override;

  // Expands the pattern and starts reading, from the recovered positions if there are any. A
  // bounded source whose pattern matches nothing is an error (a typo would otherwise
  // "finish" at once with no data); positions that do not decode or disagree on the origin
  // are kCorruption.
  Status start();
  // Stops reading: nothing more is delivered (shutdown). A read in flight is ignored.
  void stop() { stopped_ = true; }
  bool finished() const { return finished_; }
  // Everything the files held so far is read (finished, or following at their end): until
  // then the topic's partitions are behind their input, which idleness must count as lag.
  bool caught_up() const { return finished_ || at_end_; }
  uint64_t lines() const { return batcher_.lines(); }
  // Before start(): the batches of partitions with remote[p] are built where they are
  // appended (LineBatcher::build_elsewhere), from the read buffers, which wait for them.
  void build_elsewhere(std::vector<bool> remote, LineBatcher::EmitRemote emit) {
    batcher_.build_elsewhere(std::move(remote), std::move(emit));
  }
  const std::string& error() const { return error_; }

 private:
  void complete(int32_t res, uint32_t flags) override;
  void read_next();
  void next_file();
  void finish();
  bool any_backlogged() const;
  // Positions the reader and the batcher from options_.resume_from; false when there is none.
  Result<bool> resume();
  // The index in files_ of `path`, or of the first file sorting after it (it was removed).
  size_t file_at_or_after(const std::string& path) const;

  shard::Shard& shard_;
  io::FileSystem& fs_;
  FileSourceOptions options_;
  Deliver deliver_;
  Backlogged backlogged_;
  std::function<void()> on_finished_;
  LineBatcher batcher_;
  std::vector<std::string> files_;
  size_t file_index_ = 0;
  io::UniqueFd fd_;
  uint64_t offset_ = 0;
  // Read buffers: the next read is in flight while the last one's lines are batched, and a
  // buffer is read into again only once no batch built elsewhere still points into it.
  std::shared_ptr<std::vector<char>> free_buffer();
  std::vector<std::shared_ptr<std::vector<char>>> buffers_;
  std::shared_ptr<std::vector<char>> reading_buf_;  // the read in flight's
  bool reading_ = false;
  bool finished_ = false;
  bool at_end_ = false;
  bool stopped_ = false;
  std::string error_;
};

// The files matching a pattern, sorted; a plain path matches itself if it exists.
Result<std::vector<std::string>> expand_glob(const std::string& pattern);

}  // namespace freshet::sources
