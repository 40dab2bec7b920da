#pragma once
// The pipeline journal (semantics §3.8): the watermark steps a query took from the wall clock
// (`idle_progress: wallclock(...)`, §3.3) instead of from its records. A replay of the same
// log (`freshet run --replay-journal`) applies each step at the same reader positions instead
// of reading the clock, so its outputs are byte-identical to the journaled run's.
//
// One file per (query, shard): <data_dir>/journal/<query>.<shard>.jsonl, one JSON object a
// line, written in the order the steps were taken:
//   {"shard":0,"wm":1764064860000,"at_offsets":{"0":1200,"1":1180}}
// `wm` is the watermark the shard shipped; `at_offsets` maps each partition the shard reads
// to its reader's position (the next offset to read) when the step was taken.

#include <string>
#include <utility>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/base/result.h"
#include "freshet/io/file_system.h"

namespace freshet::server {

struct JournalStep {
  TimestampMs wm = kMinTimestamp;
  std::vector<std::pair<int32_t, Offset>> at_offsets;  // by partition, ascending
};

std::string journal_path(const std::string& data_dir, const std::string& query, ShardId shard);

// Appends steps to one journal file. Owned by the shard that reads the query's partitions;
// used by its thread only.
class JournalWriter {
 public:
  // Opens `path`, creating it (and its directory); `truncate` starts it over (freshet run
  // --reset, which also starts the log over).
  static Result<JournalWriter> open(io::FileSystem& fs, const std::string& path, bool truncate);
  // Appends the step and fdatasyncs it: the watermark may be shipped only after this returns,
  // so no output exists that the journal cannot explain. Called while every input is idle,
  // so the shard has nothing else to do meanwhile.
  Status append(ShardId shard, const JournalStep& step);

 private:
  JournalWriter(io::FileSystem& fs, io::UniqueFd fd, std::string path, uint64_t end)
      : fs_(&fs), fd_(std::move(fd)), path_(std::move(path)), end_(end) {}
  io::FileSystem* fs_;  // borrowed; the process-wide file system outlives the pipeline
  io::UniqueFd fd_;
  std::string path_;
  uint64_t end_;
};

// Every step of a journal file, in order; none when the file does not exist. A line that is
// not a step is corruption, reported with its line number. A torn last line (no newline: the
// run died inside append) is dropped, as its watermark was never shipped.
Result<std::vector<JournalStep>> read_journal(io::FileSystem& fs, const std::string& path);

}  // namespace freshet::server
