#include "snapshot_codec.h"

#include <fmt/format.h>

#include "decimal.h"
#include "freshet/base/crc32c.h"
#include "key_encoding.h"
#include "snapshot_format.h"

namespace freshet::query {

namespace {

bool is_sketch(AggKind kind) {
  return kind == AggKind::kCountDistinct || kind == AggKind::kApproxDistinct ||
         kind == AggKind::kPercentile;
}

template <typename T>
T load_le(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

constexpr uint8_t kKnownFlags = kAggInexact | kAggHasExt | kMmTypeMask;

}  // namespace

// ---- writer ----

size_t snapshot_bytes_per_entry(const PlanSpec& spec) {
  size_t n = 0;
  for (const AggSpec& a : spec.aggs) n += kAggStateFixedSize + (is_sketch(a.kind) ? 48 : 0);
  return n;
}

SnapshotWriter::SnapshotWriter(std::string& out, uint64_t fingerprint, uint16_t layout,
                               uint16_t aggs)
    : out_(out), header_(out.size()) {
  raw(kSnapshotMagic, 4);
  u32(kSnapshotFormatVersion);
  u64(fingerprint);
  u64(0);  // body_length, set by finish()
  u32(0);  // body_crc, set by finish()
  raw(&layout, 2);
  raw(&aggs, 2);
}

void SnapshotWriter::finish() {
  const size_t body = header_ + kSnapshotHeaderSize;
  const uint64_t length = out_.size() - body;
  const uint32_t crc = crc32c(0, out_.data() + body, length);
  std::memcpy(out_.data() + header_ + 16, &length, 8);
  std::memcpy(out_.data() + header_ + kSnapshotBodyCrcOffset, &crc, 4);
}

void SnapshotWriter::states(const std::vector<AggSpec>& aggs, const AggState* states,
                            const ByteStore& store) {
  for (size_t a = 0; a < aggs.size(); ++a) state(aggs[a].kind, states[a], store);
}

void SnapshotWriter::state(AggKind kind, const AggState& s, const ByteStore& store) {
  // The fixed part in one append (the hot path: most states have no payload).
  char fixed[kAggStateFixedSize];
  const auto sum = static_cast<UInt128>(s.sum);
  const auto lo = static_cast<uint64_t>(sum), hi = static_cast<uint64_t>(sum >> 64);
  std::memcpy(fixed, &lo, 8);
  std::memcpy(fixed + 8, &hi, 8);
  std::memcpy(fixed + 16, &s.dbl, 8);
  std::memcpy(fixed + 24, &s.count, 8);
  fixed[32] = static_cast<char>(s.scale);
  fixed[33] = static_cast<char>(s.flags);
  std::string_view str;
  if ((s.flags & kMmTypeMask) == kMmString && !is_sketch(kind))
    str = {store.data() + s.str_off, s.str_len};  // MIN/MAX string, FIRST/LAST encoding
  const auto str_len = static_cast<uint32_t>(str.size());
  std::memcpy(fixed + 34, &str_len, 4);
  const size_t len_at = out_.size() + 34;
  raw(fixed, sizeof fixed);
  if (!(s.flags & kAggHasExt)) {
    out_.append(str);
    return;
  }
  const ExtState& e = store.ext[s.str_off];
  switch (kind) {
    case AggKind::kCountDistinct:
      u32(static_cast<uint32_t>(e.distinct.size()));
      for (const std::string& v : e.distinct) key(v);
      break;
    case AggKind::kApproxDistinct:
    case AggKind::kPercentile:
      scratch_.clear();
      if (kind == AggKind::kApproxDistinct)
        e.hll.serialize(scratch_);
      else
        e.dd.serialize(scratch_);
      out_.append(scratch_.data(), scratch_.size());
      break;
    default:
      break;
  }
  // The payload length is known once it is written: patch it (one pass, no copy of the set).
  const auto len = static_cast<uint32_t>(out_.size() - len_at - 4);
  std::memcpy(out_.data() + len_at, &len, 4);
}

// ---- reader ----

SnapshotReader::SnapshotReader(std::string_view image, const PlanSpec& spec, uint64_t fingerprint,
                               uint16_t layout)
    : spec_(spec) {
  if (image.size() < kSnapshotHeaderSize) {
    fail(fmt::format("truncated: {} bytes, shorter than the {}-byte header", image.size(),
                     kSnapshotHeaderSize));
    return;
  }
  const char* h = image.data();
  if (std::memcmp(h, kSnapshotMagic, 4) != 0) {
    fail("bad magic: not a query state snapshot");
    return;
  }
  if (auto v = load_le<uint32_t>(h + kSnapshotVersionOffset); v != kSnapshotFormatVersion) {
    fail(fmt::format("unknown format version {} (this build reads {})", v, kSnapshotFormatVersion));
    return;
  }
  if (auto f = load_le<uint64_t>(h + 8); f != fingerprint) {
    fail(fmt::format("plan fingerprint {:016x} does not match this query's {:016x}", f,
                     fingerprint));
    return;
  }
  if (auto l = load_le<uint16_t>(h + 28); l != layout) {
    fail(fmt::format("layout {} does not match this query's {}", l, layout));
    return;
  }
  if (auto n = load_le<uint16_t>(h + 30); n != spec.aggs.size()) {
    fail(fmt::format("{} aggregates per entry, the query has {}", n, spec.aggs.size()));
    return;
  }
  const auto length = load_le<uint64_t>(h + 16);
  if (length != image.size() - kSnapshotHeaderSize) {
    fail(fmt::format("body is {} bytes, the header says {} (truncated or padded)",
                     image.size() - kSnapshotHeaderSize, length));
    return;
  }
  body_ = in_ = image.substr(kSnapshotHeaderSize);
  if (crc32c(0, body_.data(), body_.size()) != load_le<uint32_t>(h + kSnapshotBodyCrcOffset))
    fail("body CRC mismatch");
}

Status SnapshotReader::status() const {
  if (ok()) return freshet::ok();
  return make_error(ErrorCode::kCorruption, "query state snapshot: {} (at byte {})", error_,
                    error_at_);
}

bool SnapshotReader::fail(std::string_view what) {
  if (error_.empty()) {
    error_ = std::string(what);
    error_at_ = body_.empty() ? 0 : kSnapshotHeaderSize + (body_.size() - in_.size());
  }
  in_ = {};  // nothing more to read: every later read fails without overwriting the cause
  return false;
}

bool SnapshotReader::raw(void* p, size_t n, const char* what) {
  if (in_.size() < n) return fail(fmt::format("truncated {}", what));
  std::memcpy(p, in_.data(), n);
  in_.remove_prefix(n);
  return true;
}

bool SnapshotReader::count(uint64_t& n, size_t min_item_bytes, const char* what) {
  if (!u64(n)) return false;
  if (n > in_.size() / (min_item_bytes == 0 ? 1 : min_item_bytes))
    return fail(fmt::format("{} count {} exceeds the bytes left", what, n));
  return true;
}

bool SnapshotReader::key(std::string_view& k) {
  uint32_t len;
  if (!u32(len)) return false;
  if (len > in_.size()) return fail("truncated group key");
  k = in_.substr(0, len);
  in_.remove_prefix(len);
  // GroupRow::load (and so fire()) asserts that a key decodes: check it here instead.
  std::string_view rest = k;
  Value v;
  for (size_t i = 0; i < spec_.group_exprs.size(); ++i) {
    arena_.reset();
    if (!decode_key_value(rest, v, arena_)) return fail("undecodable group key");
  }
  if (!rest.empty()) return fail("group key has more values than GROUP BY");
  return true;
}

bool SnapshotReader::one_value(std::string_view enc) {
  arena_.reset();
  Value v;
  return decode_key_value(enc, v, arena_) && enc.empty();
}

bool SnapshotReader::states(AggState* states, ByteStore& store) {
  for (size_t a = 0; a < spec_.aggs.size(); ++a)
    if (!state(spec_.aggs[a].kind, states[a], store)) return false;
  return true;
}

bool SnapshotReader::state(AggKind kind, AggState& s, ByteStore& store) {
  uint64_t lo, hi;
  uint32_t len;
  if (!u64(lo) || !u64(hi) || !raw(&s.dbl, 8, "f64") || !i64(s.count) || !u8(s.scale) ||
      !u8(s.flags) || !u32(len))
    return false;
  s.sum = static_cast<Int128>((static_cast<UInt128>(hi) << 64) | lo);
  if (len > in_.size()) return fail("truncated aggregate payload");
  std::string_view payload = in_.substr(0, len);
  in_.remove_prefix(len);

  if (s.count < 0) return fail("negative aggregate count");
  if (s.scale > kMaxScale) return fail("decimal scale above 18");
  if (s.flags & ~kKnownFlags) return fail("unknown aggregate flags");
  const uint8_t type = s.flags & kMmTypeMask;
  const bool has_ext = (s.flags & kAggHasExt) != 0;
  if (has_ext != (is_sketch(kind) && s.count > 0))
    return fail("sketch present without values or values without a sketch");
  switch (kind) {
    case AggKind::kMin:
    case AggKind::kMax:
      if (type != kMmString && !payload.empty()) return fail("payload on a numeric MIN/MAX");
      break;
    case AggKind::kFirst:
    case AggKind::kLast:
      if (type != kMmNone && type != kMmString) return fail("bad FIRST/LAST value type");
      if (type == kMmString && !one_value(payload)) return fail("undecodable FIRST/LAST value");
      if (type == kMmNone && !payload.empty()) return fail("payload on an empty FIRST/LAST");
      break;
    default:
      if (type != kMmNone) return fail("value type bits on a non-MIN/MAX aggregate");
      if (!has_ext && !payload.empty()) return fail("unexpected aggregate payload");
      break;
  }
  if (type == kMmString) {
    if (store.size() + payload.size() >= UINT32_MAX) return fail("window state over 4 GiB");
    s.str_off = static_cast<uint32_t>(store.size());
    s.str_len = s.str_cap = static_cast<uint32_t>(payload.size());
    store.insert(store.end(), payload.begin(), payload.end());
    return true;
  }
  s.str_off = s.str_len = s.str_cap = 0;
  if (!has_ext) return true;

  s.str_off = static_cast<uint32_t>(store.ext.size());
  ExtState& e = store.ext.emplace_back();
  switch (kind) {
    case AggKind::kCountDistinct: {
      uint32_t n;
      if (payload.size() < 4) return fail("truncated COUNT(DISTINCT) set");
      std::memcpy(&n, payload.data(), 4);
      payload.remove_prefix(4);
      if (n > payload.size() / 5) return fail("COUNT(DISTINCT) size exceeds its payload");
      e.distinct.reserve(n);
      for (uint32_t i = 0; i < n; ++i) {
        uint32_t vlen;
        if (payload.size() < 4) return fail("truncated COUNT(DISTINCT) value");
        std::memcpy(&vlen, payload.data(), 4);
        payload.remove_prefix(4);
        if (vlen > payload.size()) return fail("truncated COUNT(DISTINCT) value");
        std::string_view v = payload.substr(0, vlen);
        payload.remove_prefix(vlen);
        if (!one_value(v)) return fail("undecodable COUNT(DISTINCT) value");
        if (!e.distinct.emplace(v).second) return fail("duplicate COUNT(DISTINCT) value");
      }
      break;
    }
    case AggKind::kApproxDistinct:
      if (!e.hll.parse(payload)) return fail("malformed HyperLogLog");
      break;
    case AggKind::kPercentile:
      if (!e.dd.parse(payload)) return fail("malformed DDSketch");
      break;
    default:
      break;
  }
  if (!payload.empty()) return fail("trailing bytes in a sketch");
  return true;
}

}  // namespace freshet::query
