// WindowMerger: one implementation for pane windows (TUMBLE, HOP, CUMULATE) and one for
// sessions, behind the same interface.

#include "freshet/query/merger.h"

#include <algorithm>
#include <map>
#include <set>

#include "agg_table.h"
#include "freshet/base/assert.h"
#include "freshet/base/hash.h"
#include "key_order.h"
#include "plan_spec.h"
#include "row_format.h"
#include "session_list.h"
#include "snapshot_codec.h"
#include "snapshot_format.h"
#include "windows.h"

namespace freshet::query {

class WindowMerger::Impl {
 public:
  virtual ~Impl() = default;
  virtual void merge(PartialBatch&& batch) = 0;
  // See WindowMerger::fire_some; fire() is fire_some() without a limit.
  virtual TimestampMs fire_some(TimestampMs watermark, FiredRows& out, size_t max_rows) = 0;
  virtual void fire_early(FiredRows& out) = 0;
  virtual size_t open_windows() const = 0;
  // See WindowMerger::snapshot; the image format is src/query/snapshot_format.h.
  virtual void snapshot(std::string& out) const = 0;
  // Loads an image into this freshly constructed Impl; on error it must be discarded.
  virtual Status restore(std::string_view image) = 0;
  virtual std::unique_ptr<Impl> make_empty() const = 0;
};

namespace {

uint16_t aggs_per_entry(const PlanSpec& spec) {
  FRESHET_ASSERT(spec.aggs.size() <= UINT16_MAX, "too many aggregates for a state snapshot");
  return static_cast<uint16_t>(spec.aggs.size());
}

// Pane windows. Panes live until every window containing them is cleaned up; a window's
// aggregates are the merge of its panes, computed when it fires.
class PaneMerger final : public WindowMerger::Impl {
 public:
  explicit PaneMerger(std::shared_ptr<const Plan> plan)
      : plan_(std::move(plan)),
        spec_(plan_->spec()),
        w_(spec_),
        n_(static_cast<uint32_t>(spec_.aggs.size())) {}

  void merge(PartialBatch&& batch) override {
    FRESHET_ASSERT(batch.empty() || batch.aggs_per_entry == n_, "partial batch of another plan");
    FRESHET_ASSERT(through_ <= fired_, "merge in the middle of a fire");
    const char* src_bytes = batch.bytes.data();
    for (size_t i = 0; i < batch.entries.size(); ++i) {
      const PartialBatch::Entry& e = batch.entries[i];
      auto it = panes_.find(e.window_start);
      if (it == panes_.end()) it = panes_.emplace(e.window_start, AggTable(n_)).first;
      AggTable& t = it->second;
      std::string_view key{src_bytes + e.key_off, e.key_len};
      const uint32_t entry = t.find_or_insert_entry(key, e.hash);
      AggState* dst = t.states(entry);
      if (spec_.emit_early) mark_changed(e.window_start, entry);
      const AggState* src = batch.states.data() + i * n_;
      for (uint32_t a = 0; a < n_; ++a)
        agg_merge(spec_.aggs[a].kind, dst[a], t.bytes(), src[a], src_bytes, nullptr);
      // A pane whose first window already fired: mark the fired, not yet cleaned windows.
      if (spec_.allowed_lateness > 0 && w_.first_end(e.window_start) - 1 <= fired_)
        mark_late(e.window_start, key);
    }
    batch.clear();
  }

