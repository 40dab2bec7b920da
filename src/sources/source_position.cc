#include "freshet/sources/source_position.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace freshet::sources {
namespace {

// The value of header `key` on the first record of `batch`, if it has one. A batch whose first
// record cannot be read (compressed, or written by a client) carries no position of ours.
std::optional<std::string_view> position_in(const log::BatchView& batch, std::string_view key) {
  auto records = batch.records();
  log::RecordView first;
  if (!records.next(first) || first.headers.count == 0) return std::nullopt;
  auto headers = first.headers.iterate();
  log::RecordHeader h;
  while (headers.next(h))
    if (h.key == key && h.value) return h.value;
  return std::nullopt;
}

// A tiny reader for the "name=value" fields of a position; every miss is reported as the
// whole value being malformed.
struct Fields {
  std::string_view rest;

  bool literal(std::string_view s) {
    if (rest.substr(0, s.size()) != s) return false;
    rest.remove_prefix(s.size());
    return true;
  }
  template <typename T>
  bool number(std::string_view name, T& out) {
    if (!literal(name) || !literal("=")) return false;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), out);
    if (ec != std::errc()) return false;
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    return rest.empty() || (literal(" ") && !rest.empty());  // a separator, then more
  }
  bool sized(std::string& out) {
    size_t len = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), len);
    if (ec != std::errc()) return false;
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    if (!literal(":") || len > rest.size()) return false;
    out.assign(rest.substr(0, len));
    rest.remove_prefix(len);
    return true;
  }
};

Error malformed(std::string_view value) {
  return Error{ErrorCode::kCorruption, fmt::format("malformed source position `{}`", value), 0};
}

}  // namespace

std::string position_header_key(std::string_view source) {
  return fmt::format("freshet.source.{}", source);
}

Result<std::optional<std::string>> last_source_position(const log::PartitionLog& log,
                                                        std::string_view source) {
  const std::string key = position_header_key(source);
  // Batches link only forwards, so read backwards in windows [lo, hi) that double each time:
  // the cost is about twice the distance from the end to the answer, and one index lookup
  // (Reader::seek) per window.
  Offset hi = log.durable_end();
  const Offset start = log.start_offset();
  int64_t window = 1;
  while (hi > start) {
    const Offset lo(hi.value() - std::min<int64_t>(window, hi - start));
    log::PartitionLog::Reader reader(log);
    FRESHET_TRY(reader.seek(lo));
    std::optional<std::string> found;
    std::optional<Offset> first;
    for (;;) {
      FRESHET_ASSIGN_OR_RETURN(auto batch, reader.next());
      if (!batch || batch->base_offset() >= hi) break;
      if (!first) first = batch->base_offset();
      if (auto v = position_in(*batch, key)) found.emplace(*v);
    }
    if (found) return found;
    if (!first) break;  // nothing readable below hi
    hi = *first;
    window = std::min<int64_t>(window * 2, int64_t{1} << 40);
  }
  return std::nullopt;
}

std::string GeneratorPosition::encode() const {
  return fmt::format("gen/1 next={} start={} paced={}", next, start_time, paced_from);
}

Result<GeneratorPosition> GeneratorPosition::decode(std::string_view value) {
  GeneratorPosition p;
  Fields f{value};
  if (!f.literal("gen/1 ") || !f.number("next", p.next) || !f.number("start", p.start_time) ||
      !f.number("paced", p.paced_from) || !f.rest.empty())
    return tl::unexpected(malformed(value));
  return p;
}

// Numbers are written 20 digits wide (uint64's widest), so the value's size depends on the
// paths alone: a batch reserves its first record's position header when it opens and
// overwrites it in place when it closes, instead of moving the whole batch to fit it.
// Readers of earlier logs, written with plain numbers, decode both.
std::string FilePosition::encode() const {
  return fmt::format("file/1 line={:020} offset={:020} origin={:020} path={}:{}{}:{}", line, offset,
                     origin_offset, path.size(), path, origin_path.size(), origin_path);
}

Result<FilePosition> FilePosition::decode(std::string_view value) {
  FilePosition p;
  Fields f{value};
  if (!f.literal("file/1 ") || !f.number("line", p.line) || !f.number("offset", p.offset) ||
      !f.number("origin", p.origin_offset) || !f.literal("path=") || !f.sized(p.path) ||
      !f.sized(p.origin_path) || !f.rest.empty())
    return tl::unexpected(malformed(value));
  return p;
}

}  // namespace freshet::sources
