#include "freshet/query/aggregator.h"

#include <map>
#include <string>

#include "agg_table.h"
#include "freshet/base/assert.h"
#include "freshet/base/hash.h"
#include "freshet/base/time.h"
#include "json_extract.h"
#include "key_encoding.h"
#include "plan_spec.h"

namespace freshet::query {

namespace {

// Event time from the ts field: integer epoch ms, or an RFC 3339 string.
bool event_time_of(const Value& v, TimestampMs& ts) {
  switch (v.type) {
    case ValueType::kDecimal:
      if (v.dec.scale != 0) return false;  // parse_json_number drops fraction zeros: 5.0 -> 5
      ts = v.dec.mantissa;
      return true;
    case ValueType::kDouble:
      // Only integers survive: 1.7e12 is fine, 1.5e0 is not.
      if (!(v.dbl >= -9.2e18 && v.dbl <= 9.2e18) ||
          v.dbl != static_cast<double>(static_cast<int64_t>(v.dbl)))
        return false;
      ts = static_cast<int64_t>(v.dbl);
      return true;
    case ValueType::kString: {
      auto t = parse_rfc3339(v.str);
      if (!t) return false;
      ts = *t;
      return true;
    }
    default:
      return false;
  }
}

int three_way(double a, double b) { return a < b ? -1 : (a > b ? 1 : 0); }

// WHERE conjunct on an extracted value; NULL and type mismatches are false (SQL unknown).
bool predicate_holds(const FieldPredicate& p, const Value& v) {
  const Literal& l = p.literal;
  switch (v.type) {
    case ValueType::kDecimal:
      if (l.type != LiteralType::kNumber) return false;
      if (l.exact)
        return compare_holds(
            p.op, compare_decimal(v.dec.mantissa, v.dec.scale, l.dec.mantissa, l.dec.scale));
      return compare_holds(p.op, three_way(v.as_double(), l.dbl));
    case ValueType::kDouble:
      if (l.type != LiteralType::kNumber) return false;
      return compare_holds(
          p.op, three_way(v.dbl, l.exact ? decimal_to_double(l.dec.mantissa, l.dec.scale) : l.dbl));
    case ValueType::kString: {
      if (l.type != LiteralType::kString) return false;
      int c = v.str.compare(l.str);
      return compare_holds(p.op, c < 0 ? -1 : (c > 0 ? 1 : 0));
    }
    case ValueType::kFalse:
    case ValueType::kTrue:
      if (l.type != LiteralType::kBool) return false;
      return compare_holds(
          p.op, static_cast<int>(v.type == ValueType::kTrue) - static_cast<int>(l.boolean));
    default:
      return false;
  }
}

}  // namespace

class LocalAggregator::Impl {
 public:
  explicit Impl(std::shared_ptr<const Plan> plan)
      : plan_(std::move(plan)),
        spec_(plan_->spec()),
        extractor_(spec_.fields),
        values_(spec_.fields.size()) {}

  BatchStats add_batch(std::span<const std::string_view> records, size_t padding);
  void drain(TimestampMs watermark, uint32_t shard_count, std::vector<PartialBatch>& out);

  RejectFn reject_;
  std::string_view last_error_;
  TimestampMs drained_ = kMinTimestamp;
  std::map<TimestampMs, AggTable> windows_;

 private:
  void reject(BatchStats& st, RejectedRecord::Kind kind, size_t index, const char* reason,
              TimestampMs ts) {
    if (kind == RejectedRecord::Kind::kMalformed) {
      ++st.malformed;
      last_error_ = reason;
    } else {
      ++st.late;
    }
    if (reject_) reject_(RejectedRecord{kind, index, reason, ts});
  }
  AggTable& window(TimestampMs start) {
    if (start == cached_start_ && cached_ != nullptr) return *cached_;
    auto it = windows_.find(start);
    if (it == windows_.end())
      it = windows_.emplace(start, AggTable(static_cast<uint32_t>(spec_.aggs.size()))).first;
    cached_start_ = start;
    cached_ = &it->second;  // std::map nodes do not move
    return *cached_;
  }

  std::shared_ptr<const Plan> plan_;
  const PlanSpec& spec_;
  FieldExtractor extractor_;
  std::vector<Value> values_;
  std::string key_;
  TimestampMs cached_start_ = 0;
  AggTable* cached_ = nullptr;