  TimestampMs fire_some(TimestampMs watermark, FiredRows& out, size_t max_rows) override {
    watermark = std::max(watermark, fired_);  // never regress; same watermark: late updates only
    const size_t from = out.size();
    // Main firings: windows with fired_ < end - 1 <= watermark, from the panes present, less
    // those an unfinished call fired already (through_).
    const TimestampMs done = std::max(fired_, through_);
    if (through_ <= fired_) {
      // A new fire. Late updates of windows that fired before come first: they end before
      // every window this fire closes, so no later slice holds a row ending before what an
      // earlier one was complete through (what lets a sink release the slices as they come).
      for (auto& [bounds, late] : late_) {
        if (late.dirty.empty() || bounds.first - 1 > fired_) continue;
        refire(bounds.second, bounds.first, late, out);
      }
    }
    std::set<TimestampMs> ends;
    for (const auto& [p, t] : panes_) {
      if (w_.first_end(p) - 1 > watermark) break;  // panes are ordered by start
      for (TimestampMs e = w_.first_end(p); e <= w_.last_end(p); e += w_.pane()) {
        if (e - 1 > watermark) break;
        if (e - 1 > done) ends.insert(e);
      }
    }
    for (auto it = ends.begin(); it != ends.end(); ++it) {
      fire_window(w_.start_of(*it), *it, watermark, out);
      through_ = *it - 1;
      if (out.size() - from >= max_rows && std::next(it) != ends.end()) {
        out.sort_from(from);
        return through_;
      }
    }
    // Cleanup.
    for (auto it = late_.begin(); it != late_.end();)
      it = w_.cleanup_at(it->first.first) <= watermark ? late_.erase(it) : std::next(it);
    for (auto it = panes_.begin(); it != panes_.end();) {
      if (w_.cleanup_at(w_.last_end(it->first)) > watermark) break;  // ordered by start
      orders_.erase(it->first);
      it = panes_.erase(it);
    }
    // A pane whose windows have all fired has nothing left to emit early (last_end grows
    // with the pane start, so those are a prefix).
    while (!changed_.empty() && w_.last_end(changed_.begin()->first) - 1 <= watermark)
      changed_.erase(changed_.begin());
    fired_ = watermark;
    through_ = watermark;
    out.sort_from(from);
    return watermark;
  }

  void fire_early(FiredRows& out) override {
    FRESHET_ASSERT(through_ <= fired_, "early rows in the middle of a fire");
    if (changed_.empty()) return;
    const size_t from = out.size();
    // A (window, key) changed iff the key changed in one of the window's panes; only windows
    // that have not fired count. Key views point into the panes, which this does not change.
    std::map<TimestampMs, std::set<std::string_view>> keys_by_end;
    for (const auto& [p, changes] : changed_) {
      auto pane = panes_.find(p);
      if (pane == panes_.end()) continue;
      for (TimestampMs e = w_.first_end(p); e <= w_.last_end(p); e += w_.pane()) {
        if (e - 1 <= fired_) continue;
        std::set<std::string_view>& keys = keys_by_end[e];
        for (uint32_t i : changes.entries) keys.insert(pane->second.key(pane->second.entries()[i]));
      }
    }
    for (const auto& [end, keys] : keys_by_end) {
      const TimestampMs start = w_.start_of(end);
      for (std::string_view key : keys) {
        const AggTable& one = combine_key(start, end, key);
        emit(start, end, key, one.states(0), one.bytes(), 0, FiredRow::Kind::kEarly, out);
      }
    }
    changed_.clear();
    out.sort_from(from);
  }

  size_t open_windows() const override { return panes_.size(); }

  std::unique_ptr<WindowMerger::Impl> make_empty() const override {
    return std::make_unique<PaneMerger>(plan_);
  }

  void snapshot(std::string& out) const override {
    FRESHET_ASSERT(through_ <= fired_, "snapshot in the middle of a fire");
    SnapshotWriter w(out, plan_->state_fingerprint(), kLayoutPanes, aggs_per_entry(spec_));
    const size_t per_entry = 4 + snapshot_bytes_per_entry(spec_);
    size_t estimate = 64;
    for (const auto& [start, t] : panes_) estimate += 16 + t.bytes().size() + t.size() * per_entry;
    w.reserve(estimate);
    w.i64(fired_);
    w.u64(panes_.size());
    for (const auto& [start, t] : panes_) {
      w.i64(start);
      w.u64(t.size());
      for (size_t i = 0; i < t.entries().size(); ++i) {
        w.key(t.key(t.entries()[i]));
        w.states(spec_.aggs, t.states(i), t.bytes());
      }
    }
    w.u64(late_.size());
    for (const auto& [bounds, late] : late_) {
      w.i64(bounds.first);
      w.i64(bounds.second);
      w.u64(late.versions.size());
      for (const auto& [key, version] : late.versions) {
        w.key(key);
        w.u32(version);
      }
      w.u64(late.dirty.size());
      for (const std::string& key : late.dirty) w.key(key);
    }
    w.finish();
  }

