#pragma once
// Projection pushdown: reads only the referenced fields of a JSON record value in one
// forward pass (json_scan.h), matching keys against a small trie of the wanted paths (length,
// then one word compare) and decoding only the wanted values. One extractor per operator,
// buffers reused for every record: no allocation per record once they are warm.
//
// Validation is strict and covers the whole record, wanted or not: a record is accepted
// exactly when it is one JSON object that simdjson's DOM parser would accept (RFC 8259,
// UTF-8, escapes and surrogate pairs, at most 1024 nested containers); numbers are checked
// against the JSON grammar, not for range. Reasons: "invalid JSON", "record is not a JSON
// object" (another valid JSON value), and for a wanted field "invalid number" (a token that
// starts like a number but is not one) or "invalid string" (a bad escape); the first error in
// document order decides.
//
// Keys compare after unescaping (a key spelled with \u escapes is its unescaped name). A
// repeated key: the first occurrence wins.
//
// Not thread-safe; owned by one RecordReader.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "value.h"

namespace freshet::query {

class FieldExtractor {
 public:
  // `paths`: dotted field paths; values come out in this order.
  explicit FieldExtractor(const std::vector<std::string>& paths);
  ~FieldExtractor();
  FieldExtractor(const FieldExtractor&) = delete;
  FieldExtractor& operator=(const FieldExtractor&) = delete;

  // Parses one record and fills values[0..paths.size()). `padding` is how many bytes after
  // the record may be read (with less than 64 the record is copied first). Returns nullptr on
  // success, else a static reason. Strings in `values` point into the record (or the
  // extractor's copy of it) or into the extractor: valid until the next call, and no longer
  // than the record.
  const char* extract(std::string_view record, size_t padding, Value* values);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet::query
