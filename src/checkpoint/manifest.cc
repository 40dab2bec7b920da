#include "freshet/checkpoint/manifest.h"

#include <simdjson.h>

#include <charconv>

#include "freshet/base/crc32c.h"
#include "freshet/base/json.h"

namespace freshet::checkpoint {
namespace {

constexpr std::string_view kCrcMember = ",\"crc32c\":";
constexpr std::string_view kEnd = "}\n";

void key(std::string& out, std::string_view name) {
  append_json_string(out, name);
  out.push_back(':');
}

void str_member(std::string& out, std::string_view name, std::string_view value) {
  key(out, name);
  append_json_string(out, value);
}

template <typename T>
void num_member(std::string& out, std::string_view name, T value) {
  key(out, name);
  fmt::format_to(std::back_inserter(out), "{}", value);
}

tl::unexpected<Error> corrupt(std::string_view what) {
  return make_error(ErrorCode::kCorruption, "manifest: {}", what);
}

// A file name that stays inside the epoch directory.
bool plain_file_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

using simdjson::dom::array;
using simdjson::dom::element;

// Each getter returns true on failure (missing member or wrong type), like simdjson's get().
bool get_string(element e, const char* name, std::string& out) {
  std::string_view v;
  if (e[name].get(v)) return true;
  out.assign(v);
  return false;
}

bool get_u64(element e, const char* name, uint64_t& out) { return e[name].get(out) != 0; }

bool get_i64(element e, const char* name, int64_t& out) { return e[name].get(out) != 0; }

bool get_u32(element e, const char* name, uint32_t& out) {
  uint64_t v = 0;
  if (get_u64(e, name, v) || v > UINT32_MAX) return true;
  out = static_cast<uint32_t>(v);
  return false;
}

bool get_hex64(element e, const char* name, uint64_t& out) {
  std::string_view v;
  if (e[name].get(v) || v.size() != 16) return true;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out, 16);
  return ec != std::errc() || end != v.data() + v.size();
}

Result<QueryEntry> decode_query(element e) {
  QueryEntry q;
  array inputs;
  if (get_string(e, "name", q.name) || get_hex64(e, "state_fingerprint", q.state_fingerprint) ||
      e["inputs"].get(inputs)) {
    return corrupt("a query entry lacks a field or has one of the wrong type");
  }
  for (element in : inputs) {
    InputPosition p;
    int64_t partition = 0, offset = 0;
    if (get_string(in, "topic", p.topic) || get_i64(in, "partition", partition) ||
        get_i64(in, "offset", offset) || partition < 0 || partition > INT32_MAX || offset < 0) {
      return corrupt(fmt::format("query {}: a bad input position", q.name));
    }
    p.partition = PartitionId(static_cast<int32_t>(partition));
    p.offset = Offset(offset);
    q.inputs.push_back(std::move(p));
  }
  return q;
}

Result<StateFileEntry> decode_state_file(element e, uint32_t shard_count) {
  StateFileEntry s;
  uint32_t shard = 0;
  if (get_u32(e, "shard", shard) || get_string(e, "file", s.file) || get_u64(e, "bytes", s.bytes) ||
      get_u32(e, "crc32c", s.crc32c)) {
    return corrupt("a state file entry lacks a field or has one of the wrong type");
  }
  if (shard >= shard_count) return corrupt(fmt::format("state file for shard {}", shard));
  if (!plain_file_name(s.file)) return corrupt(fmt::format("state file name \"{}\"", s.file));
  s.shard = ShardId(shard);
  return s;
}

Result<SinkFileEntry> decode_sink_file(element e) {
  SinkFileEntry s;
  if (get_string(e, "sink", s.sink) || get_string(e, "kind", s.kind) ||
      get_u64(e, "epoch", s.epoch) || get_string(e, "live_path", s.live_path) ||
      get_u64(e, "live_length", s.live_length) || get_string(e, "rotate_to", s.rotate_to) ||
      get_string(e, "staging_path", s.staging_path) ||
      get_u64(e, "staging_length", s.staging_length) || get_string(e, "header", s.header)) {
    return corrupt("a sink file entry lacks a field or has one of the wrong type");
  }
  if (s.live_path.empty() || s.staging_path.empty()) return corrupt("a sink file without a path");
  return s;
}

}  // namespace

