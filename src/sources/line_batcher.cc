#include "freshet/sources/line_batcher.h"

#include <simdjson.h>

#include <algorithm>

#include "freshet/base/assert.h"
#include "freshet/base/hash.h"
#include "freshet/log/segment_format.h"
#include "freshet/sources/source_position.h"

namespace freshet::sources {
namespace {
// Room past a batch's expected size for the line that crosses the limit and the position
// header.
constexpr size_t kBatchSlack = 2048;

// Only spaces and tabs. Lines almost always start with their JSON, so this returns at once.
bool blank(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t') return false;
  return true;
}
}  // namespace

LineBatcher::LineBatcher(std::string key_field, int32_t partitions, Emit emit,
                         size_t max_batch_bytes)
    : key_field_(std::move(key_field)),
      partitions_(partitions),
      emit_(std::move(emit)),
      max_batch_bytes_(max_batch_bytes),
      open_(static_cast<size_t>(partitions)) {
  for (size_t start = 0; !key_field_.empty() && start <= key_field_.size();) {
    size_t dot = key_field_.find('.', start);
    if (dot == std::string::npos) dot = key_field_.size();
    key_path_.push_back(key_field_.substr(start, dot - start));
    start = dot + 1;
  }
}

bool LineBatcher::key_of(std::string_view line, std::string& key) {
  if (key_path_.empty()) return false;
  // Only the key field is parsed (On-Demand stops there); the copy gives simdjson the padding
  // it needs, and lines are short next to everything else done per record.
  thread_local simdjson::ondemand::parser parser;
  padded_.assign(line);
  padded_.append(simdjson::SIMDJSON_PADDING, ' ');
  simdjson::ondemand::document doc;
  if (parser.iterate(padded_.data(), line.size(), padded_.size()).get(doc)) return false;
  simdjson::ondemand::value v;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return false;
  for (size_t i = 0; i < key_path_.size(); ++i) {
    if (obj.find_field_unordered(key_path_[i]).get(v)) return false;
    if (i + 1 < key_path_.size() && v.get_object().get(obj)) return false;
  }
  simdjson::ondemand::json_type t;
  if (v.type().get(t) || t == simdjson::ondemand::json_type::null) return false;
  if (t == simdjson::ondemand::json_type::string) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    key.assign(s);
    return true;
  }
  std::string_view raw = v.raw_json_token();
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r'))
    raw.remove_suffix(1);
  key.assign(raw);
  return true;
}

void LineBatcher::track_positions(std::string_view source, std::string origin_path,
                                  uint64_t origin_offset) {
  header_key_ = position_header_key(source);
  origin_path_ = std::move(origin_path);
  origin_offset_ = origin_offset;
}

void LineBatcher::begin_file(std::string path, uint64_t offset) {
  ++file_;
  path_ = std::move(path);
  file_pos_ = offset;
}

void LineBatcher::resume_at(uint64_t line, std::vector<uint64_t> holds) {
  lines_ = line;
  round_robin_ = static_cast<int32_t>(line % static_cast<uint64_t>(partitions_));
  holds_ = std::move(holds);
  holds_.resize(static_cast<size_t>(partitions_), 0);
  skip_below_ = 0;
  for (uint64_t h : holds_) skip_below_ = std::max(skip_below_, h);
}

void LineBatcher::add_line(std::string_view line, TimestampMs now, uint64_t end, bool in_feed) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (blank(line)) return;
  const uint64_t number = lines_++;
  // number % partitions, kept as a counter: a division per line is a visible share of it.
  const int32_t round_robin = round_robin_;
  if (++round_robin_ == partitions_) round_robin_ = 0;
  const bool keyed = key_of(line, key_);
  const int32_t p = keyed ? kafka_partition(key_, partitions_) : round_robin;
  if (number < skip_below_ && number < holds_[static_cast<size_t>(p)]) [[unlikely]]
    return;  // appended before a restart
  auto& o = open_[static_cast<size_t>(p)];
  if (!remote_.empty() && remote_[static_cast<size_t>(p)]) {
    add_remote(o, line, now, keyed, in_feed);
  } else {
    add_here(o, line, now, keyed);
  }
  if (o.file != file_) {
    o.file = file_;
    o.path = path_;
  }
  o.end = end;
  o.lines_after = number + 1;
  const size_t bytes = o.remote ? o.remote->bytes : o.bytes.size();
  if (bytes >= max_batch_bytes_) emit_batch(static_cast<size_t>(p));
}

void LineBatcher::add_here(Open& o, std::string_view line, TimestampMs now, bool keyed) {
  const std::optional<std::string_view> key =
      keyed ? std::optional<std::string_view>(key_) : std::nullopt;
  if (!o.builder) {
    // Reserved at once, as big as this partition's last batch (a batch is usually as full as
    // the one before it): growing by doubling copied each batch about twice over. Not the
    // maximum: with many partitions most batches stay small.
    o.bytes.clear();
    o.bytes.reserve(std::min(o.last_size, max_batch_bytes_) + kBatchSlack);
    o.builder.emplace(o.bytes, now);
    if (!header_key_.empty()) {
      // A position header of the size the real one will have, unless the batch goes on into
      // another file: emit_batch() then overwrites it without moving the records after it.
      const std::string value = position_placeholder();
      const log::RecordHeader position[] = {{header_key_, std::string_view(value)}};
      o.builder->add(key, line, now, position);
    } else {
      o.builder->add(key, line, now);
    }
  } else {
    o.builder->add(key, line, now);
  }
}

