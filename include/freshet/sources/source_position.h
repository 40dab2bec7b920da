#pragma once
// Where a source stands, carried in the batches it appends, so that it resumes after a crash
// without appending a record twice or skipping one. A checkpoint cannot do this: records
// reach the log before any checkpoint. Each batch a source builds carries, on its first
// record, one Kafka record header
//
//   key    "freshet.source.<source name>"
//   value  the source's position just after the batch's LAST record, as text (below)
//
// and is durable exactly when the batch is: the log fsyncs whole batches, and a torn batch
// fails its CRC and is dropped by recovery. After a restart, last_source_position() of each
// partition tells the source what that partition already holds. The header is an ordinary
// Kafka v2 header: consumers (kcat -J, librdkafka) see it and may ignore it.
//
// Values, one line of ASCII; decode() rejects anything else:
//   generator  "gen/1 next=<n> start=<start_time ms> paced=<wall ms>"
//              n: the next event number of the stream for this partition (the last event in
//              the batch + 1); start: the stream's start_time, from which event timestamps
//              derive; paced: the wall time at which event 0 was due (event n is due at
//              paced + n / rate; equal to start unless the config fixes start_time).
//   file       "file/1 line=<L> offset=<O> origin=<OO> path=<len>:<path><origin len>:<origin>"
//              L: records (non-blank lines) read before this position, counted from the
//              stream's origin; O: the byte just after the batch's last line in `path`; the
//              origin is the file and byte where line 0 was read (the first file and 0 for
//              read_from: beginning, the end of the last file for read_from: end). Paths are
//              length-prefixed, so any byte may appear in them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "freshet/base/ids.h"
#include "freshet/base/result.h"
#include "freshet/log/partition_log.h"

namespace freshet::sources {

// "freshet.source.<source>".
std::string position_header_key(std::string_view source);

// The value of `source`'s position header in the last batch of `log` that carries one, or
// nullopt when no batch does (the source never wrote there, or retention deleted it all).
// Reads backwards from the end in growing windows, decoding only the first record of each
// batch: a partition that the source writes into answers after reading its last batch,
// whatever its size. Only durable batches are read (after open(), all of them). Errors are
// the log's read errors (a failed partition, corruption).
// Runs on the shard that owns `log`.
Result<std::optional<std::string>> last_source_position(const log::PartitionLog& log,
                                                        std::string_view source);

struct GeneratorPosition {
  uint64_t next = 0;
  TimestampMs start_time = 0;
  TimestampMs paced_from = 0;

  std::string encode() const;
  static Result<GeneratorPosition> decode(std::string_view value);
  bool operator==(const GeneratorPosition&) const = default;
};

struct FilePosition {
  uint64_t line = 0;
  uint64_t offset = 0;
  std::string path;
  uint64_t origin_offset = 0;
  std::string origin_path;

  std::string encode() const;
  static Result<FilePosition> decode(std::string_view value);
  bool operator==(const FilePosition&) const = default;
};

}  // namespace freshet::sources
