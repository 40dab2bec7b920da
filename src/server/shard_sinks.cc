// The sink side of a shard: rows and rejected records arriving from the query owners and
// readers, released in a fixed order once every owner has passed them, and written by the
// sink's delivery (io_uring writes to a live file, staging for exactly-once, or a topic).

#include <fcntl.h>

#include <algorithm>

#include "freshet/base/json.h"
#include "freshet/base/time.h"
#include "freshet/sources/source_position.h"
#include "shard_state.h"

namespace freshet::server {

void ShardState::on_rows(size_t si, size_t input, ShardId from, size_t side, bool idle,
                         query::FiredRows rows, TimestampMs wm) {
  auto& s = *sinks_[si];
  if (const size_t ch = sink_channel(from, side, s.inputs.size()); s.align.holds(ch)) {
    s.align.hold(ch, [this, si, input, from, side, idle, r = std::move(rows), wm]() mutable {
      on_rows(si, input, from, side, idle, std::move(r), wm);
    });
    return;
  }
  // Early rows (emit: early) are updates of open windows: out at once, in arrival order; the
  // window's final row follows when the watermark passes it. A batch holds early rows only
  // (fire_early) or none (fire).
  if (!rows.empty() && rows[0].kind == query::FiredRow::Kind::kEarly) {
    for (const query::FiredRow r : rows) write_row(si, r.line);
    flush_rows(si);
  } else if (!rows.empty()) {
    s.runs.push_back({std::move(rows), input, 0});
  }
  auto& in = s.inputs[input];
  in.wm = in.owners.update(from.value(), wm, idle);
  release(si);
  if (in.wm == kMaxTimestamp && !in.done) {
    in.done = true;
    p_.input_done();
    const bool all = s.all_inputs_done();
    if (s.topic && all && !s.exactly_once && !s.topic_ended) {
      // Every row is appended (or on its way, ahead of this on the same channels).
      s.topic_ended = true;
      end_topic_everywhere(p_.sinks()[si].config.topic);
    } else if (s.topic && all && s.exactly_once) {
      // The last rows reach the topic at the next commit: take it now, not an interval later.
      Pipeline* p = &p_;
      shard_.submit_to(ShardId(0), [p] { p->coordinator().request_early(); });
    }
  }
}

void ShardState::release(size_t si) {
  auto& s = *sinks_[si];
  TimestampMs combined = kMaxTimestamp;
  for (const auto& in : s.inputs) combined = std::min(combined, in.wm);
  // At shutdown without checkpoints, once every shard has said it sends nothing more, what
  // the sink holds is written out: nothing would restore it. With checkpoints it is part of
  // the saved state and waits for its watermark. Not before every shard has said so: rows
  // still on their way (a fire in slices finishing) would come out of order. Rows a shard
  // fires after that (a watermark it took in after its marker) are written as they come.
  const bool force = quiesce_markers_ >= p_.shard_count() && !p_.checkpointing();
  if (combined <= s.released_wm && !force) return;
  // Every owner has fired all windows ending at or before the combined watermark, so these
  // rows are complete; writing them in one fixed order makes the file independent of the
  // shard count and of timing. Each run is sorted, so what is ready is a prefix of it, and
  // the prefixes are merged by (row time, input, window, key, version, text).
  auto& heads = release_scratch_;
  heads.clear();
  for (uint32_t k = 0; k < s.runs.size(); ++k) {
    const auto& run = s.runs[k];
    size_t end = run.next;
    while (end < run.rows.size() && (force || run.rows.window_end(end) - 1 <= combined)) ++end;
    if (end > run.next) heads.push_back({k, static_cast<uint32_t>(end)});
  }
  // A heap of runs, the one whose next row comes first on top.
  auto after = [&s](const RunEnd& x, const RunEnd& y) {
    const auto& a = s.runs[x.run];
    const auto& b = s.runs[y.run];
    const TimestampMs ea = a.rows.window_end(a.next), eb = b.rows.window_end(b.next);
    if (ea != eb) return ea > eb;
    if (a.input != b.input) return a.input > b.input;
    return query::FiredRows::before(b.rows, b.next, a.rows, a.next);
  };
  std::make_heap(heads.begin(), heads.end(), after);
  while (!heads.empty()) {
    std::pop_heap(heads.begin(), heads.end(), after);
    RunEnd& top = heads.back();
    auto& run = s.runs[top.run];
    write_row(si, run.rows[run.next++].line);
    if (heads.size() == 1) {
      // The last run with ready rows: the rest of its prefix, in order.
      while (run.next < top.end) write_row(si, run.rows[run.next++].line);
      heads.pop_back();
    } else if (run.next < top.end) {
      std::push_heap(heads.begin(), heads.end(), after);
    } else {
      heads.pop_back();
    }
  }
  std::erase_if(s.runs, [](const SinkShard::Run& run) { return run.next == run.rows.size(); });
  s.released_wm = std::max(s.released_wm, combined);
  flush_rows(si);
}

void ShardState::write_row(size_t si, std::string_view line) {
  auto& s = *sinks_[si];
  if (s.exactly_once) {
    stage(si, kMainFile, line);
  } else if (s.topic) {
    (s.topic_lines += line) += '\n';
  } else {
    s.main.file->add_row(line);
  }
}

void ShardState::flush_rows(size_t si) {
  auto& s = *sinks_[si];
  // Staged rows wait for a full chunk or the barrier: nobody sees them before the commit.
  if (s.exactly_once) return;
  if (!s.topic) {
    pump(s.main);
    check_sink_full(si);
    return;
  }
  if (s.topic_lines.empty()) return;
  s.batcher->feed(s.topic_lines, wall_clock_ms());
  s.batcher->flush();
  s.topic_lines.clear();
}

void ShardState::end_topic_everywhere(const std::string& topic) {
  Pipeline* p = &p_;
  for (uint32_t k = 0; k < p_.shard_count(); ++k)
    shard_.submit_to(ShardId(k), [p, topic] { p->local().end_topic(topic); });
}

void ShardState::pump(FileWriter& w) {
  if (!w.file || w.in_flight || stopped_) return;
  if (auto next = w.file->next_write()) {
    w.in_flight = true;
    shard_.ring().write(next->fd, next->data, static_cast<unsigned>(next->len), next->offset, &w);
  }
}

void FileWriter::complete(int32_t res, uint32_t) {
  in_flight = false;
  if (auto st = file->write_done(res, wall_clock_ms()); !st) {
    // The rows stay queued in the sink; stopping keeps them from being silently stuck.
    owner->fail(fmt::format("sink {}: {}", file->path(), st.error().message));
    return;
  }
  owner->pump(*this);
  if (sink != SIZE_MAX) owner->check_sink_full(sink);
}

void ShardState::check_sink_full(size_t si) {
  auto& s = *sinks_[si];
  if (!s.main.file) return;
  const size_t queued = s.main.file->queued_bytes();
  s.most_queued = std::max(s.most_queued, queued);
  const size_t limit = p_.sink_full_bytes();
  if (!p_.sink_full(si)) {
    if (queued <= limit) return;
    p_.set_sink_full(si, true);
    ++s.times_full;
    return;
  }
  // Reading resumes at a quarter of the limit, so a sink at the edge does not toggle at every
  // write. Held queries look again on their own (ShardState::poll_query).
  if (queued <= limit / 4) p_.set_sink_full(si, false);
}

void ShardState::on_reject(size_t qi, const query::RejectedRecord& r) {
  auto& q = queries_[qi];
  const auto& info = p_.queries()[qi];
  if (info.outputs.empty()) return;  // counted, and nowhere to write
  const std::string_view record = q.values[r.index];
  std::string line = fmt::format("{{\"query\":\"{}\",\"reason\":", info.name);
  append_json_string(line, r.reason);
  if (r.kind == query::RejectedRecord::Kind::kLate) {
    if (p_.config().queries.at(info.name).late == config::LatePolicy::kDrop) return;
    fmt::format_to(std::back_inserter(line),
                   ",\"event_time\":\"{}\",\"watermark\":\"{}\",\"record\":",
                   format_rfc3339_ms(r.event_time), format_rfc3339_ms(r.watermark));
    line += record;  // late records are valid JSON: they were read
    line += '}';
    q.late_rows.push_back(std::move(line));
  } else {
    // A malformed record may not be JSON at all: keep it as a string, byte for byte.
    line += ",\"record\":";
    append_json_string(line, record);
    line += '}';
    q.dead_rows.push_back(std::move(line));
  }
}

void ShardState::send_rejects(size_t qi) {
  auto& q = queries_[qi];
  if (q.late_rows.empty() && q.dead_rows.empty()) return;
  const auto& info = p_.queries()[qi];
  Pipeline* p = &p_;
  for (size_t o = 0; o < info.outputs.size(); ++o) {
    const size_t si = info.outputs[o].first;
    const bool last = o + 1 == info.outputs.size();
    auto late = last ? std::move(q.late_rows) : q.late_rows;
    auto dead = last ? std::move(q.dead_rows) : q.dead_rows;
    shard_.submit_to(p_.sinks()[si].owner,
                     [p, si, me = id(), late = std::move(late), dead = std::move(dead)]() mutable {
                       p->local().on_rejects(si, me, std::move(late), std::move(dead));
                     });
  }
  q.late_rows.clear();
  q.dead_rows.clear();
}

void ShardState::on_rejects(size_t si, ShardId from, std::vector<std::string> late,
                            std::vector<std::string> dead) {
  auto& s = *sinks_[si];
  if (const size_t ch = sink_channel(from, 0, s.inputs.size()); s.align.holds(ch)) {
    s.align.hold(ch, [this, si, from, l = std::move(late), d = std::move(dead)]() mutable {
      on_rejects(si, from, std::move(l), std::move(d));
    });
    return;
  }
  if (s.exactly_once) {
    for (const auto& r : late) stage(si, kLateFile, r);
    for (const auto& r : dead) stage(si, kDeadFile, r);
    return;
  }
  auto write = [&](std::unique_ptr<FileWriter>& w, std::string_view kind,
                   std::vector<std::string>& rows) {
    if (rows.empty()) return;
    if (!w) {
      sinks::FileSinkOptions fo;
      fo.name = fmt::format("{}.{}", p_.sinks()[si].config.name, kind);
      fo.path = sink_file_path(p_.sinks()[si].config.path, kind == "late" ? kLateFile : kDeadFile);
      fo.truncate = p_.options().reset || p_.options().replay_journal;
      auto file = sinks::FileSink::open(p_.fs(), fo);
      if (!file) {
        p_.fail(fmt::format("sink {}: {}", fo.name, file.error().message));
        return;
      }
      w = std::make_unique<FileWriter>();
      w->file = std::move(*file);
      w->owner = this;
    }
    for (const auto& r : rows) w->file->add_row(r);
    pump(*w);
  };
  write(s.late, "late", late);
  write(s.dead, "dead", dead);
}

namespace {
constexpr size_t kPublishPieceBytes = 64 << 10;
}  // namespace

Status ShardState::publish_topic_rows(const checkpoint::SinkFileEntry& e) {
  if (e.staging_length == 0) return ok();
  const auto it = std::find_if(p_.sinks().begin(), p_.sinks().end(),
                               [&](const SinkInfo& s) { return s.config.name == e.sink; });
  if (it == p_.sinks().end()) return ok();
  const auto& topic = e.live_path;
  const auto& tc = p_.config().topics.at(topic);
  const std::string source = fmt::format("sink.{}", e.sink);
  // What each owned partition holds of this epoch already: its batches carry their line
  // position in the epoch's staging file, like a file source's. Later epochs cannot be
  // there: an epoch publishes only after it commits.
  std::vector<uint64_t> holds(static_cast<size_t>(tc.partitions), 0);
  bool any = false;
  for (int32_t part = 0; part < tc.partitions; ++part) {
    auto* log = partition(topic, part);
    if (log == nullptr) continue;
    any = true;
    FRESHET_ASSIGN_OR_RETURN(auto last, sources::last_source_position(*log, source));
    if (!last) continue;
    auto pos = sources::FilePosition::decode(*last);
    if (pos && pos->path == e.staging_path) holds[static_cast<size_t>(part)] = pos->line;
  }
  if (!any) return ok();
  FRESHET_ASSIGN_OR_RETURN(auto fd, p_.fs().open(e.staging_path, O_RDONLY));
  Status failed = ok();
  sources::LineBatcher batcher(it->config.key_field.empty() ? tc.key_field : it->config.key_field,
                               tc.partitions, [&](int32_t part, std::string&& batch, uint32_t) {
                                 auto* log = partition(topic, part);
                                 if (log == nullptr || !failed) return;
                                 if (auto r = log->append(batch); !r)
                                   failed = tl::unexpected(r.error());
                               });
  batcher.track_positions(source, e.staging_path, 0);
  batcher.begin_file(e.staging_path, 0);
  batcher.resume_at(0, std::move(holds));
  const TimestampMs now = wall_clock_ms();
  // In pieces of a log batch's size: an epoch's rows can be far more than is worth holding
  // in memory at once, on every shard that owns a partition of the topic.
  std::string piece(std::min<uint64_t>(e.staging_length, kPublishPieceBytes), '\0');
  for (uint64_t at = 0; at < e.staging_length && failed;) {
    const size_t want = std::min<uint64_t>(piece.size(), e.staging_length - at);
    FRESHET_ASSIGN_OR_RETURN(size_t got, p_.fs().pread(fd.get(), piece.data(), want, at));
    if (got == 0)
      return make_error(ErrorCode::kCorruption, "{}: {} bytes staged, {} found", e.staging_path,
                        e.staging_length, at);
    batcher.feed(std::string_view(piece.data(), got), now);
    at += got;
  }
  batcher.end_of_file(now);
  batcher.flush();
  return failed;
}

}  // namespace freshet::server