  Status restore(std::string_view image) override {
    SnapshotReader r(image, spec_, plan_->state_fingerprint(), kLayoutPanes);
    if (r.ok() && load_panes(r) && load_late(r)) r.at_end();
    // The image has no early-emission bookkeeping: every open window counts as changed.
    if (r.ok() && spec_.emit_early)
      for (const auto& [start, t] : panes_)
        if (w_.last_end(start) - 1 > fired_)
          for (uint32_t i = 0; i < t.size(); ++i) mark_changed(start, i);
    return r.status();
  }

 private:
  // A pane start whose window arithmetic (first_end, last_end, start_of, cleanup_at) cannot
  // overflow; every pane the aggregator makes is one, a garbled image's need not be.
  bool valid_pane(TimestampMs p) const {
    return p % w_.pane() == 0 && p >= kMinTimestamp + spec_.window_size &&
           p <= kMaxTimestamp - spec_.window_size;
  }

  bool load_panes(SnapshotReader& r) {
    uint64_t n_panes;
    if (!r.i64(fired_) || !r.count(n_panes, 16, "pane")) return false;
    for (uint64_t p = 0; p < n_panes; ++p) {
      TimestampMs start;
      uint64_t n;
      if (!r.i64(start) || !r.count(n, 4 + kAggStateFixedSize * n_, "pane entry")) return false;
      if (!valid_pane(start)) return r.fail("pane start off the pane grid or out of range");
      if (!panes_.empty() && start <= panes_.rbegin()->first) return r.fail("panes out of order");
      AggTable& t = panes_.emplace_hint(panes_.end(), start, AggTable(n_))->second;
      for (uint64_t i = 0; i < n; ++i) {
        std::string_view key;
        if (!r.key(key)) return false;
        const size_t before = t.size();
        AggState* states = t.find_or_insert(key, hash64(key));
        if (t.size() == before) return r.fail("duplicate key in a pane");
        if (!r.states(states, t.bytes())) return false;
      }
    }
    return true;
  }

  bool load_late(SnapshotReader& r) {
    uint64_t n_late;
    if (!r.count(n_late, 32, "late window")) return false;
    for (uint64_t i = 0; i < n_late; ++i) {
      std::pair<TimestampMs, TimestampMs> bounds;  // (end, start)
      uint64_t n_versions, n_dirty;
      if (!r.i64(bounds.first) || !r.i64(bounds.second)) return false;
      if (bounds.first < kMinTimestamp + w_.pane() || !valid_pane(bounds.first - w_.pane()) ||
          bounds.second != w_.start_of(bounds.first))
        return r.fail("late window bounds are not a window of this query");
      if (!late_.empty() && bounds <= late_.rbegin()->first)
        return r.fail("late windows out of order");
      LateWindow& late = late_.emplace_hint(late_.end(), bounds, LateWindow{})->second;
      if (!r.count(n_versions, 8, "late window key")) return false;
      late.versions.reserve(n_versions);
      for (uint64_t k = 0; k < n_versions; ++k) {
        std::string_view key;
        uint32_t version;
        if (!r.key(key) || !r.u32(version)) return false;
        if (!late.versions.try_emplace(std::string(key), version).second)
          return r.fail("duplicate key in a late window");
      }
      if (!r.count(n_dirty, 4, "dirty key")) return false;
      for (uint64_t k = 0; k < n_dirty; ++k) {
        std::string_view key;
        if (!r.key(key)) return false;
        if (!late.dirty.emplace(key).second) return r.fail("duplicate dirty key");
      }
    }
    return true;
  }

