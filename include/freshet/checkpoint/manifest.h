#pragma once
// Manifest: the one record that commits a checkpoint epoch (semantics.md §3.7). It lists, for
// epoch n, where every query resumes in its input partitions, the shard state files written
// for n, and the sink files whose staged rows n publishes. The manifest becomes the commit
// when CheckpointStore renames MANIFEST.tmp to MANIFEST inside `checkpoints/<n>/`.
//
// On disk it is one JSON object, so people and tools can read it, followed by a newline:
//
//   {"format_version":1,"epoch":7,...,"sink_files":[...],"crc32c":3735928559}\n
//
// The crc32c (Castagnoli) covers every byte before `,"crc32c":`, so a torn, truncated or
// hand-edited manifest is detected and decode() rejects it. The crc field is always the last
// member; a quote inside a string is escaped, so the text `,"crc32c":` can only be that member.
// uint64 fingerprints are written as 16 hex digits in a string, because JSON tools read
// numbers as doubles and would round them.
//
// Plain values: no owner, no thread affinity.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/base/result.h"

namespace freshet::checkpoint {

// Bumped whenever a field changes meaning; decode() rejects every other version.
inline constexpr uint32_t kManifestFormatVersion = 1;

// The next offset a query reads from one input partition once it resumes.
struct InputPosition {
  std::string topic;
  PartitionId partition;
  Offset offset;

  bool operator==(const InputPosition&) const = default;
};

struct QueryEntry {
  std::string name;
  // Hash of the query's stateful plan; a restore refuses state whose fingerprint differs.
  uint64_t state_fingerprint = 0;
  std::vector<InputPosition> inputs;

  bool operator==(const QueryEntry&) const = default;
};

// One shard's state snapshot, written durably before the commit.
struct StateFileEntry {
  ShardId shard;
  std::string file;  // relative to the epoch directory; no '/' and no ".."
  uint64_t bytes = 0;
  uint32_t crc32c = 0;

  bool operator==(const StateFileEntry&) const = default;
};

// What one exactly-once sink file (sinks::CommittedFile) publishes for an epoch: after the
// commit the live file must hold exactly its first `live_length` bytes (none after a
// rotation), then `header` if the live file starts empty, then the first `staging_length`
// bytes of the staging file. Produced by CommittedFile::precommit(); redone on recovery.
struct SinkFileEntry {
  std::string sink;  // sink name from the config
  std::string kind;  // "main", "late" or "dead"
  uint64_t epoch = 0;
  std::string live_path;
  uint64_t live_length = 0;  // committed length of the live file before this epoch's publish
  std::string rotate_to;     // "" = no rotation; else live is renamed here before appending
  std::string staging_path;
  uint64_t staging_length = 0;
  std::string header;  // CSV header line with its '\n'; "" for JSON Lines

  bool operator==(const SinkFileEntry&) const = default;
};

struct Manifest {
  uint32_t format_version = kManifestFormatVersion;
  uint64_t epoch = 0;
  TimestampMs created_ms = 0;
  uint32_t shard_count = 0;
  std::vector<QueryEntry> queries;
  std::vector<StateFileEntry> state_files;
  std::vector<SinkFileEntry> sink_files;

  bool operator==(const Manifest&) const = default;
};

// The manifest's file text, newline-terminated.
std::string encode(const Manifest& m);
// Parses and validates manifest text. Any damage (truncation, a flipped bit, a wrong
// version, a missing field, a state file naming a shard >= shard_count or a path outside
// the epoch directory) is kCorruption; never crashes on arbitrary bytes.
Result<Manifest> decode(std::string_view text);

}  // namespace freshet::checkpoint
