#pragma once
// Encoding and decoding of Kafka RecordBatch v2 (layout in segment_format.h).
// Both are allocation-free on the hot path: BatchBuilder appends into a caller-owned,
// reusable buffer; BatchView and RecordIterator read in place (from a segment mapping).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "freshet/base/ids.h"
#include "freshet/base/result.h"

namespace freshet::log {

// One record header (Kafka v2: a string key and a nullable byte value). Views point into the
// caller's bytes (building) or the batch's bytes (reading).
struct RecordHeader {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt = null value
};

struct RecordIn {
  std::optional<std::string_view> key;  // nullopt = null key
  std::string_view value;
  TimestampMs timestamp;
};

// Builds one uncompressed batch in `out` (appended to, not cleared). The batch's base and max
// timestamps come from its records, as Kafka defines them; `base_timestamp` only stands in for
// a batch with no records. Usage:
//   BatchBuilder b(buf, base_ts); b.add(...)...; b.finish(base_offset);
// The base offset may be patched later with set_base_offset() before the bytes are stored.
class BatchBuilder {
 public:
  BatchBuilder(std::string& out, TimestampMs base_timestamp);
  // The hot path: a record without headers.
  void add(std::optional<std::string_view> key, std::string_view value, TimestampMs timestamp);
  void add(std::optional<std::string_view> key, std::string_view value, TimestampMs timestamp,
           std::span<const RecordHeader> headers);
  // Replaces the first record's headers, for a value known only once the batch is complete
  // (a source's position after its last record). Call after the last add() and before
  // finish(), with at least one record added. The first record is re-encoded in place, which
  // moves the records after it once (a memmove of at most the batch) unless the new headers
  // take exactly as many bytes as the ones the record was added with.
  void set_first_record_headers(std::span<const RecordHeader> headers);
  // Writes the header and CRC. Returns the batch's size in bytes.
  size_t finish(Offset base_offset);
  // The bytes add() appends for a record: `index` is its offset delta (the records before
  // it), `ts_delta` its timestamp less the batch's first record's.
  static size_t record_size(std::optional<size_t> key_len, size_t value_len, int64_t ts_delta,
                            uint32_t index, std::span<const RecordHeader> headers = {});
  uint32_t count() const { return count_; }

 private:
  std::string& out_;
  size_t start_;
  TimestampMs base_ts_;
  TimestampMs max_ts_;
  uint32_t count_ = 0;
};

// The headers of one record, still encoded: decoding them costs nothing unless they are
// iterated. `bytes` points into the batch's bytes.
struct RecordHeaders {
  uint32_t count = 0;
  std::string_view bytes;  // the encoded headers, after the count

  class Iterator {
   public:
    // Decodes the next header; false at the end. A malformed header ends the iteration and
    // sets error().
    bool next(RecordHeader& out);
    const std::optional<Error>& error() const { return error_; }

   private:
    friend struct RecordHeaders;
    const char* p_ = nullptr;
    const char* end_ = nullptr;
    uint32_t left_ = 0;
    std::optional<Error> error_;
  };
  Iterator iterate() const;
};

// One record inside a batch; views point into the batch's bytes.
struct RecordView {
  Offset offset;
  TimestampMs timestamp;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  RecordHeaders headers;
};

// A validated view of one batch in memory. The bytes must outlive the view.
class BatchView {
 public:
  // Checks the header and the CRC. Errors are kCorruption with the reason; `available` is
  // how many bytes may be read from `data`.
  static Result<BatchView> parse(const char* data, size_t available);
  // Checks the header as parse() does but not the CRC: for bytes this process encoded itself
  // and still holds (a batch PartitionLog::append stored), where a CRC pass over every read
  // would only re-prove what the builder computed a moment ago.
  static Result<BatchView> parse_own(const char* data, size_t available);
  // Reads only the header fields without checking the CRC (for indexes and scans).
  static Offset peek_base_offset(const char* data);
  static uint32_t peek_batch_length(const char* data);

  Offset base_offset() const;
  Offset last_offset() const;
  TimestampMs max_timestamp() const;
  uint32_t record_count() const;
  size_t size() const { return size_; }
  const char* data() const { return data_; }
  bool compressed() const;

  class Iterator {
   public:
    // Decodes the next record; false at the end. A malformed record ends the iteration and
    // sets error().
    bool next(RecordView& out);
    const std::optional<Error>& error() const { return error_; }

   private:
    friend class BatchView;
    const char* p_ = nullptr;
    const char* end_ = nullptr;
    Offset base_{0};
    TimestampMs base_ts_ = 0;
    uint32_t left_ = 0;
    std::optional<Error> error_;
  };
  Iterator records() const;

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// Sets the base offset of an encoded batch in place (the CRC does not cover it).
void set_base_offset(char* batch, Offset base);

}  // namespace freshet::log
