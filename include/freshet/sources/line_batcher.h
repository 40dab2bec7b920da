#pragma once
// Turns a stream of JSON-lines bytes into RecordBatch v2 batches per partition, the way a
// Kafka producer would: each non-empty line is one record value, keyed by a field of the
// JSON object (partitioned with Kafka's murmur2) or spread round-robin when the field is
// absent. Lines are stored as they are, valid JSON or not: the log keeps bytes, and a query
// that cannot read a record sends it to its dead-letter output with the reason.
//
// Used by the file source. Owned by one shard (the source's reader); not thread-safe.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/log/record_batch.h"

namespace freshet::sources {

class LineBatcher {
 public:
  // Called with a finished batch (base offset still 0) and its partition; the callee may
  // move the bytes away.
  using Emit = std::function<void(int32_t partition, std::string&& batch, uint32_t records)>;

  LineBatcher(std::string key_field, int32_t partitions, Emit emit,
              size_t max_batch_bytes = 64 * 1024);

  // Feeds bytes; complete lines become records stamped `now`. A partial last line is kept
  // for the next call.
  void feed(std::string_view bytes, TimestampMs now);
  // The end of a file: a last line without a newline still counts.
  void end_of_file(TimestampMs now);
  // Emits every open batch.
  void flush();

  uint64_t lines() const { return lines_; }
  uint64_t bytes_consumed() const { return consumed_; }  // through the last complete line

 private:
  void add_line(std::string_view line, TimestampMs now);
  bool key_of(std::string_view line, std::string& key);

  std::string key_field_;
  std::vector<std::string> key_path_;
  int32_t partitions_;
  Emit emit_;
  size_t max_batch_bytes_;
  struct Open {
    std::string bytes;
    std::unique_ptr<log::BatchBuilder> builder;
  };
  std::vector<Open> open_;
  std::string carry_;  // an incomplete line from the previous feed
  std::string key_;
  std::string padded_;
  uint64_t round_robin_ = 0;
  uint64_t lines_ = 0;
  uint64_t consumed_ = 0;
};

}  // namespace freshet::sources