  struct LateWindow {
    std::unordered_map<std::string, uint32_t, StringViewHash, StringViewEq> versions;
    std::set<std::string> dirty;
  };

  void mark_late(TimestampMs pane, std::string_view key) {
    for (TimestampMs e = w_.first_end(pane); e <= w_.last_end(pane); e += w_.pane()) {
      if (e - 1 > fired_) break;
      if (w_.cleanup_at(e) <= fired_) continue;
      late_[{e, w_.start_of(e)}].dirty.emplace(key);
    }
  }

  void emit(TimestampMs start, TimestampMs end, std::string_view key, const AggState* states,
            const ByteStore& store, uint32_t version, FiredRow::Kind kind, FiredRows& out) {
    bool ok = row_.load(spec_, start, end, key, states, store);
    FRESHET_ASSERT(ok, "undecodable group key");
    if (!row_.having(spec_)) return;
    row_.format(spec_, version, kind != FiredRow::Kind::kEarly,
                out.start_row(start, end, key, version, kind));
    out.finish_row();
  }

  // Emits the rows of window [start, end) in key order: its panes' sorted entries, merged.
  void fire_window(TimestampMs start, TimestampMs end, TimestampMs watermark, FiredRows& out) {
    merge_.clear();
    for (auto it = panes_.lower_bound(start); it != panes_.end() && it->first < end; ++it)
      merge_.add(it->second, orders_[it->first].of(it->second));
    LateWindow* late = nullptr;
    if (spec_.allowed_lateness > 0 && w_.cleanup_at(end) > watermark) late = &late_[{end, start}];
    std::string_view key;
    while (merge_.next(key, holders_)) {
      if (w_.single_pane()) {
        const KeyMerge::Holder& h = holders_.front();
        emit(start, end, key, h.table->states(h.entry), h.table->bytes(), 0, FiredRow::Kind::kFinal,
             out);
      } else {
        // A window of several panes: the key's states merged, in pane order, into zeroed ones.
        std::fill(scratch_.begin(), scratch_.end(), AggState{});
        scratch_bytes_.clear();
        scratch_bytes_.ext.clear();
        for (const KeyMerge::Holder& h : holders_) {
          const AggState* src = h.table->states(h.entry);
          for (uint32_t a = 0; a < n_; ++a)
            agg_merge(spec_.aggs[a].kind, scratch_[a], scratch_bytes_, src[a],
                      h.table->bytes().data(), &h.table->bytes().ext);
        }
        emit(start, end, key, scratch_.data(), scratch_bytes_, 0, FiredRow::Kind::kFinal, out);
      }
      if (late != nullptr) late->versions.emplace(std::string(key), 0);
    }
    if (late != nullptr) late->dirty.clear();  // everything merged so far is in version 0
  }

  // The states of one key in [start, end), merged from its panes into a one-entry table
  // (valid until the next call).
  const AggTable& combine_key(TimestampMs start, TimestampMs end, std::string_view key) {
    const uint64_t hash = hash_of(key);
    one_.clear();
    AggState* dst = one_.find_or_insert(key, hash);
    for (auto it = panes_.lower_bound(start); it != panes_.end() && it->first < end; ++it) {
      const AggState* src = it->second.find(key, hash);
      if (src == nullptr) continue;
      for (uint32_t a = 0; a < n_; ++a)
        agg_merge(spec_.aggs[a].kind, dst[a], one_.bytes(), src[a], it->second.bytes().data(),
                  &it->second.bytes().ext);
    }
    return one_;
  }

  void refire(TimestampMs start, TimestampMs end, LateWindow& late, FiredRows& out) {
    for (const std::string& key : late.dirty) {
      const AggTable& one = combine_key(start, end, key);
      auto [v, fresh] = late.versions.try_emplace(key, 0);
      if (!fresh) ++v->second;
      emit(start, end, key, one.states(0), one.bytes(), v->second, FiredRow::Kind::kLateUpdate,
           out);
    }
    late.dirty.clear();
  }