  friend class LocalAggregator;
};

LocalAggregator::BatchStats LocalAggregator::Impl::add_batch(
    std::span<const std::string_view> records, size_t padding) {
  BatchStats st;
  st.records = records.size();
  const DurationMs size = spec_.window_size;
  Value* vals = values_.data();
  for (size_t i = 0; i < records.size(); ++i) {
    if (const char* err = extractor_.extract(records[i], padding, vals)) {
      reject(st, RejectedRecord::Kind::kMalformed, i, err, kMinTimestamp);
      continue;
    }
    TimestampMs ts;
    if (!event_time_of(vals[spec_.ts_field], ts)) {
      reject(st, RejectedRecord::Kind::kMalformed, i,
             vals[spec_.ts_field].is_null() ? "missing event time" : "invalid event time",
             kMinTimestamp);
      continue;
    }
    if (ts > st.max_event_time) st.max_event_time = ts;

    bool pass = true;
    for (const FieldPredicate& p : spec_.where) {
      if (!predicate_holds(p, vals[p.field])) {
        pass = false;
        break;
      }
    }
    if (!pass) {
      ++st.filtered_out;
      continue;
    }

    // Tumbling window [start, start + size), with a floor modulo so negative times work.
    TimestampMs mod = ts % size;
    if (mod < 0) mod += size;
    TimestampMs start = ts - mod;
    if (start > kMaxTimestamp - size) {
      reject(st, RejectedRecord::Kind::kMalformed, i, "event time out of range", ts);
      continue;
    }
    if (start + size - 1 <= drained_) {
      reject(st, RejectedRecord::Kind::kLate, i, "window already closed", ts);
      continue;
    }

    const char* bad = nullptr;
    for (const AggSpec& a : spec_.aggs) {
      if (a.field < 0) continue;
      const Value& v = vals[a.field];
      if (v.is_null() || v.is_number()) continue;
      if (v.type == ValueType::kString && (a.kind == AggKind::kMin || a.kind == AggKind::kMax))
        continue;
      bad = "aggregated field is not a number";
      break;
    }
    key_.clear();
    if (bad == nullptr) {
      for (int f : spec_.group_fields) {
        const Value& v = vals[f];
        if (v.type == ValueType::kOther) {
          bad = "group column is an object or array";
          break;
        }
        encode_key_value(key_, v);
      }
    }
    if (bad != nullptr) {
      reject(st, RejectedRecord::Kind::kMalformed, i, bad, ts);
      continue;
    }

    AggTable& table = window(start);
    AggState* states = table.find_or_insert(key_, hash64(key_));
    for (size_t a = 0; a < spec_.aggs.size(); ++a) {
      const AggSpec& as = spec_.aggs[a];
      agg_add(as.kind, states[a], table.bytes(), as.field < 0 ? vals[0] : vals[as.field]);
    }
  }
  return st;
}

void LocalAggregator::Impl::drain(TimestampMs watermark, uint32_t shard_count,
                                  std::vector<PartialBatch>& out) {
  FRESHET_ASSERT(shard_count > 0, "drain needs at least one shard");
  out.resize(shard_count);
  const auto n_aggs = static_cast<uint32_t>(spec_.aggs.size());
  for (PartialBatch& b : out) b.aggs_per_entry = n_aggs;
  const DurationMs size = spec_.window_size;
  for (auto it = windows_.begin(); it != windows_.end() && it->first + size - 1 <= watermark;) {
    const AggTable& t = it->second;
    const char* bytes = t.bytes().data();
    for (size_t e = 0; e < t.entries().size(); ++e) {
      const AggTable::Entry& en = t.entries()[e];
      PartialBatch& b = out[en.hash % shard_count];
      PartialBatch::Entry pe{it->first, en.hash, static_cast<uint32_t>(b.bytes.size()), en.key_len};
      std::string_view key = t.key(en);
      b.bytes.insert(b.bytes.end(), key.begin(), key.end());
      b.entries.push_back(pe);
      const AggState* s = t.states(e);
      for (uint32_t a = 0; a < n_aggs; ++a) b.states.push_back(agg_relocate(s[a], bytes, b.bytes));
    }
    it = windows_.erase(it);
  }
  cached_ = nullptr;
  if (watermark > drained_) drained_ = watermark;
}

LocalAggregator::LocalAggregator(std::shared_ptr<const Plan> plan)
    : impl_(std::make_unique<Impl>(std::move(plan))) {}
LocalAggregator::~LocalAggregator() = default;

LocalAggregator::BatchStats LocalAggregator::add_batch(std::span<const std::string_view> values,
                                                       size_t readable_padding) {
  return impl_->add_batch(values, readable_padding);
}

void LocalAggregator::drain(TimestampMs watermark, uint32_t shard_count,
                            std::vector<PartialBatch>& out) {
  impl_->drain(watermark, shard_count, out);
}

void LocalAggregator::set_reject_callback(RejectFn fn) { impl_->reject_ = std::move(fn); }
std::string_view LocalAggregator::last_error() const { return impl_->last_error_; }
TimestampMs LocalAggregator::drained_watermark() const { return impl_->drained_; }
size_t LocalAggregator::open_windows() const { return impl_->windows_.size(); }

}  // namespace freshet::query
