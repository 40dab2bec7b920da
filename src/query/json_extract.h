#pragma once
// Projection pushdown: reads only the referenced fields of a JSON record value with simdjson
// On-Demand, walking the object once and matching keys against a small trie of the wanted
// paths. One parser per extractor, reused for every record; no allocation per record.
//
// Validation is as lazy as On-Demand: a record is rejected for what the walk touches (bad
// structure up to the last wanted field, a non-object document, a bad number or string in a
// wanted field), not for damage after the last wanted field.
//
// Not thread-safe; owned by one LocalAggregator.

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
  // the record may be read. Returns nullptr on success, else a static reason. Strings in
  // `values` stay valid until the next call.
  const char* extract(std::string_view record, size_t padding, Value* values);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet::query