  // emit_early: records that entry `entry` of pane `pane` changed since the last fire_early.
  void mark_changed(TimestampMs pane, uint32_t entry) {
    PaneChanges& c = changed_[pane];
    if (c.marked.size() <= entry) c.marked.resize(entry + 1, false);
    if (c.marked[entry]) return;
    c.marked[entry] = true;
    c.entries.push_back(entry);
  }

  static uint64_t hash_of(std::string_view key) { return hash64(key); }

  std::shared_ptr<const Plan> plan_;
  const PlanSpec& spec_;
  PaneWindows w_;
  uint32_t n_;
  std::map<TimestampMs, AggTable> panes_;  // by pane start
  // Fired windows still within allowed lateness, by (end, start).
  std::map<std::pair<TimestampMs, TimestampMs>, LateWindow> late_;
  TimestampMs fired_ = kMinTimestamp;  // the last fire() watermark
  // Windows with end - 1 <= through_ have had their main firing, those of an unfinished
  // fire_some() included.
  TimestampMs through_ = kMinTimestamp;
  // emit_early: per pane start, the entries merged into since the last fire_early() (the
  // panes whose windows all fired are dropped by fire()).
  struct PaneChanges {
    std::vector<uint32_t> entries;  // each once, in first-change order
    std::vector<bool> marked;       // by entry index
  };
  std::map<TimestampMs, PaneChanges> changed_;
  std::map<TimestampMs, KeyOrder> orders_;  // by pane start: its entries in key order
  KeyMerge merge_;
  std::vector<KeyMerge::Holder> holders_;
  std::vector<AggState> scratch_ = std::vector<AggState>(n_);
  ByteStore scratch_bytes_;
  AggTable one_{n_};
  GroupRow row_;
};

// Exact sessions per key.
class SessionMerger final : public WindowMerger::Impl {
 public:
  explicit SessionMerger(std::shared_ptr<const Plan> plan)
      : plan_(std::move(plan)),
        spec_(plan_->spec()),
        n_(static_cast<uint32_t>(spec_.aggs.size())) {}

  void merge(PartialBatch&& batch) override {
    FRESHET_ASSERT(batch.empty() || batch.aggs_per_entry == n_, "partial batch of another plan");
    const char* src_bytes = batch.bytes.data();
    for (size_t i = 0; i < batch.entries.size(); ++i) {
      const PartialBatch::Entry& e = batch.entries[i];
      std::string_view key{src_bytes + e.key_off, e.key_len};
      auto it = sessions_.find(key);
      if (it == sessions_.end())
        it = sessions_.emplace(std::string(key), std::vector<Session>{}).first;
      Session& s = session_add(it->second, e.window_start, e.window_end, spec_.aggs);
      const AggState* src = batch.states.data() + i * n_;
      for (uint32_t a = 0; a < n_; ++a)
        agg_merge(spec_.aggs[a].kind, s.states[a], s.store, src[a], src_bytes, nullptr);
      if (s.version >= 0) s.dirty = true;
      if (spec_.emit_early && s.version < 0) {
        s.early_changed = true;
        if (changed_keys_.find(key) == changed_keys_.end()) changed_keys_.emplace(key);
      }
      due_.push(due(s), key);
    }
    batch.clear();
  }

  // Keys come off the queue by due time. A slice ends only between two due times: every
  // session due at or before the last one taken has fired, and what is due later fires rows
  // that end after it.
  TimestampMs fire_some(TimestampMs watermark, FiredRows& out, size_t max_rows) override {
    if (!due_.due(watermark)) return watermark;
    const size_t from = out.size();
    TimestampMs taken = kMinTimestamp;
    while (due_.due(watermark)) {
      if (out.size() - from >= max_rows && due_.next_at() > taken) {
        out.sort_from(from);
        return taken;
      }
      taken = due_.next_at();
      const std::string key = due_.pop();
      auto it = sessions_.find(key);
      if (it == sessions_.end()) continue;  // its sessions were cleaned up at an earlier pop
      std::vector<Session>& list = it->second;
      TimestampMs next_due = kMaxTimestamp;
      for (size_t i = 0; i < list.size();) {
        Session& s = list[i];
        if (s.end - 1 <= watermark && (s.version < 0 || s.dirty)) emit(it->first, s, out);
        if (saturating_add(s.end - 1, spec_.allowed_lateness) <= watermark) {
          list.erase(list.begin() + static_cast<ptrdiff_t>(i));
          continue;
        }
        next_due = std::min(next_due, due(s));
        ++i;
      }
      if (list.empty()) {
        if (!changed_keys_.empty()) changed_keys_.erase(it->first);
        sessions_.erase(it);
      } else {
        due_.push(next_due, key);  // after watermark: not popped again in this loop
      }
    }
    out.sort_from(from);
    return watermark;
  }