std::string encode(const Manifest& m) {
  std::string out = "{";
  num_member(out, "format_version", m.format_version);
  out.push_back(',');
  num_member(out, "epoch", m.epoch);
  out.push_back(',');
  num_member(out, "created_ms", m.created_ms);
  out.push_back(',');
  num_member(out, "shard_count", m.shard_count);
  out += ",\"queries\":[";
  for (size_t i = 0; i < m.queries.size(); ++i) {
    const QueryEntry& q = m.queries[i];
    if (i > 0) out.push_back(',');
    out.push_back('{');
    str_member(out, "name", q.name);
    out.push_back(',');
    str_member(out, "state_fingerprint", fmt::format("{:016x}", q.state_fingerprint));
    out += ",\"inputs\":[";
    for (size_t j = 0; j < q.inputs.size(); ++j) {
      if (j > 0) out.push_back(',');
      out.push_back('{');
      str_member(out, "topic", q.inputs[j].topic);
      out.push_back(',');
      num_member(out, "partition", q.inputs[j].partition.value());
      out.push_back(',');
      num_member(out, "offset", q.inputs[j].offset.value());
      out.push_back('}');
    }
    out += "]}";
  }
  out += "],\"state_files\":[";
  for (size_t i = 0; i < m.state_files.size(); ++i) {
    const StateFileEntry& s = m.state_files[i];
    if (i > 0) out.push_back(',');
    out.push_back('{');
    num_member(out, "shard", s.shard.value());
    out.push_back(',');
    str_member(out, "file", s.file);
    out.push_back(',');
    num_member(out, "bytes", s.bytes);
    out.push_back(',');
    num_member(out, "crc32c", s.crc32c);
    out.push_back('}');
  }
  out += "],\"sink_files\":[";
  for (size_t i = 0; i < m.sink_files.size(); ++i) {
    const SinkFileEntry& s = m.sink_files[i];
    if (i > 0) out.push_back(',');
    out.push_back('{');
    str_member(out, "sink", s.sink);
    out.push_back(',');
    str_member(out, "kind", s.kind);
    out.push_back(',');
    num_member(out, "epoch", s.epoch);
    out.push_back(',');
    str_member(out, "live_path", s.live_path);
    out.push_back(',');
    num_member(out, "live_length", s.live_length);
    out.push_back(',');
    str_member(out, "rotate_to", s.rotate_to);
    out.push_back(',');
    str_member(out, "staging_path", s.staging_path);
    out.push_back(',');
    num_member(out, "staging_length", s.staging_length);
    out.push_back(',');
    str_member(out, "header", s.header);
    out.push_back('}');
  }
  out.push_back(']');
  const uint32_t crc = crc32c(0, out.data(), out.size());
  out += kCrcMember;
  fmt::format_to(std::back_inserter(out), "{}", crc);
  out += kEnd;
  return out;
}

Result<Manifest> decode(std::string_view text) {
  // Check the crc before parsing, so the parser only ever sees bytes the writer produced.
  if (text.size() < kEnd.size() || text.substr(text.size() - kEnd.size()) != kEnd) {
    return corrupt("truncated (no closing brace and newline)");
  }
  const size_t member = text.rfind(kCrcMember);
  if (member == std::string_view::npos) return corrupt("no crc32c member");
  const char* digits = text.data() + member + kCrcMember.size();
  const char* digits_end = text.data() + text.size() - kEnd.size();
  uint32_t stored = 0;
  auto [end, ec] = std::from_chars(digits, digits_end, stored);
  if (ec != std::errc() || end != digits_end || digits == digits_end || *digits == '+') {
    return corrupt("a malformed crc32c");
  }
  const uint32_t actual = crc32c(0, text.data(), member);
  if (actual != stored) {
    return corrupt(fmt::format("crc32c mismatch (stored {}, computed {})", stored, actual));
  }

  simdjson::dom::parser parser;
  simdjson::padded_string padded(text.data(), text.size());
  element doc;
  if (parser.parse(padded).get(doc)) return corrupt("not valid JSON");
  Manifest m;
  if (get_u32(doc, "format_version", m.format_version)) return corrupt("no format_version");
  if (m.format_version != kManifestFormatVersion) {
    return corrupt(fmt::format("format version {} (this build reads version {})", m.format_version,
                               kManifestFormatVersion));
  }
  array queries, state_files, sink_files;
  if (get_u64(doc, "epoch", m.epoch) || get_i64(doc, "created_ms", m.created_ms) ||
      get_u32(doc, "shard_count", m.shard_count) || doc["queries"].get(queries) ||
      doc["state_files"].get(state_files) || doc["sink_files"].get(sink_files)) {
    return corrupt("a top-level field is missing or has the wrong type");
  }
  for (element e : queries) {
    FRESHET_ASSIGN_OR_RETURN(QueryEntry q, decode_query(e));
    m.queries.push_back(std::move(q));
  }
  for (element e : state_files) {
    FRESHET_ASSIGN_OR_RETURN(StateFileEntry s, decode_state_file(e, m.shard_count));
    m.state_files.push_back(std::move(s));
  }
  for (element e : sink_files) {
    FRESHET_ASSIGN_OR_RETURN(SinkFileEntry s, decode_sink_file(e));
    m.sink_files.push_back(std::move(s));
  }
  return m;
}

}  // namespace freshet::checkpoint
