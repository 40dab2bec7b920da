#include "shard_state.h"

#include <algorithm>

#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "freshet/log/segment_preparer.h"

namespace freshet::server {
namespace {

// Log batches a query reads from each input in one poll, up to 256 KiB each. The poll is part
// of one shard turn, and a turn holds up everything else on the shard: cross-shard messages,
// timers, and the sink writes, which are issued one at a time as the last completes. At 64 a
// replay's turns ran to 100 ms and its sink wrote 240 MB of output in five writes, holding
// it all in memory (Nexmark q0 replay: 8 instead of 64 is 0.69x wall, peak RSS 900 -> 705 MiB).
constexpr int kMaxBatchesPerPoll = 8;

}  // namespace

ShardState::ShardState(Pipeline& pipeline, shard::Shard& shard) : p_(pipeline), shard_(shard) {}

log::PartitionLog* ShardState::partition(const std::string& topic, int32_t p) {
  auto it = logs_.find(topic);
  if (it == logs_.end()) return nullptr;
  return it->second[static_cast<size_t>(p)].get();
}

Status ShardState::open() {
  const auto& cfg = p_.config();
  flusher_ = std::make_unique<log::Flusher>(shard_);
  flusher_->on_failure([this](log::PartitionLog&, const Error& e) { p_.fail(e.message); });
  for (const auto& [name, topic] : cfg.topics) {
    auto& parts = logs_[name];
    parts.resize(static_cast<size_t>(topic.partitions));
    for (int32_t p = 0; p < topic.partitions; ++p) {
      if (p_.partition_owner(p) != id()) continue;
      log::PartitionOptions opts;
      opts.segment_bytes = topic.segment_bytes;
      opts.segment_age = topic.segment_age;
      opts.retention = topic.retention;
      opts.retention_bytes = topic.retention_bytes;
      opts.durable_on_append = topic.fsync == config::FsyncPolicy::kNever;
      opts.preparer = &log::SegmentPreparer::shared();
      FRESHET_ASSIGN_OR_RETURN(parts[static_cast<size_t>(p)],
                               log::PartitionLog::open(p_.fs(), p_.partition_dir(name, p), opts));
      auto& part = *parts[static_cast<size_t>(p)];
      // Corruption in the middle of a partition is never served: stop with its message.
      if (part.failed()) return tl::unexpected(part.failure());
      // A replay ends the partitions whose input the live run saw end (journal.h): the final
      // watermark then fires what the live run fired at its end.
      if (p_.options().replay_journal) {
        FRESHET_ASSIGN_OR_RETURN(bool ended, p_.fs().exists(topic_end_path(cfg.data_dir, name, p)));
        if (ended) part.mark_finished();
      }
      log::FlushPolicy policy;
      policy.mode = topic.fsync == config::FsyncPolicy::kAlways     ? log::FlushMode::kAlways
                    : topic.fsync == config::FsyncPolicy::kInterval ? log::FlushMode::kInterval
                                                                    : log::FlushMode::kNever;
      policy.interval = std::chrono::milliseconds(std::max<int64_t>(1, topic.fsync_interval));
      flusher_->add(part, policy);
    }
  }
  bool paced = false;
  uint32_t source_number = 0;
  for (const auto& [name, sc] : cfg.sources) {
    // A replay's input is the log as it stands: nothing may be appended to it.
    if (p_.options().replay_journal) break;
    const auto& topic = cfg.topics.at(sc.to);
    const ShardId reader = source_shard(source_number++, p_.shard_count());
    if (sc.type == config::SourceType::kFile) {
      ++topic_backlog_[sc.to];  // unread input until the source says it caught up
      if (reader != id()) continue;
      FRESHET_TRY(open_file_source(name, sc, topic));
      continue;
    }
    sources::GeneratorOptions g;
    g.name = name;
    g.start_wall_ms = p_.start_wall_ms();
    g.profile.seed = sc.seed;
    g.profile.rate_per_sec = sc.rate_per_sec;
    g.profile.start_time = sc.start_time.value_or(p_.start_wall_ms());
    g.profile.out_of_order = sc.max_out_of_order;
    g.count = sc.count;
    g.key_field = topic.key_field;
    g.partitions = topic.partitions;
    if (!g.key_field.empty() && !sources::PaymentsProfile::has_field(g.key_field))
      return make_error(ErrorCode::kConfig,
                        "topic `{}` is keyed by `{}`, which generator `{}` does not produce "
                        "(it has card_id, merchant, country)",
                        sc.to, g.key_field, name);
    std::vector<log::PartitionLog*> owned(static_cast<size_t>(topic.partitions));
    for (int32_t p = 0; p < topic.partitions; ++p)
      owned[static_cast<size_t>(p)] = partition(sc.to, p);
    SourceSlice slice;
    slice.gen = std::make_unique<sources::GeneratorSource>(g, std::move(owned), p_.start_ns());
    slice.topic = sc.to;
    // The slice starts once it knows what the partitions already hold (a restart).
    const size_t index = sources_.size();
    gather_positions(name, sc.to, [this, index](Positions positions) {
      auto& s = sources_[index];
      if (auto st = s.gen->resume(positions); !st)
        p_.fail(fmt::format("source writing to `{}`: {}", s.topic, st.error().message));
      else
        s.ready = true;
    });
    sources_.push_back(std::move(slice));
    paced = true;
  }
  const uint32_t n = p_.shard_count();
  for (const auto& qi : p_.queries()) {
    QueryShard q;
    for (int32_t p = 0; p < qi.partitions; ++p) {
      if (auto* l = partition(qi.topic, p)) {
        QueryShard::Input in;
        in.log = l;
        in.log_partition = p;
        in.reader.emplace(*l);
        q.inputs.push_back(std::move(in));
      }
    }
    // Late and malformed records go to the sinks' late and dead-letter files.
    auto reject = [this, index = queries_.size()](const query::RejectedRecord& r) {
      on_reject(index, r);
    };
    if (qi.plan->stateless()) {
      q.stateless = std::make_unique<query::StatelessOperator>(qi.plan);
      q.stateless->set_reject_callback(reject);
    } else {
      q.local = std::make_unique<query::LocalAggregator>(qi.plan);
      q.local->set_reject_callback(reject);
      q.merger = std::make_unique<query::WindowMerger>(qi.plan);
    }
    q.upstream.reset(n);
    q.align.reset(n);
    q.drift.reset(n, id(), qi.max_drift);
    q.peer_quiet.assign(n, false);
    queries_.push_back(std::move(q));
  }
  FRESHET_TRY(open_journals());
  sinks_.resize(p_.sinks().size());
  for (size_t si = 0; si < p_.sinks().size(); ++si) {
    const auto& info = p_.sinks()[si];
    if (info.owner != id()) continue;
    sinks::FileSinkOptions fo;
    fo.name = info.config.name;
    fo.path = info.config.path;
    fo.format = info.config.format == config::SinkFormat::kCsv ? sinks::Format::kCsv
                                                               : sinks::Format::kJsonl;
    fo.columns = info.columns;
    fo.rotate_max_bytes = info.config.rotate_max_bytes;
    fo.rotate_max_age = info.config.rotate_max_age;
    fo.truncate = p_.options().reset || p_.options().replay_journal;
    auto s = std::make_unique<SinkShard>();
    // Exactly-once sinks write through the checkpoint worker's committed files instead.
    s->exactly_once = info.config.delivery == config::Delivery::kExactlyOnce;
    s->topic = info.config.type == config::SinkType::kTopic;
    if (s->topic && !s->exactly_once) {
      const auto& tc = p_.config().topics.at(info.config.topic);
      Pipeline* p = &p_;
      s->batcher = std::make_unique<sources::LineBatcher>(
          info.config.key_field.empty() ? tc.key_field : info.config.key_field, tc.partitions,
          [this, p, topic = info.config.topic](int32_t part, std::string&& batch, uint32_t) {
            shard_.submit_to(p_.partition_owner(part),
                             [p, topic, part, b = std::move(batch)]() mutable {
                               p->local().append_from_source(topic, part, std::move(b));
                             });
          });
    } else if (!s->exactly_once) {
      FRESHET_ASSIGN_OR_RETURN(s->main.file, sinks::FileSink::open(p_.fs(), fo));
    }
    s->main.owner = this;
    s->main.sink = si;
    s->inputs.resize(info.inputs.size());
    for (auto& in : s->inputs) in.owners.reset(n);
    s->align.reset(n * (1 + s->inputs.size()));
    s->epoch = p_.restored_epoch() + 1;
    sinks_[si] = std::move(s);
  }

  if (const std::string& image = p_.restore_image(id()); !image.empty())
    FRESHET_TRY(restore(image));
  // A crash may have cut the last committed epoch's topic publish short: finish it first.
  for (const auto& e : p_.restored_topic_publishes()) FRESHET_TRY(publish_topic_rows(e));

  shard_.add_poller([this] { return poll(); });
  // Paced sources need the loop to wake when their next events fall due.
  if (paced) shard_.schedule_every(std::chrono::milliseconds(2), [] {});
  shard_.schedule_every(std::chrono::seconds(10), [this] { report_counters(); });
  shard_.schedule_every(std::chrono::seconds(1), [this] { apply_retention(); });
  // Idleness is judged from the clock, so a quiet shard must wake to notice it.
  std::optional<DurationMs> shortest_idle;
  for (const auto& qi : p_.queries())
    if (qi.idle_timeout)
      shortest_idle = std::min(shortest_idle.value_or(*qi.idle_timeout), *qi.idle_timeout);
  if (shortest_idle)
    shard_.schedule_every(
        std::chrono::milliseconds(std::clamp<int64_t>(*shortest_idle / 4, 1, 100)), [] {});
  for (size_t qi = 0; qi < p_.queries().size(); ++qi)
    if (const auto every = p_.queries()[qi].early_every)
      shard_.schedule_every(std::chrono::milliseconds(*every), [this, qi] { early_tick(qi); });
  return ok();
}

void ShardState::early_tick(size_t qi) {
  if (shutting_down_ || stopped_) return;
  auto& q = queries_[qi];
  const uint32_t shards = p_.shard_count();
  q.local->drain_all(shards, q.partials);
  Pipeline* p = &p_;
  const ShardId me = id();
  send_partials_then(qi, [p, qi, me](ShardId) -> shard::Task {
    return [p, qi, me] { p->local().on_early_tick(qi, me); };
  });
}

void ShardState::on_early_tick(size_t qi, ShardId from) {
  auto& q = queries_[qi];
  if (q.align.holds(from.value())) {
    q.align.hold(from.value(), [this, qi, from] { on_early_tick(qi, from); });
    return;
  }
  // Once per period: after every shard's tick, its partials are all in.
  if (++q.early_ticks < p_.shard_count()) return;
  q.early_ticks = 0;
  finish_fire(qi);
  q.fired.clear();
  q.merger->fire_early(q.fired);
  if (!q.fired.empty()) send_rows(qi, q.fired, q.merged_wm, false, true);
}

void ShardState::apply_retention() {
  if (shutting_down_) return;
  const TimestampMs now = wall_clock_ms();
  for (auto& [topic, parts] : logs_) {
    const auto& tc = p_.config().topics.at(topic);
    if (!tc.retention && !tc.retention_bytes) continue;
    for (auto& part : parts) {
      if (!part) continue;
      // Queries read this log as internal consumers: never delete what one has not read yet.
      std::optional<Offset> unread;
      for (const auto& q : queries_)
        for (const auto& in : q.inputs)
          if (in.log == part.get() && !in.ended)
            unread = unread ? std::min(*unread, in.reader->position()) : in.reader->position();
      // ... nor what a retained checkpoint would seek back to (semantics §3.7 step 7).
      for (const auto& [key, off] : checkpoint_floor_)
        if (key.first == topic && partition(topic, key.second) == part.get())
          unread = unread ? std::min(*unread, off) : off;
      std::optional<log::PinId> pin;
      if (unread) pin = part->pin(*unread);
      auto report = part->apply_retention(now);
      if (pin) part->unpin(*pin);
      if (!report) {
        p_.fail(fmt::format("retention on {}: {}", part->dir(), report.error().message));
      } else if (report->segments_deleted > 0) {
        log::info("{}: retention deleted {} segment(s), {} bytes; the log now starts at offset {}",
                  part->dir(), report->segments_deleted, report->bytes_deleted,
                  report->start_offset);
      }
    }
  }
}

bool ShardState::poll() {
  if (p_.shutdown_requested() && !shutting_down_) begin_shutdown();
  if (stopped_) return false;
  bool did = false;
  if (!shutting_down_) {
    if (!p_.draining()) did |= poll_sources();
    for (size_t qi = 0; qi < queries_.size(); ++qi) did |= poll_query(qi);
  }
  if (p_.options().replay_journal && !replay_reported_ && replayed()) {
    replay_reported_ = true;
    Pipeline* p = &p_;
    for (uint32_t s = 0; s < p_.shard_count(); ++s)
      shard_.submit_to(ShardId(s), [p] { p->local().replay_read_on_one(); });
  }
  return did;
}

bool ShardState::poll_query(size_t qi) {
  auto& q = queries_[qi];
  const auto& info = p_.queries()[qi];
  bool did = false;
  if (info.max_future_skew) {
    // The guard against records stamped in the future (semantics §3.1): judged once a poll.
    const TimestampMs bound = wall_clock_ms() + *info.max_future_skew;
    if (q.stateless)
      q.stateless->set_future_bound(bound);
    else
      q.local->set_future_bound(bound);
  }
  const bool replaying = p_.options().replay_journal;
  // A sink that fell behind holds its queries back: their input waits in the log.
  const bool held = p_.query_held(qi);
  if (held && !q.held) p_.note_held(qi);
  q.held = held;
  // Nothing wakes a shard when its sinks catch up (the checkpoint worker, which stages
  // exactly-once rows, cannot): look again in a millisecond.
  if (held && !hold_wake_pending_) {
    hold_wake_pending_ = true;
    shard_.schedule_after(std::chrono::milliseconds(1), [this] { hold_wake_pending_ = false; });
  }
  for (auto& in : q.inputs) {
    if (in.ended || held) continue;
    for (int b = 0; b < kMaxBatchesPerPoll; ++b) {
      // Replaying: read no further than where the next journaled decision was taken (§3.8).
      // Alignment only orders reads, and the journal pins the order that matters.
      if (replaying ? !replay_allows_read(qi, in) : !aligned(qi, in)) break;
      const Offset before = in.reader->position();
      auto next = in.reader->next();
      if (!next) {
        p_.fail(fmt::format("query `{}` reading {}: {}", info.name, in.log->dir(),
                            next.error().message));
        in.ended = true;
        break;
      }
      if (!*next) {
        // Draining (freshet run --drain): nothing more is appended, so a caught-up input is
        // over and the final watermark fires every window.
        const bool over = in.log->finished() || p_.draining();
        if (over && in.reader->position() >= in.log->end_offset() &&
            in.log->durable_end() >= in.log->end_offset())
          in.ended = true;
        break;
      }
      const log::BatchView& batch = **next;
      q.values.clear();
      auto it = batch.records();
      log::RecordView rec;
      while (it.next(rec)) {
        if (rec.value)
          q.values.push_back(*rec.value);
        else
          ++q.malformed;
      }
      if (it.error()) {
        p_.fail(fmt::format("query `{}` reading {}: {}", info.name, in.log->dir(),
                            it.error()->message));
        in.ended = true;
        break;
      }
      const size_t padding = in.reader->readable_after(batch.data() + batch.size());
      // A partition back from idleness that has not caught up with the watermark yet: what
      // the watermark passed while it was idle is late because of that idleness (§3.2 rule
      // 4). Its shard may have been idle as a whole, so the watermark to judge by is the
      // highest output, which this shard sees as the owners' merged watermark. That view
      // depends on the other shards' timing, so it is journaled (a replay applies it in
      // replay_allows_read).
      const auto cause =
          in.idle ? query::LateCause::kAfterIdleResume : query::LateCause::kPastLateness;
      if (in.idle && q.local && !replaying && q.merged_wm > q.local->drained_watermark()) {
        JournalRecord r{JournalRecord::Kind::kResume, in.log_partition, q.merged_wm, {}};
        if (!journal(qi, std::move(r), &in, before)) break;
        q.local->restore_watermark(q.merged_wm);
      }
      const auto stats = q.stateless ? q.stateless->process(q.values, padding, q.fired)
                                     : q.local->add_batch(q.values, padding, cause);
      q.records += stats.records;
      q.filtered += stats.filtered_out;
      q.malformed += stats.malformed;
      q.late += stats.late;
      q.late_after_idle_resume += stats.late_after_idle_resume;
      q.future_clamped += stats.future_clamped;
      in.max_ts = std::max(in.max_ts, stats.max_event_time);
      did = true;
    }
  }
  // The journal explains every late record before it leaves, and every watermark.
  if (!sync_journal(qi)) return did;
  send_rejects(qi);
  bool idle = false;
  const TimestampMs now = wall_clock_ms();
  if (replaying) apply_journaled_idleness(qi);
  TimestampMs wm = shard_watermark(qi, now, idle);
  const bool quiet = idle || wm == kMaxTimestamp;
  if (q.local) wm = clock_progress(qi, wm, now, idle);
  if (!sync_journal(qi)) return did;
  report_status(qi, quiet);
  if (q.stateless) {
    // Rows go straight to the sinks with this shard's watermark: a sink releases them in
    // event-time order once every shard has passed them.
    if (!q.fired.empty() || wm > q.sent_wm || idle != q.sent_idle) {
      send_rows(qi, q.fired, wm, idle, false);
      q.sent_idle = idle;
      if (info.outputs.empty() && wm == kMaxTimestamp && q.sent_wm != kMaxTimestamp)
        p_.input_done();
      q.sent_wm = std::max(q.sent_wm, wm);
      did = true;
    }
    return did;
  }
  if (wm > q.sent_wm || idle != q.sent_idle) {
    ship(qi, std::max(wm, q.sent_wm), idle);
    did = true;
  }
  return did;
}

TimestampMs ShardState::shard_watermark(size_t qi, TimestampMs now, bool& idle) {
  auto& q = queries_[qi];
  const auto& info = p_.queries()[qi];
  // A replay takes a journaled query's idleness from the journal, never from the clock.
  const bool from_journal = q.journaled && p_.options().replay_journal;
  TimestampMs wm = kMaxTimestamp, highest = kMinTimestamp;
  bool any_active = false;
  for (auto& in : q.inputs) {
    const TimestampMs w =
        in.ended ? kMaxTimestamp : partition_watermark(in.max_ts, info.watermark_delay);
    highest = std::max(highest, w);
    // Idle only when caught up with the log's end AND nothing was appended for idle_timeout:
    // a lagging reader is never idle, so replaying a backlog cannot make data late (§3.3).
    const bool caught_up = in.reader->position() >= in.log->end_offset();
    const TimestampMs quiet_since = std::max(in.log->last_append_ms(), p_.start_wall_ms());
    const bool idle_now = !in.ended && info.idle_timeout && caught_up &&
                          topic_backlog_[info.topic] == 0 &&
                          now - quiet_since >= *info.idle_timeout;
    // A partition back from idleness rejoins the min only once it has caught up with what
    // was already emitted; until then the others keep the watermark moving (§3.2 rule 4).
    const bool is_idle = from_journal ? in.idle : idle_now || (in.idle && w < q.sent_wm);
    if (is_idle != in.idle && q.journal) {
      // Both transitions depend on when records arrived: journaled where they were taken.
      const auto kind = is_idle ? JournalRecord::Kind::kIdle : JournalRecord::Kind::kActive;
      if (!journal(qi, JournalRecord{kind, in.log_partition, kMinTimestamp, {}})) continue;
    }
    in.idle = is_idle;
    if (is_idle) continue;
    any_active = true;
    wm = std::min(wm, w);
  }
  // Every input idle: advance to the highest watermark any of them reached, and say so
  // downstream so the shard stops holding others back (§3.2 rule 3).
  idle = !any_active && !q.inputs.empty();
  if (!any_active) wm = q.inputs.empty() ? kMaxTimestamp : highest;
  return wm;
}

void ShardState::ship(size_t qi, TimestampMs wm, bool idle) {
  auto& q = queries_[qi];
  const uint32_t n = p_.shard_count();
  if (idle) {
    // An idle shard leaves the owners' min (§3.2 rule 3), so the others' watermark may close
    // windows it holds partials of: it hands them all over first, as at a barrier.
    q.local->drain_all(n, q.partials);
    q.local->restore_watermark(wm);
  } else {
    q.local->drain(wm, n, q.partials);
  }
  Pipeline* p = &p_;
  const ShardId from = id();
  // Partials first, then the watermark: an owner that sees the watermark has every partial
  // it covers (semantics §3.2, in-band watermarks).
  send_partials_then(qi, [p, qi, from, wm, idle](ShardId) -> shard::Task {
    return [p, qi, from, wm, idle] { p->local().on_upstream_watermark(qi, from, wm, idle); };
  });
  q.sent_wm = wm;
  q.sent_idle = idle;
}

void ShardState::send_partials_then(size_t qi, const std::function<shard::Task(ShardId)>& marker) {
  auto& q = queries_[qi];
  Pipeline* p = &p_;
  const ShardId me = id();
  for (uint32_t s = 0; s < p_.shard_count(); ++s) {
    if (!q.partials[s].empty())
      shard_.submit_to(ShardId(s), [p, qi, me, b = std::move(q.partials[s])]() mutable {
        p->local().on_partials(qi, me, std::move(b));
      });
    shard_.submit_to(ShardId(s), marker(ShardId(s)));
  }
}

void ShardState::on_partials(size_t qi, ShardId from, query::PartialBatch batch) {
  auto& q = queries_[qi];
  if (q.align.holds(from.value())) {
    q.align.hold(from.value(), [this, qi, from, b = std::move(batch)]() mutable {
      on_partials(qi, from, std::move(b));
    });
    return;
  }
  finish_fire(qi);  // what arrives now must not change the windows the watermark closed
  q.merger->merge(std::move(batch));
}

void ShardState::on_upstream_watermark(size_t qi, ShardId from, TimestampMs wm, bool idle) {
  auto& q = queries_[qi];
  if (q.align.holds(from.value())) {
    q.align.hold(from.value(),
                 [this, qi, from, wm, idle] { on_upstream_watermark(qi, from, wm, idle); });
    return;
  }
  const TimestampMs merged = q.upstream.update(from.value(), wm, idle);
  if (merged <= q.merged_wm) return;
  q.merged_wm = merged;
  fire_slice(qi, p_.fire_slice_rows());
}

void ShardState::fire_slice(size_t qi, size_t max_rows) {
  auto& q = queries_[qi];
  q.fired.clear();
  const TimestampMs through = q.merger->fire_some(q.merged_wm, q.fired, max_rows);
  q.fired_through = through;
  send_rows(qi, q.fired, through, false, true);
  if (through < q.merged_wm) {
    // The rest in a later turn: the sink writes this slice meanwhile and its memory is reused.
    if (!q.slice_posted) {
      q.slice_posted = true;
      Pipeline* p = &p_;
      shard_.submit_to(id(), [p, qi] { p->local().next_fire_slice(qi); });
    }
    return;
  }
  const auto& info = p_.queries()[qi];
  if (info.outputs.empty() && through == kMaxTimestamp) p_.input_done();
}

void ShardState::next_fire_slice(size_t qi) {
  auto& q = queries_[qi];
  q.slice_posted = false;
  if (stopped_ || !q.firing()) return;  // finished meanwhile
  // A sink that fell behind holds the rest back too, as it holds reads (poll_query).
  if (p_.query_held(qi)) {
    q.slice_posted = true;
    shard_.schedule_after(std::chrono::milliseconds(1), [this, qi] { next_fire_slice(qi); });
    return;
  }
  fire_slice(qi, p_.fire_slice_rows());
}

void ShardState::finish_fire(size_t qi) {
  auto& q = queries_[qi];
  if (q.firing()) fire_slice(qi, SIZE_MAX);
}

void ShardState::send_rows(size_t qi, query::FiredRows& rows, TimestampMs wm, bool idle,
                           bool from_owner) {
  const auto& info = p_.queries()[qi];
  Pipeline* p = &p_;
  const ShardId me = id();
  // A merger fires in the sink's order already; stateless rows come in read order. Sorted
  // batches let the sink merge them instead of sorting every row it holds.
  if (!from_owner) rows.sort_from(0);
  for (size_t o = 0; o < info.outputs.size(); ++o) {
    const auto [si, input] = info.outputs[o];
    query::FiredRows batch = o + 1 == info.outputs.size() ? std::move(rows) : rows;
    shard_.submit_to(p_.sinks()[si].owner,
                     [p, si, input = input, me, side = from_owner ? 1 + input : 0, idle,
                      batch = std::move(batch), wm]() mutable {
                       p->local().on_rows(si, input, me, side, idle, std::move(batch), wm);
                     });
  }
  rows.clear();
}

void ShardState::begin_shutdown() {
  shutting_down_ = true;
  // Their rows go ahead of the markers below.
  for (size_t qi = 0; qi < queries_.size(); ++qi) finish_fire(qi);
  for (auto& f : file_sources_) f->stop();
  // Tell every shard (itself included) that this one sends nothing more. Behind the
  // marker on each FIFO channel are all the rows and partials sent before it.
  Pipeline* p = &p_;
  for (uint32_t s = 0; s < p_.shard_count(); ++s)
    shard_.submit_to(ShardId(s), [p] { p->local().quiesced_from_one(); });
}

void ShardState::replay_read_on_one() {
  if (++replay_read_markers_ < p_.shard_count()) return;
  send_replay_fired();
}

void ShardState::send_replay_fired() {
  Pipeline* p = &p_;
  // Every watermark is in; the rows of fires still going on in slices go ahead of the markers.
  if (stopped_) return;
  for (const auto& q : queries_) {
    if (q.firing()) {
      // Look again later rather than at once: a slice may be waiting for its sink.
      shard_.schedule_after(std::chrono::milliseconds(1), [this] { send_replay_fired(); });
      return;
    }
  }
  for (uint32_t s = 0; s < p_.shard_count(); ++s)
    shard_.submit_to(ShardId(s), [p] { p->local().replay_fired_on_one(); });
}

void ShardState::replay_fired_on_one() {
  if (++replay_fired_markers_ == p_.shard_count()) p_.replay_done_on_shard();
}

void ShardState::quiesced_from_one() {
  if (++quiesce_markers_ < p_.shard_count()) return;
  // Every shard has stopped sending: write what the sinks hold and close the logs.
  for (size_t si = 0; si < sinks_.size(); ++si)
    if (sinks_[si]) release(si);
  finish_shutdown();
}

void ShardState::finish_shutdown() {
  for (auto& s : sinks_) {
    if (!s) continue;
    if ((s->main.file && s->main.in_flight) || (s->late && s->late->in_flight) ||
        (s->dead && s->dead->in_flight)) {
      // Come back when the ring has finished the write; the loop keeps running until then.
      shard_.schedule_after(std::chrono::milliseconds(1), [this] { finish_shutdown(); });
      return;
    }
  }
  for (auto& s : sinks_) {
    if (!s) continue;
    for (FileWriter* w : {&s->main, s->late.get(), s->dead.get()})
      if (w && w->file)
        if (auto st = w->file->flush_blocking(); !st) p_.fail(st.error().message);
  }
  for (auto& [name, parts] : logs_)
    for (auto& l : parts)
      if (l)
        if (auto st = l->close(); !st) p_.fail(st.error().message);
  stopped_ = true;
  report_counters();
  p_.shard_stopped();
}

void ShardState::report_counters() {
  for (size_t qi = 0; qi < queries_.size(); ++qi) {
    auto& q = queries_[qi];
    if (q.malformed == 0 && q.late == 0) continue;
    log::warn(
        "query `{}`: {} malformed and {} late records ({} after_idle_resume) dropped so far "
        "(of {} read)",
        p_.queries()[qi].name, q.malformed, q.late, q.late_after_idle_resume, q.records);
  }
}

}  // namespace freshet::server