  void fire_early(FiredRows& out) override {
    if (changed_keys_.empty()) return;
    const size_t from = out.size();
    for (const std::string& key : changed_keys_) {
      auto it = sessions_.find(key);
      if (it == sessions_.end()) continue;
      for (Session& s : it->second) {
        // A fired session's changes are late updates, for fire().
        if (s.version >= 0 || !s.early_changed) continue;
        s.early_changed = false;
        bool ok = row_.load(spec_, s.start, s.end, key, s.states.data(), s.store);
        FRESHET_ASSERT(ok, "undecodable group key");
        if (!row_.having(spec_)) continue;
        row_.format(spec_, 0, false, out.start_row(s.start, s.end, key, 0, FiredRow::Kind::kEarly));
        out.finish_row();
      }
    }
    changed_keys_.clear();
    out.sort_from(from);
  }

  size_t open_windows() const override {
    size_t n = 0;
    for (const auto& [k, list] : sessions_) n += list.size();
    return n;
  }

  std::unique_ptr<WindowMerger::Impl> make_empty() const override {
    return std::make_unique<SessionMerger>(plan_);
  }

  void snapshot(std::string& out) const override {
    SnapshotWriter w(out, plan_->state_fingerprint(), kLayoutSessions, aggs_per_entry(spec_));
    size_t estimate = 64;
    for (const auto& [key, list] : sessions_) {
      estimate += 12 + key.size();
      for (const Session& s : list)
        estimate += 33 + 16 * s.emitted.size() + s.store.size() + snapshot_bytes_per_entry(spec_);
    }
    w.reserve(estimate);
    w.u64(sessions_.size());
    for (const auto& [key, list] : sessions_) {
      w.key(key);
      w.u64(list.size());
      for (const Session& s : list) {
        w.i64(s.start);
        w.i64(s.end);
        w.i64(s.version);
        w.u8(s.dirty ? 1 : 0);
        w.u64(s.emitted.size());
        for (const auto& [start, end] : s.emitted) {
          w.i64(start);
          w.i64(end);
        }
        w.states(spec_.aggs, s.states.data(), s.store);
      }
    }
    w.finish();
  }

  Status restore(std::string_view image) override {
    SnapshotReader r(image, spec_, plan_->state_fingerprint(), kLayoutSessions);
    if (r.ok() && load_sessions(r)) r.at_end();
    // The image has no early-emission bookkeeping: every open session counts as changed.
    if (r.ok() && spec_.emit_early)
      for (auto& [key, list] : sessions_)
        for (Session& s : list)
          if (s.version < 0) {
            s.early_changed = true;
            changed_keys_.insert(key);
          }
    return r.status();
  }

