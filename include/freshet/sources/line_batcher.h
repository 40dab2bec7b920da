#pragma once
// Turns a stream of JSON-lines bytes into RecordBatch v2 batches per partition, the way a
// Kafka producer would: each non-empty line is one record value, keyed by a field of the
// JSON object (partitioned with Kafka's murmur2) or spread round-robin when the field is
// absent. Lines are stored as they are, valid JSON or not: the log keeps bytes, and a query
// that cannot read a record sends it to its dead-letter output with the reason. Unkeyed lines
// go to partition (line number % partitions), the line number counting the stream's records
// (non-blank lines) from its origin, so the routing is the same after a restart.
//
// With track_positions(), every batch carries the stream's position after its last line
// (source_position.h), and resume_at() drops the lines a partition already holds.
//
// Used by the file source. Owned by one shard (the source's reader); not thread-safe. With
// build_elsewhere(), the lines of some partitions leave as Remote batches, which may be moved
// to and built on another shard (their buffers are shared, read-only, by reference count).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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

  // The lines of one batch, for build_remote() on another shard: copying and encoding them
  // is most of a batch's cost, and the shard that appends the batch can do it. Values point
  // into the buffers `keep` holds alive. Moved to that shard, which owns it from then on; the
  // buffers are shared read-only with the reader, which reuses one only when no Remote holds
  // it.
  struct Remote {
    struct Line {
      std::string_view value;
      TimestampMs at = 0;
      uint32_t key_off = 0;  // into keys
      uint32_t key_len = 0;
      bool keyed = false;
    };
    std::vector<Line> lines;
    std::string keys;
    std::vector<std::shared_ptr<const void>> keep;
    TimestampMs base_ts = 0;
    std::string header_key, position;  // the first record's position header, if tracked
    size_t bytes = 0;                  // the batch's size once built (as it was when emitted)
  };
  using EmitRemote = std::function<void(int32_t partition, Remote&& batch)>;
  // The batch `r` makes, into `out`: byte for byte what emit would have been called with.
  // Returns its record count.
  static uint32_t build_remote(const Remote& r, std::string& out);

  LineBatcher(std::string key_field, int32_t partitions, Emit emit,
              size_t max_batch_bytes = 64 * 1024);

  // Feeds bytes; complete lines become records stamped `now`. A partial last line is kept
  // for the next call.
  void feed(std::string_view bytes, TimestampMs now);
  // The same, for a batcher that builds elsewhere: `keep` holds `bytes` alive, and remote
  // batches keep a reference to it until they are built.
  void feed(std::string_view bytes, TimestampMs now, std::shared_ptr<const void> keep);
  // From now on the batches of partition p with remote[p] go to `emit_remote` as Remote
  // lines instead of being built here. Feed with a keep-alive handle then.
  void build_elsewhere(std::vector<bool> remote, EmitRemote emit_remote);
  // The end of a file: a last line without a newline still counts.
  void end_of_file(TimestampMs now);
  // Emits every open batch.
  void flush();

  // From now on every batch carries, on its first record, the header
  // position_header_key(source) with the FilePosition after its last line; line 0 of the
  // stream was read at `origin_offset` of `origin_path`.
  void track_positions(std::string_view source, std::string origin_path, uint64_t origin_offset);
  // The bytes fed next are those of `path` from byte `offset` on. A partial line of the
  // previous file must have been ended with end_of_file() first.
  void begin_file(std::string path, uint64_t offset);
  // Resuming: the next line is line `line` of the stream, and a line routed to partition p is
  // dropped when its number is below holds[p] (the partition holds it already).
  void resume_at(uint64_t line, std::vector<uint64_t> holds);

  uint64_t lines() const { return lines_; }
  uint64_t bytes_consumed() const { return consumed_; }  // through the last complete line
  // Bytes in batches not emitted yet, over all partitions (a walk over the partitions).
  size_t open_bytes() const;

 private:
  // `end` is the file offset just after the line (its newline included). `in_feed`: the line
  // lies in the bytes being fed (else it is carry_, which a remote batch must copy).
  void add_line(std::string_view line, TimestampMs now, uint64_t end, bool in_feed);
  bool key_of(std::string_view line, std::string& key);
  void emit_batch(size_t p);
  struct Open;
  void add_here(Open& o, std::string_view line, TimestampMs now, bool keyed);
  void add_remote(Open& o, std::string_view line, TimestampMs now, bool keyed, bool in_feed);
  // The position header's value after `o`'s last line, and one of the same size for a batch
  // opening in the current file (fixed-width numbers: the size depends on the paths only).
  std::string position_after(const Open& o) const;
  std::string position_placeholder() const;

  std::string key_field_;
  std::vector<std::string> key_path_;
  int32_t partitions_;
  Emit emit_;
  size_t max_batch_bytes_;
  struct Open {
    std::string bytes;
    std::optional<log::BatchBuilder> builder;
    std::optional<Remote> remote;  // instead of bytes and builder, for remote partitions
    // The position after its last line: the file (by number, and its path), the byte and the
    // stream's line count.
    uint64_t file = 0;
    std::string path;
    uint64_t end = 0;
    uint64_t lines_after = 0;
    size_t last_size = 0;  // of this partition's previous batch: the next one's reservation
  };
  std::vector<Open> open_;
  std::vector<bool> remote_;  // per partition: built elsewhere (build_elsewhere)
  EmitRemote emit_remote_;
  std::shared_ptr<const void> keep_;  // what holds the bytes of the current feed()
  std::string carry_;                 // an incomplete line from the previous feed
  std::string key_;
  std::string padded_;
  uint64_t lines_ = 0;       // the stream's line number of the next line
  int32_t round_robin_ = 0;  // lines_ % partitions_: where the next unkeyed line goes
  uint64_t consumed_ = 0;
  // Position tracking (empty header key: off).
  std::string header_key_;
  std::string origin_path_;
  uint64_t origin_offset_ = 0;
  uint64_t file_ = 1;  // numbers the files begun, so a batch knows when its path changed
  std::string path_;
  uint64_t file_pos_ = 0;  // the offset in path_ of the next byte fed
  std::vector<uint64_t> holds_;
  uint64_t skip_below_ = 0;  // the largest of holds_
};

}  // namespace freshet::sources
