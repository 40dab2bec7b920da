#include "freshet/query/aggregator.h"

#include <map>
#include <string>

#include "agg_table.h"
#include "freshet/base/assert.h"
#include "freshet/base/hash.h"
#include "plan_spec.h"
#include "record_reader.h"
#include "session_list.h"
#include "windows.h"

namespace freshet::query {

class LocalAggregator::Impl {
 public:
  explicit Impl(std::shared_ptr<const Plan> plan)
      : plan_(std::move(plan)),
        spec_(plan_->spec()),
        reader_(spec_),
        panes_of_(spec_),
        n_aggs_(static_cast<uint32_t>(spec_.aggs.size())) {
    FRESHET_ASSERT(!spec_.stateless(), "a stateless plan runs in a StatelessOperator");
  }

  BatchStats add_batch(std::span<const std::string_view> records, size_t padding, LateCause cause);
  // Ships what drain(watermark) would, without moving drained_.
  void ship(TimestampMs watermark, uint32_t shard_count, std::vector<PartialBatch>& out);
  size_t open_windows() const {
    size_t n = panes_.size();
    for (const auto& e : sessions_.entries()) n += e.list.size();
    return n;
  }

  RejectFn reject_;
  TimestampMs future_bound_ = kMaxTimestamp;
  std::string_view last_error_;
  TimestampMs drained_ = kMinTimestamp;

 private:
  void reject(BatchStats& st, RejectedRecord::Kind kind, size_t index, const char* reason,
              TimestampMs ts) {
    if (kind == RejectedRecord::Kind::kMalformed) {
      ++st.malformed;
      last_error_ = reason;
    } else {
      ++st.late;
    }
    if (reject_) reject_(RejectedRecord{kind, index, reason, ts, drained_});
  }
  AggTable& pane(TimestampMs start) {
    if (start == cached_start_ && cached_ != nullptr) return *cached_;
    auto it = panes_.find(start);
    if (it == panes_.end()) it = panes_.emplace(start, AggTable(n_aggs_)).first;
    cached_start_ = start;
    cached_ = &it->second;  // std::map nodes do not move
    return *cached_;
  }
  void drain_sessions(TimestampMs watermark, uint32_t shard_count, std::vector<PartialBatch>& out);

