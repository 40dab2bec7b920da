#pragma once
// The pipeline journal (semantics §3.8): every decision a query's readers took from the wall
// clock or from other shards' timing rather than from its records. A replay of the same log
// (`freshet run --replay-journal`) applies each one at the same reader positions instead of
// reading the clock, so its outputs are byte-identical to the journaled run's.
//
// One file per (query, shard): <data_dir>/journal/<query>.<shard>.jsonl, one JSON object a
// line, in the order the decisions were taken. Each names, in `at_offsets`, every partition the
// shard reads with its reader's position (the next offset to read) at the decision:
//   {"shard":0,"wm":1764064860000,"at_offsets":{"0":1200,"1":1180}}
//       the wall clock stepped the watermark (`idle_progress: wallclock(...)`, §3.3)
//   {"shard":0,"idle":1,"at_offsets":{"0":1200,"1":1180}}
//       partition 1 went idle: caught up and quiet for idle_timeout (§3.3)
//   {"shard":0,"active":1,"at_offsets":{"0":1200,"1":1190}}
//       partition 1 is back from idleness and rejoins the watermark minimum (§3.2 rule 4)
//   {"shard":0,"release":1764064860000,"at_offsets":{"0":1200,"1":1180}}
//       another shard's readers are no longer all idle: this shard stops holding the owners'
//       minimum at its last wall-clock step and leaves it, as an idle shard does
//   {"shard":0,"resume":1,"wm":1764064860000,"at_offsets":{"0":1200,"1":1180}}
//       the next batch of idle partition 1 is judged late against the owners' watermark `wm`,
//       which came from the other shards

#include <string>
#include <utility>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/base/result.h"
#include "freshet/io/file_system.h"

namespace freshet::server {

struct JournalRecord {
  enum class Kind { kStep, kRelease, kIdle, kActive, kResume };
  Kind kind = Kind::kStep;
  int32_t partition = -1;                              // kIdle, kActive, kResume
  TimestampMs wm = kMinTimestamp;                      // kStep, kRelease, kResume
  std::vector<std::pair<int32_t, Offset>> at_offsets;  // by partition, ascending
};

std::string journal_path(const std::string& data_dir, const std::string& query, ShardId shard);

// The end of a topic's input. When every source writing into a topic has finished (bounded
// sources read to their end), each shard records it for the partitions it owns, as an empty
// file <data_dir>/journal/ended/<topic>.<partition>, so that a replay ends those partitions
// where their log ends and fires, as the live run did, their windows with the final
// watermark; a partition whose shard never heard of the end stays open, as it did live. A run
// that is not a replay starts by removing the records: its sources may write more.
std::string topic_end_path(const std::string& data_dir, const std::string& topic,
                           int32_t partition);
// Writes the records durably (the files and their directory entries).
Status record_topic_end(io::FileSystem& fs, const std::string& data_dir, const std::string& topic,
                        const std::vector<int32_t>& partitions);
Status clear_topic_end(io::FileSystem& fs, const std::string& data_dir, const std::string& topic,
                       int32_t partitions);

// Appends records to one journal file. Owned by the shard that reads the query's partitions;
// used by its thread only.
class JournalWriter {
 public:
  // Opens `path`, creating it (and its directory); `truncate` starts it over (freshet run
  // --reset, which also starts the log over).
  static Result<JournalWriter> open(io::FileSystem& fs, const std::string& path, bool truncate);
  // Writes the record; it is durable after the next sync().
  Status append(ShardId shard, const JournalRecord& record);
  // fdatasyncs what append() wrote since the last sync (nothing to do when nothing was). A
  // decision's effects (a watermark, a late record) may leave the shard only after this
  // returns, so no output exists that the journal cannot explain.
  Status sync();

 private:
  JournalWriter(io::FileSystem& fs, io::UniqueFd fd, std::string path, uint64_t end)
      : fs_(&fs), fd_(std::move(fd)), path_(std::move(path)), end_(end) {}
  io::FileSystem* fs_;  // borrowed; the process-wide file system outlives the pipeline
  io::UniqueFd fd_;
  std::string path_;
  uint64_t end_;
  bool dirty_ = false;
};

// Every record of a journal file, in order; none when the file does not exist. A line that is
// not a record is corruption, reported with its line number. A torn last line (no newline: the
// run died inside append) is dropped, as nothing it decided was shipped.
Result<std::vector<JournalRecord>> read_journal(io::FileSystem& fs, const std::string& path);

}  // namespace freshet::server