 private:
  bool load_sessions(SnapshotReader& r) {
    uint64_t n_keys;
    if (!r.count(n_keys, 12, "session key")) return false;
    const size_t session_min = 33 + kAggStateFixedSize * n_;
    for (uint64_t k = 0; k < n_keys; ++k) {
      std::string_view key;
      uint64_t n;
      if (!r.key(key) || !r.count(n, session_min, "session")) return false;
      if (n == 0) return r.fail("group key without sessions");
      auto [it, fresh] = sessions_.try_emplace(std::string(key));
      if (!fresh) return r.fail("duplicate session key");
      std::vector<Session>& list = it->second;
      list.reserve(n);
      for (uint64_t i = 0; i < n; ++i) {
        Session& s = list.emplace_back();
        uint8_t dirty;
        uint64_t n_emitted;
        if (!r.i64(s.start) || !r.i64(s.end) || !r.i64(s.version) || !r.u8(dirty) ||
            !r.count(n_emitted, 16, "superseded row"))
          return false;
        if (s.start >= s.end) return r.fail("session ends before it starts");
        if (i > 0 && list[i - 1].end >= s.start) return r.fail("sessions overlap or touch");
        if (s.version < -1 || dirty > 1) return r.fail("bad session version or dirty flag");
        s.dirty = dirty != 0;
        s.emitted.resize(n_emitted);
        for (auto& [start, end] : s.emitted)
          if (!r.i64(start) || !r.i64(end)) return false;
        s.states.resize(n_);
        if (!r.states(s.states.data(), s.store)) return false;
        due_.push(due(s), key);
      }
    }
    return true;
  }

  // The next watermark at which fire() has work for this session.
  TimestampMs due(const Session& s) const {
    if (s.version < 0 || s.dirty) return s.end - 1;
    return saturating_add(s.end - 1, spec_.allowed_lateness);
  }

  void emit(const std::string& key, Session& s, FiredRows& out) {
    const bool first = s.version < 0;
    s.version = first ? 0 : s.version + 1;
    s.dirty = false;
    std::vector<std::pair<TimestampMs, TimestampMs>> replaces;
    for (const auto& b : s.emitted)
      if (b != std::make_pair(s.start, s.end) &&
          std::find(replaces.begin(), replaces.end(), b) == replaces.end())
        replaces.push_back(b);
    s.emitted.assign(1, {s.start, s.end});
    bool ok = row_.load(spec_, s.start, s.end, key, s.states.data(), s.store);
    FRESHET_ASSERT(ok, "undecodable group key");
    if (!row_.having(spec_)) return;
    const auto version = static_cast<uint32_t>(s.version);
    const auto kind = first ? FiredRow::Kind::kFinal : FiredRow::Kind::kLateUpdate;
    row_.format(spec_, version, true, out.start_row(s.start, s.end, key, version, kind));
    out.finish_row();
    for (const auto& b : replaces) out.add_replaced(b);
  }

  std::shared_ptr<const Plan> plan_;
  const PlanSpec& spec_;
  uint32_t n_;
  SessionMap sessions_;
  // emit_early: keys with a session merged into since the last fire_early() and not fired.
  std::set<std::string, std::less<>> changed_keys_;
  DueQueue due_;  // keys by the next watermark at which fire() has work for them
  GroupRow row_;
};

}  // namespace

WindowMerger::WindowMerger(std::shared_ptr<const Plan> plan) {
  if (plan->spec().session())
    impl_ = std::make_unique<SessionMerger>(std::move(plan));
  else
    impl_ = std::make_unique<PaneMerger>(std::move(plan));
}
WindowMerger::~WindowMerger() = default;
void WindowMerger::merge(PartialBatch&& batch) { impl_->merge(std::move(batch)); }
void WindowMerger::fire(TimestampMs watermark, FiredRows& out) {
  impl_->fire_some(watermark, out, SIZE_MAX);
}
TimestampMs WindowMerger::fire_some(TimestampMs watermark, FiredRows& out, size_t max_rows) {
  return impl_->fire_some(watermark, out, max_rows);
}
void WindowMerger::fire_early(FiredRows& out) { impl_->fire_early(out); }
size_t WindowMerger::open_windows() const { return impl_->open_windows(); }
void WindowMerger::snapshot(std::string& out) const { impl_->snapshot(out); }
Status WindowMerger::restore(std::string_view image) {
  // Into a new Impl, so that a bad image leaves this merger as it was.
  std::unique_ptr<Impl> fresh = impl_->make_empty();
  FRESHET_TRY(fresh->restore(image));
  impl_ = std::move(fresh);
  return ok();
}

}  // namespace freshet::query