void LineBatcher::add_remote(Open& o, std::string_view line, TimestampMs now, bool keyed,
                             bool in_feed) {
  // Sized exactly as add_here() would have built it, so that batches end at the same lines:
  // the first record with a position header of the final size.
  std::string placeholder;
  log::RecordHeader position[1];
  std::span<const log::RecordHeader> headers;
  if (!o.remote) {
    o.remote.emplace();
    o.remote->base_ts = now;
    o.remote->bytes = log::kBatchHeaderSize;
    if (!header_key_.empty()) {
      placeholder = position_placeholder();
      position[0] = {header_key_, std::string_view(placeholder)};
      headers = position;
    }
  }
  Remote& r = *o.remote;
  Remote::Line l;
  l.at = now;
  if (keyed) {
    l.keyed = true;
    l.key_off = static_cast<uint32_t>(r.keys.size());
    l.key_len = static_cast<uint32_t>(key_.size());
    r.keys += key_;
  }
  r.bytes += log::BatchBuilder::record_size(
      keyed ? std::optional<size_t>(key_.size()) : std::nullopt, line.size(), now - r.base_ts,
      static_cast<uint32_t>(r.lines.size()), headers);
  if (in_feed) {
    FRESHET_ASSERT(keep_ != nullptr, "a batcher that builds elsewhere needs feed() with keep");
    if (r.keep.empty() || r.keep.back() != keep_) r.keep.push_back(keep_);
    l.value = line;
  } else {
    // The line that spanned two reads lives in carry_, which the next one overwrites.
    auto copy = std::make_shared<const std::string>(line);
    l.value = *copy;
    r.keep.push_back(std::move(copy));
  }
  r.lines.push_back(l);
}

std::string LineBatcher::position_placeholder() const {
  return FilePosition{0, 0, path_, origin_offset_, origin_path_}.encode();
}

std::string LineBatcher::position_after(const Open& o) const {
  return FilePosition{o.lines_after, o.end, o.path, origin_offset_, origin_path_}.encode();
}

void LineBatcher::build_elsewhere(std::vector<bool> remote, EmitRemote emit_remote) {
  remote.resize(static_cast<size_t>(partitions_), false);
  remote_ = std::move(remote);
  emit_remote_ = std::move(emit_remote);
}

uint32_t LineBatcher::build_remote(const Remote& r, std::string& out) {
  out.clear();
  out.reserve(r.bytes + kBatchSlack);
  log::BatchBuilder b(out, r.base_ts);
  for (size_t i = 0; i < r.lines.size(); ++i) {
    const Remote::Line& l = r.lines[i];
    const std::optional<std::string_view> key =
        l.keyed
            ? std::optional<std::string_view>(std::string_view(r.keys).substr(l.key_off, l.key_len))
            : std::nullopt;
    if (i == 0 && !r.header_key.empty()) {
      const log::RecordHeader position[] = {{r.header_key, std::string_view(r.position)}};
      b.add(key, l.value, l.at, position);
    } else {
      b.add(key, l.value, l.at);
    }
  }
  b.finish(Offset(0));
  return b.count();
}

void LineBatcher::emit_batch(size_t p) {
  auto& o = open_[p];
  if (o.remote) {
    Remote r = std::move(*o.remote);
    o.remote.reset();
    if (!header_key_.empty()) {
      r.header_key = header_key_;
      r.position = position_after(o);
    }
    emit_remote_(static_cast<int32_t>(p), std::move(r));
    return;
  }
  if (!header_key_.empty()) {
    const std::string value = position_after(o);
    const log::RecordHeader position[] = {{header_key_, std::string_view(value)}};
    o.builder->set_first_record_headers(position);
  }
  o.builder->finish(Offset(0));
  const uint32_t n = o.builder->count();
  o.builder.reset();
  o.last_size = o.bytes.size();
  emit_(static_cast<int32_t>(p), std::move(o.bytes), n);
}

void LineBatcher::feed(std::string_view bytes, TimestampMs now, std::shared_ptr<const void> keep) {
  keep_ = std::move(keep);
  feed(bytes, now);
  keep_.reset();
}

void LineBatcher::feed(std::string_view bytes, TimestampMs now) {
  const uint64_t base = file_pos_;  // the file offset of bytes[0]
  file_pos_ += bytes.size();
  size_t start = 0;
  if (!carry_.empty()) {
    const size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      carry_.append(bytes);
      return;
    }
    carry_.append(bytes.substr(0, nl));
    add_line(carry_, now, base + nl + 1, false);
    consumed_ += carry_.size() + 1;
    carry_.clear();
    start = nl + 1;
  }
  for (size_t nl; (nl = bytes.find('\n', start)) != std::string_view::npos; start = nl + 1) {
    add_line(bytes.substr(start, nl - start), now, base + nl + 1, true);
    consumed_ += nl - start + 1;
  }
  carry_.append(bytes.substr(start));
}

void LineBatcher::end_of_file(TimestampMs now) {
  if (!carry_.empty()) {
    add_line(carry_, now, file_pos_, false);
    consumed_ += carry_.size();
    carry_.clear();
  }
}

size_t LineBatcher::open_bytes() const {
  size_t n = 0;
  for (const auto& o : open_) {
    if (o.builder) n += o.bytes.size();
    if (o.remote) n += o.remote->bytes;
  }
  return n;
}

void LineBatcher::flush() {
  for (size_t p = 0; p < open_.size(); ++p)
    if (open_[p].builder || open_[p].remote) emit_batch(p);
}

}  // namespace freshet::sources