  std::shared_ptr<const Plan> plan_;
  const PlanSpec& spec_;
  RecordReader reader_;
  PaneWindows panes_of_;
  uint32_t n_aggs_;
  std::map<TimestampMs, AggTable> panes_;  // by pane start
  SessionTable sessions_;                  // by group key
  DueQueue to_ship_;                       // keys by the start of their first piece
  TimestampMs cached_start_ = 0;
  AggTable* cached_ = nullptr;
};

LocalAggregator::BatchStats LocalAggregator::Impl::add_batch(
    std::span<const std::string_view> records, size_t padding, LateCause cause) {
  BatchStats st;
  const bool resumed = cause == LateCause::kAfterIdleResume;
  const char* late_reason = resumed ? "after_idle_resume" : "past_lateness";
  st.records = records.size();
  const bool session = spec_.session();
  const DurationMs lateness = spec_.allowed_lateness;
  for (size_t i = 0; i < records.size(); ++i) {
    if (const char* err = reader_.read(records[i], padding)) {
      reject(st, RejectedRecord::Kind::kMalformed, i, err, kMinTimestamp);
      continue;
    }
    TimestampMs ts;
    if (const char* err = reader_.event_time(ts)) {
      reject(st, RejectedRecord::Kind::kMalformed, i, err, kMinTimestamp);
      continue;
    }
    if (ts > future_bound_)
      ++st.future_clamped;
    else if (ts > st.max_event_time)
      st.max_event_time = ts;
    if (!reader_.passes_where()) {
      ++st.filtered_out;
      continue;
    }

    // Window assignment and lateness: late only if every window is past cleanup.
    TimestampMs start, last_end;
    if (session) {
      start = ts;
      if (ts > kMaxTimestamp - spec_.gap) {
        reject(st, RejectedRecord::Kind::kMalformed, i, "event time out of range", ts);
        continue;
      }
      last_end = ts + spec_.gap;
    } else {
      start = panes_of_.pane_of(ts);
      if (!panes_of_.in_range(start)) {
        reject(st, RejectedRecord::Kind::kMalformed, i, "event time out of range", ts);
        continue;
      }
      last_end = panes_of_.last_end(start);
    }
    if (saturating_add(last_end - 1, lateness) <= drained_) {
      reject(st, RejectedRecord::Kind::kLate, i, late_reason, ts);
      st.late_after_idle_resume += resumed;
      continue;
    }

    const char* bad = reader_.eval_args();
    if (bad == nullptr) bad = reader_.build_key();
    if (bad != nullptr) {
      reject(st, RejectedRecord::Kind::kMalformed, i, bad, ts);
      continue;
    }

    const std::string& key = reader_.key();
    if (session) {
      std::vector<Session>& list = sessions_.get(key, hash64(key));
      const TimestampMs first = list.empty() ? kMaxTimestamp : list.front().start;
      Session& s = session_add(list, ts, last_end, spec_.aggs);
      for (uint32_t a = 0; a < n_aggs_; ++a)
        agg_add(spec_.aggs[a].kind, s.states[a], s.store, reader_.arg(a), ts);
      if (list.front().start < first) to_ship_.push(list.front().start, key);
      continue;
    }
    AggTable& table = pane(start);
    AggState* states = table.find_or_insert(key, hash64(key));
    for (uint32_t a = 0; a < n_aggs_; ++a)
      agg_add(spec_.aggs[a].kind, states[a], table.bytes(), reader_.arg(a), ts);
  }
  return st;
}

void LocalAggregator::Impl::ship(TimestampMs watermark, uint32_t shard_count,
                                 std::vector<PartialBatch>& out) {
  FRESHET_ASSERT(shard_count > 0, "drain needs at least one shard");
  out.resize(shard_count);
  for (PartialBatch& b : out) b.aggs_per_entry = n_aggs_;
  if (spec_.session()) {
    drain_sessions(watermark, shard_count, out);
  } else {
    for (auto it = panes_.begin();
         it != panes_.end() && panes_of_.first_end(it->first) - 1 <= watermark;) {
      const AggTable& t = it->second;
      for (size_t e = 0; e < t.entries().size(); ++e) {
        const AggTable::Entry& en = t.entries()[e];
        PartialBatch& b = out[en.hash % shard_count];
        PartialBatch::Entry pe{it->first, panes_of_.first_end(it->first), en.hash,
                               static_cast<uint32_t>(b.bytes.size()), en.key_len};
        std::string_view key = t.key(en);
        b.bytes.insert(b.bytes.end(), key.begin(), key.end());
        b.entries.push_back(pe);
        const AggState* s = t.states(e);
        for (uint32_t a = 0; a < n_aggs_; ++a)
          b.states.push_back(agg_export(spec_.aggs[a].kind, s[a], t.bytes(), b.bytes));
      }
      it = panes_.erase(it);
    }
    cached_ = nullptr;
  }
}

void LocalAggregator::Impl::drain_sessions(TimestampMs watermark, uint32_t shard_count,
                                           std::vector<PartialBatch>& out) {
  // A piece that starts after watermark + 1 cannot touch a session that fires at watermark
  // (such a session ends at or before watermark + 1); every other piece must reach the
  // owner before the watermark does.
  const TimestampMs limit = saturating_add(watermark, 1);
  while (to_ship_.due(limit)) {
    const std::string key = to_ship_.pop();
    SessionTable::Entry* e = sessions_.find(key, hash64(key));
    if (e == nullptr) continue;  // shipped whole at an earlier pop
    std::vector<Session>& list = e->list;
    PartialBatch& b = out[e->hash % shard_count];
    size_t shipped = 0;
    while (shipped < list.size() && list[shipped].start <= limit) {
      const Session& s = list[shipped];
      b.entries.push_back({s.start, s.end, e->hash, static_cast<uint32_t>(b.bytes.size()),
                           static_cast<uint32_t>(key.size())});
      b.bytes.insert(b.bytes.end(), key.begin(), key.end());
      for (uint32_t a = 0; a < n_aggs_; ++a)
        b.states.push_back(agg_export(spec_.aggs[a].kind, s.states[a], s.store, b.bytes));
      ++shipped;
    }
    list.erase(list.begin(), list.begin() + static_cast<ptrdiff_t>(shipped));
    if (list.empty())
      sessions_.erase(*e);
    else
      to_ship_.push(list.front().start, key);  // after limit: not popped again in this loop
  }
}

LocalAggregator::LocalAggregator(std::shared_ptr<const Plan> plan)
    : impl_(std::make_unique<Impl>(std::move(plan))) {}
LocalAggregator::~LocalAggregator() = default;

LocalAggregator::BatchStats LocalAggregator::add_batch(std::span<const std::string_view> values,
                                                       size_t readable_padding, LateCause cause) {
  return impl_->add_batch(values, readable_padding, cause);
}

void LocalAggregator::drain(TimestampMs watermark, uint32_t shard_count,
                            std::vector<PartialBatch>& out) {
  impl_->ship(watermark, shard_count, out);
  restore_watermark(watermark);
}

// kMaxTimestamp selects every pane (first_end - 1 <= kMax) and every session piece (start
// <= saturating watermark + 1).
void LocalAggregator::drain_all(uint32_t shard_count, std::vector<PartialBatch>& out) {
  impl_->ship(kMaxTimestamp, shard_count, out);
}

void LocalAggregator::restore_watermark(TimestampMs watermark) {
  if (watermark > impl_->drained_) impl_->drained_ = watermark;
}

void LocalAggregator::set_reject_callback(RejectFn fn) { impl_->reject_ = std::move(fn); }
void LocalAggregator::set_future_bound(TimestampMs bound) { impl_->future_bound_ = bound; }
std::string_view LocalAggregator::last_error() const { return impl_->last_error_; }
TimestampMs LocalAggregator::drained_watermark() const { return impl_->drained_; }
size_t LocalAggregator::open_windows() const { return impl_->open_windows(); }

}  // namespace freshet::query
