#pragma once
// Writing and reading the merger state image of snapshot_format.h: fixed-width little-endian
// fields, group keys and aggregate states. The writer appends straight to the caller's string
// (no allocation per entry once its sketch scratch is warm); the reader is a bounds-checked
// cursor that validates what it decodes and remembers the first thing that was wrong.
//
// Not thread-safe; one per snapshot() / restore() call.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate.h"
#include "arena.h"
#include "freshet/base/result.h"
#include "freshet/query/partial_batch.h"
#include "plan_spec.h"

namespace freshet::query {

static_assert(std::endian::native == std::endian::little,
              "the snapshot format is little-endian and written with memcpy");

// About what one entry's aggregate states take in an image (fixed parts, and a small sketch
// or set), for SnapshotWriter::reserve.
size_t snapshot_bytes_per_entry(const PlanSpec& spec);

class SnapshotWriter {
 public:
  // Appends the header (body length and CRC still zero) to `out`; finish() fills them in.
  SnapshotWriter(std::string& out, uint64_t fingerprint, uint16_t layout, uint16_t aggs);
  void finish();
  // Room for about `bytes` more, so a large image is not copied as the string grows.
  void reserve(size_t bytes) { out_.reserve(out_.size() + bytes); }

  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void i64(int64_t v) { raw(&v, 8); }
  // u32 length, then the bytes.
  void key(std::string_view k) {
    u32(static_cast<uint32_t>(k.size()));
    out_.append(k);
  }
  // One AggState record per aggregate of `aggs` (snapshot_format.h).
  void states(const std::vector<AggSpec>& aggs, const AggState* states, const ByteStore& store);

 private:
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void state(AggKind kind, const AggState& s, const ByteStore& store);

  std::string& out_;
  size_t header_;  // where this image's header starts in out_
  std::vector<char> scratch_;
};

class SnapshotReader {
 public:
  // Checks the header of `image` against the plan (fingerprint, layout, aggregates) and the
  // body against its CRC; the reader then reads the body. `ok()` says whether that passed.
  SnapshotReader(std::string_view image, const PlanSpec& spec, uint64_t fingerprint,
                 uint16_t layout);

  bool ok() const { return error_.empty(); }
  // The first problem found, as a kCorruption error naming it and its byte offset.
  Status status() const;
  // Records a problem (the first one wins); returns false so callers can `return fail(...)`.
  bool fail(std::string_view what);

  bool u8(uint8_t& v) { return raw(&v, 1, "u8"); }
  bool u32(uint32_t& v) { return raw(&v, 4, "u32"); }
  bool u64(uint64_t& v) { return raw(&v, 8, "u64"); }
  bool i64(int64_t& v) { return raw(&v, 8, "i64"); }
  // A count of items that each take at least `min_item_bytes`: more than the bytes left
  // could hold is corruption (so a garbled count cannot make the caller allocate wildly).
  bool count(uint64_t& n, size_t min_item_bytes, const char* what);
  // A group key that decodes to exactly one value per GROUP BY expression. The view points
  // into the image.
  bool key(std::string_view& k);
  // One AggState per aggregate into `states` (zeroed by the caller), strings and sketches
  // into `store`.
  bool states(AggState* states, ByteStore& store);
  // Whether the whole body was consumed (trailing bytes are corruption).
  bool at_end() { return in_.empty() || fail("trailing bytes after the state"); }

 private:
  bool raw(void* p, size_t n, const char* what);
  bool state(AggKind kind, AggState& s, ByteStore& store);
  bool one_value(std::string_view enc);

  const PlanSpec& spec_;
  std::string_view body_;
  std::string_view in_;  // the unread rest of body_
  std::string error_;
  size_t error_at_ = 0;
  StringArena arena_;
};

}  // namespace freshet::query
