// A shard's part of a checkpoint (semantics §3.7 steps 1-3) and of the restore.
//
// Epoch n on one shard:
// 1. inject_barrier(n): record where every query's readers are, ship every local partial to
//    its owner, then a query barrier to each owner and a reader-side barrier to each sink.
// 2. on_query_barrier: an owner that has every reading shard's barrier for a query snapshots
//    its merger and sends that query's owner-side barrier to the sinks it feeds.
// 3. on_sink_barrier: a sink with every barrier snapshots its unreleased rows and hands the
//    epoch's rows to the worker.
// 4. When all three are done here, the image goes to the worker, which writes it durably,
//    precommits the sinks and reports to the coordinator on shard 0.
// Anything that arrives on a channel after its barrier waits in a BarrierAligner until the
// snapshot it must not be part of is taken.

#include "freshet/base/log.h"
#include "freshet/sinks/file_sink.h"
#include "shard_state.h"

namespace freshet::server {
namespace {

constexpr uint32_t kStateMagic = 0x41545346;  // "FSTA"
constexpr uint32_t kStateVersion = 1;
// Exactly-once rows leave the shard for the worker in chunks of about this size, and at each
// barrier; they are not visible before the commit anyway.
constexpr size_t kStageChunk = 1 << 20;

}  // namespace

EpochWork& ShardState::work(uint64_t n) {
  if (epoch_.epoch != n) {
    FRESHET_ASSERT(epoch_.epoch < n);
    epoch_ = EpochWork{};
    epoch_.epoch = n;
    epoch_.readers.assign(queries_.size(), {});
    epoch_.mergers.assign(queries_.size(), {});
    epoch_.offsets.assign(queries_.size(), {});
    epoch_.sinks.assign(sinks_.size(), {});
    for (const auto& q : queries_) epoch_.mergers_pending += q.merger ? 1 : 0;
    for (const auto& s : sinks_) epoch_.sinks_pending += s ? 1 : 0;
  }
  return epoch_;
}

void ShardState::inject_barrier(uint64_t n) {
  if (stopped_) return;
  auto& e = work(n);
  e.injected = true;
  const uint32_t shards = p_.shard_count();
  Pipeline* p = &p_;
  const ShardId me = id();
  for (size_t qi = 0; qi < queries_.size(); ++qi) {
    auto& q = queries_[qi];
    ByteWriter w(e.readers[qi]);
    w.put<uint32_t>(static_cast<uint32_t>(q.inputs.size()));
    for (const auto& in : q.inputs) {
      const int32_t part = in.log_partition;
      w.put<int32_t>(part);
      w.put<int64_t>(in.reader->position().value());
      w.put<int64_t>(in.max_ts);
      w.put<uint8_t>(in.idle);
      w.put<uint8_t>(in.ended);
      e.offsets[qi].emplace_back(part, in.reader->position());
    }
    w.put<int64_t>(q.sent_wm);
    w.put<uint8_t>(q.sent_idle);
    if (!q.local) {
      // A stateless query has no merger: its owner-side channels carry nothing, so they
      // close now (its rows travel on the reader side, closed below).
      for (const auto& [si, input] : p_.queries()[qi].outputs)
        shard_.submit_to(p_.sinks()[si].owner, [p, si = si, me, side = 1 + input, n] {
          p->local().on_sink_barrier(si, me, side, n);
        });
      continue;
    }
    // Local partials go to their owners now, so the owners' snapshots hold all the state.
    q.local->drain_all(shards, q.partials);
    send_partials_then(qi, [p, qi, me, n](ShardId) -> shard::Task {
      return [p, qi, me, n] { p->local().on_query_barrier(qi, me, n); };
    });
  }
  // Stateless rows and late/dead records this shard sent so far are epoch n's.
  for (size_t si = 0; si < p_.sinks().size(); ++si)
    shard_.submit_to(p_.sinks()[si].owner,
                     [p, si, me, n] { p->local().on_sink_barrier(si, me, 0, n); });
  maybe_finish_epoch();
}

void ShardState::on_query_barrier(size_t qi, ShardId from, uint64_t n) {
  auto& q = queries_[qi];
  auto& e = work(n);
  if (!q.align.arrive(from.value())) return;
  finish_fire(qi);  // its rows are epoch n's
  ByteWriter w(e.mergers[qi]);
  w.put<uint32_t>(static_cast<uint32_t>(q.upstream.wm.size()));
  for (size_t i = 0; i < q.upstream.wm.size(); ++i) {
    w.put<int64_t>(q.upstream.wm[i]);
    w.put<uint8_t>(q.upstream.idle[i]);
  }
  w.put<int64_t>(q.merged_wm);
  std::string image;
  q.merger->snapshot(image);
  w.put_bytes(image);
  // Rows this merger fired so far are epoch n's; what the held tasks fire is n+1's.
  Pipeline* p = &p_;
  const ShardId me = id();
  for (const auto& [si, input] : p_.queries()[qi].outputs)
    shard_.submit_to(p_.sinks()[si].owner, [p, si = si, me, side = 1 + input, n] {
      p->local().on_sink_barrier(si, me, side, n);
    });
  --e.mergers_pending;
  for (auto& t : q.align.release()) t();
  maybe_finish_epoch();
}

void ShardState::on_sink_barrier(size_t si, ShardId from, size_t side, uint64_t n) {
  auto& s = *sinks_[si];
  auto& e = work(n);
  if (!s.align.arrive(sink_channel(from, side, s.inputs.size()))) return;
  snapshot_sink(si);
  hand_over_staged(si);  // the rest of epoch n's rows
  s.epoch = n + 1;
  --e.sinks_pending;
  for (auto& t : s.align.release()) t();
  maybe_finish_epoch();
}

void ShardState::snapshot_sink(size_t si) {
  auto& s = *sinks_[si];
  if (s.topic && s.exactly_once && !s.topic_ended && s.all_inputs_done()) {
    s.topic_ended = true;
    epoch_.ended_topics.push_back(p_.sinks()[si].config.topic);
  }
  ByteWriter w(epoch_.sinks[si]);
  w.put<uint32_t>(static_cast<uint32_t>(s.inputs.size()));
  for (const auto& in : s.inputs) {
    w.put<uint32_t>(static_cast<uint32_t>(in.owners.wm.size()));
    for (size_t i = 0; i < in.owners.wm.size(); ++i) {
      w.put<int64_t>(in.owners.wm[i]);
      w.put<uint8_t>(in.owners.idle[i]);
    }
    w.put<int64_t>(in.wm);
    w.put<uint8_t>(in.done);
  }
  w.put<int64_t>(s.released_wm);
  uint64_t held = 0;
  for (const auto& run : s.runs) held += run.rows.size() - run.next;
  w.put<uint64_t>(held);
  for (const auto& run : s.runs) {
    for (size_t i = run.next; i < run.rows.size(); ++i) {
      const query::FiredRow row = run.rows[i];
      w.put<uint32_t>(static_cast<uint32_t>(run.input));
      w.put<int64_t>(row.window_start);
      w.put<int64_t>(row.window_end);
      w.put_bytes(row.sort_key);
      w.put_bytes(row.line);
      w.put<uint32_t>(row.version);
      w.put<uint8_t>(static_cast<uint8_t>(row.kind));
      w.put<uint32_t>(static_cast<uint32_t>(row.replaces.size()));
      for (const auto& [a, z] : row.replaces) {
        w.put<int64_t>(a);
        w.put<int64_t>(z);
      }
    }
  }
}

void ShardState::stage(size_t si, SinkFileKind kind, std::string_view line) {
  auto& s = *sinks_[si];
  std::string& buf = s.staged[kind];
  const auto& info = p_.sinks()[si];
  if (kind == kMainFile && !s.topic && info.config.format == config::SinkFormat::kCsv)
    buf += sinks::json_row_to_csv(line, info.columns);
  else
    buf += line;
  buf += '\n';
  if (buf.size() >= kStageChunk) hand_over_staged(si);
}

void ShardState::hand_over_staged(size_t si) {
  auto& s = *sinks_[si];
  Pipeline* p = &p_;
  for (int kind = 0; kind < 3; ++kind) {
    if (s.staged[kind].empty()) continue;
    const size_t n = s.staged[kind].size();
    p_.staging_added(si, n);
    const bool posted =
        p_.worker().post([p, si, kind, n, epoch = s.epoch, b = std::move(s.staged[kind])] {
          p->sink_files().stage(si, kind, epoch, b, *p);
          p->staging_done(si, n);
        });
    if (!posted) p_.fail("checkpoint worker stopped while sinks still had rows");
    s.staged[kind].clear();
  }
}

void ShardState::maybe_finish_epoch() {
  auto& e = epoch_;
  if (e.epoch == 0 || !e.injected || e.finished || e.mergers_pending > 0 || e.sinks_pending > 0)
    return;
  e.finished = true;
  std::string image;
  ByteWriter w(image);
  w.put<uint32_t>(kStateMagic);
  w.put<uint32_t>(kStateVersion);
  w.put<uint64_t>(e.epoch);
  w.put<uint32_t>(id().value());
  w.put<uint32_t>(p_.shard_count());
  w.put<uint32_t>(static_cast<uint32_t>(queries_.size()));
  for (size_t qi = 0; qi < queries_.size(); ++qi) {
    w.put_bytes(p_.queries()[qi].name);
    w.put_bytes(e.readers[qi]);
    w.put_bytes(e.mergers[qi]);
  }
  std::vector<size_t> owned;
  for (size_t si = 0; si < sinks_.size(); ++si)
    if (sinks_[si]) owned.push_back(si);
  w.put<uint32_t>(static_cast<uint32_t>(owned.size()));
  std::vector<size_t> exactly_once;
  for (size_t si : owned) {
    w.put_bytes(p_.sinks()[si].config.name);
    w.put_bytes(e.sinks[si]);
    if (sinks_[si]->exactly_once) exactly_once.push_back(si);
  }
  Pipeline* p = &p_;
  const ShardId me = id();
  const uint64_t n = e.epoch;
  const bool posted = p_.worker().post([p, me, n, exactly_once = std::move(exactly_once),
                                        image = std::move(image), offsets = std::move(e.offsets),
                                        ended = std::move(e.ended_topics)]() mutable {
    ShardReport r;
    r.shard = me;
    r.ended_topics = std::move(ended);
    r.offsets = std::move(offsets);
    if (auto entries = p->sink_files().precommit(exactly_once, n); !entries)
      r.error = entries.error().message;
    else
      r.sink_files = std::move(*entries);
    if (r.error.empty()) {
      auto st =
          p->store().write_state_file(n, me, fmt::format("shard-{}.state", me.value()), image);
      if (st)
        r.state = *st;
      else
        r.error = st.error().message;
    }
    p->runtime().submit_to(
        ShardId(0), [p, r = std::move(r)]() mutable { p->coordinator().shard_done(std::move(r)); });
  });
  if (!posted) p_.fail("checkpoint worker stopped while a checkpoint was in flight");
}

Status ShardState::restore(std::string_view image) {
  ByteReader r(image);
  auto corrupt = [&](std::string_view what) {
    return make_error(ErrorCode::kCorruption, "checkpoint {} state of shard {}: {}",
                      p_.restored_epoch(), id(), what);
  };
  if (r.get<uint32_t>() != kStateMagic || r.get<uint32_t>() != kStateVersion)
    return corrupt("not a state file of this version");
  r.get<uint64_t>();
  if (r.get<uint32_t>() != id().value() || r.get<uint32_t>() != p_.shard_count())
    return corrupt("written by another shard layout");
  const uint32_t nq = r.get<uint32_t>();
  std::map<std::string, size_t> index;
  for (size_t qi = 0; qi < queries_.size(); ++qi) index[p_.queries()[qi].name] = qi;
  for (uint32_t k = 0; k < nq && r.ok(); ++k) {
    const std::string name(r.get_bytes());
    ByteReader readers(r.get_bytes());
    ByteReader merger(r.get_bytes());
    auto it = index.find(name);
    if (it == index.end() || !p_.restores(name)) continue;  // dropped or reset: starts over
    const size_t qi = it->second;
    auto& q = queries_[qi];
    const auto& info = p_.queries()[qi];
    const uint32_t ni = readers.get<uint32_t>();
    for (uint32_t i = 0; i < ni && readers.ok(); ++i) {
      const int32_t part = readers.get<int32_t>();
      const Offset pos(readers.get<int64_t>());
      const TimestampMs max_ts = readers.get<int64_t>();
      const bool idle = readers.get_bool(), ended = readers.get_bool();
      auto in = std::find_if(q.inputs.begin(), q.inputs.end(),
                             [&](const auto& x) { return x.log_partition == part; });
      if (in == q.inputs.end())
        return corrupt(fmt::format("query `{}` has no partition {}", name, part));
      // Semantics §3.10 #8: what the checkpoint resumes from must still be in the log.
      if (pos < in->log->start_offset())
        return make_error(
            ErrorCode::kUnavailable,
            "query `{}` resumes {}/{} at offset {}, but the log now starts at {}: records "
            "{}..{} are gone (deleted while freshet was stopped). Nothing was restored. To run "
            "the query over what the log still holds, start with `--reset-state {}`",
            name, info.topic, part, pos.value(), in->log->start_offset().value(), pos.value(),
            in->log->start_offset().value() - 1, name);
      if (pos > in->log->end_offset())
        return make_error(ErrorCode::kUnavailable,
                          "query `{}` resumes {}/{} at offset {}, past the log's end {}: the "
                          "log lost records the checkpoint had read (fsync: never and a "
                          "power loss?). Start the query over with `--reset-state {}`",
                          name, info.topic, part, pos.value(), in->log->end_offset().value(), name);
      FRESHET_TRY(in->reader->seek(pos));
      in->max_ts = max_ts;
      in->idle = idle;
      in->ended = ended;
    }
    q.sent_wm = readers.get<int64_t>();
    q.sent_idle = readers.get_bool();
    if (!readers.ok()) return corrupt(fmt::format("query `{}` readers", name));
    if (q.local) {
      q.local->restore_watermark(q.sent_wm);
      const uint32_t nu = merger.get<uint32_t>();
      if (nu != q.upstream.wm.size()) return corrupt(fmt::format("query `{}` valve", name));
      for (uint32_t i = 0; i < nu; ++i) {
        q.upstream.wm[i] = merger.get<int64_t>();
        q.upstream.idle[i] = merger.get_bool();
      }
      q.merged_wm = merger.get<int64_t>();
      q.fired_through = q.merged_wm;  // snapshots are taken between fires (finish_fire)
      const std::string_view img = merger.get_bytes();
      if (!merger.ok()) return corrupt(fmt::format("query `{}` merger", name));
      FRESHET_TRY(q.merger->restore(img));
      if (info.outputs.empty() && q.merged_wm == kMaxTimestamp) p_.input_done();
    } else if (info.outputs.empty() && q.sent_wm == kMaxTimestamp) {
      p_.input_done();
    }
  }
  const uint32_t ns = r.get<uint32_t>();
  std::map<std::string, size_t> sink_index;
  for (size_t si = 0; si < p_.sinks().size(); ++si) sink_index[p_.sinks()[si].config.name] = si;
  for (uint32_t k = 0; k < ns && r.ok(); ++k) {
    const std::string name(r.get_bytes());
    ByteReader section(r.get_bytes());
    auto it = sink_index.find(name);
    if (it == sink_index.end() || !sinks_[it->second]) continue;
    FRESHET_TRY(restore_sink(it->second, section));
  }
  if (!r.ok()) return corrupt("truncated");
  return ok();
}

Status ShardState::restore_sink(size_t si, ByteReader& r) {
  auto& s = *sinks_[si];
  const auto& info = p_.sinks()[si];
  const uint32_t ni = r.get<uint32_t>();
  if (ni != s.inputs.size()) {
    log::warn("sink `{}`: its inputs changed since the checkpoint; its unreleased rows start over",
              info.config.name);
    return ok();
  }
  // An input whose query starts over (new or --reset-state) drops what it had sent.
  std::vector<bool> keep(ni);
  for (uint32_t i = 0; i < ni; ++i) keep[i] = p_.restores(p_.queries()[info.inputs[i]].name);
  for (uint32_t i = 0; i < ni; ++i) {
    auto& in = s.inputs[i];
    const uint32_t no = r.get<uint32_t>();
    if (!r.plausible(no, 9) || no != in.owners.wm.size())
      return make_error(ErrorCode::kCorruption, "sink `{}` state: bad valve", info.config.name);
    for (uint32_t o = 0; o < no; ++o) {
      const TimestampMs wm = r.get<int64_t>();
      const bool idle = r.get_bool();
      if (keep[i]) {
        in.owners.wm[o] = wm;
        in.owners.idle[o] = idle;
      }
    }
    const TimestampMs wm = r.get<int64_t>();
    const bool done = r.get_bool();
    if (keep[i]) {
      in.wm = wm;
      in.done = done;
      if (done) p_.input_done();
    }
  }
  s.released_wm = r.get<int64_t>();
  // An input starting over sends rows from the beginning again: release them from scratch.
  if (std::find(keep.begin(), keep.end(), false) != keep.end()) s.released_wm = kMinTimestamp;
  const uint64_t rows = r.get<uint64_t>();
  if (!r.plausible(rows, 40))
    return make_error(ErrorCode::kCorruption, "sink `{}` state: bad row count", info.config.name);
  // One run per input, sorted as release() expects.
  std::vector<query::FiredRows> held(ni);
  std::vector<query::FiredRow::Bounds> replaces;
  for (uint64_t k = 0; k < rows && r.ok(); ++k) {
    const uint32_t input = r.get<uint32_t>();
    query::FiredRow row;
    row.window_start = r.get<int64_t>();
    row.window_end = r.get<int64_t>();
    row.sort_key = r.get_bytes();
    row.line = r.get_bytes();
    row.version = r.get<uint32_t>();
    row.kind = static_cast<query::FiredRow::Kind>(r.get<uint8_t>());
    const uint32_t nr = r.get<uint32_t>();
    if (!r.plausible(nr, 16)) break;
    replaces.clear();
    for (uint32_t j = 0; j < nr; ++j) {
      const TimestampMs a = r.get<int64_t>();
      replaces.emplace_back(a, r.get<int64_t>());
    }
    row.replaces = replaces;
    if (input < ni && keep[input]) held[input].push(row);
  }
  for (uint32_t i = 0; i < ni; ++i) {
    if (held[i].empty()) continue;
    held[i].sort_from(0);
    s.runs.push_back({std::move(held[i]), i, 0});
  }
  if (!r.ok())
    return make_error(ErrorCode::kCorruption, "sink `{}` state: truncated", info.config.name);
  // A topic sink that had published its last rows: its readers must end again.
  if (s.topic && s.all_inputs_done()) {
    s.topic_ended = true;
    end_topic_everywhere(info.config.topic);
  }
  return ok();
}

}  // namespace freshet::server
