// The journal side of a shard's queries (semantics §3.8, journal.h): a live run writes each
// decision its readers took from the wall clock or from other shards' timing; a replay
// (--replay-journal) reads the same log and applies those decisions where they were taken.

#include <algorithm>

#include "freshet/base/log.h"
#include "shard_state.h"

namespace freshet::server {

Status ShardState::open_journals() {
  for (size_t qi = 0; qi < queries_.size(); ++qi) {
    auto& q = queries_[qi];
    const auto& info = p_.queries()[qi];
    // Only idleness and the clock need a journal, and only windowed queries keep state that
    // they change.
    if (!q.local || q.inputs.empty() || !info.idle_timeout) continue;
    q.journaled = true;
    const std::string path = journal_path(p_.config().data_dir, info.name, id());
    if (!p_.options().replay_journal) {
      FRESHET_ASSIGN_OR_RETURN(auto w, JournalWriter::open(p_.fs(), path, p_.options().reset));
      q.journal.emplace(std::move(w));
      continue;
    }
    FRESHET_ASSIGN_OR_RETURN(auto records, read_journal(p_.fs(), path));
    // Each record names exactly the partitions this shard reads; other names mean the
    // journal was written with another shard count, and its positions mean nothing here.
    for (const auto& r : records) {
      bool same = r.at_offsets.size() == q.inputs.size();
      for (const auto& in : q.inputs)
        same = same && std::any_of(r.at_offsets.begin(), r.at_offsets.end(),
                                   [&](const auto& a) { return a.first == in.log_partition; });
      if (!same)
        return make_error(ErrorCode::kConfig,
                          "{}: the journal was written for other partitions on shard {}; "
                          "replay with the shard count of the journaled run",
                          path, id().value());
    }
    q.replay.assign(records.begin(), records.end());
  }
  return ok();
}

bool ShardState::journal(size_t qi, JournalRecord r, const QueryShard::Input* at, Offset before) {
  auto& q = queries_[qi];
  if (!q.journal) return true;
  for (const auto& in : q.inputs)
    r.at_offsets.emplace_back(in.log_partition, &in == at ? before : in.reader->position());
  std::sort(r.at_offsets.begin(), r.at_offsets.end());
  if (auto st = q.journal->append(id(), r); !st) {
    p_.fail(fmt::format("query `{}`: journaling a decision: {}", p_.queries()[qi].name,
                        st.error().message));
    return false;
  }
  return true;
}

bool ShardState::sync_journal(size_t qi) {
  auto& q = queries_[qi];
  if (!q.journal) return true;
  if (auto st = q.journal->sync(); !st) {
    p_.fail(fmt::format("query `{}`: syncing the journal: {}", p_.queries()[qi].name,
                        st.error().message));
    return false;
  }
  return true;
}

bool ShardState::journal_due(size_t qi, const JournalRecord& r) {
  const auto& q = queries_[qi];
  for (const auto& [part, off] : r.at_offsets)
    for (const auto& in : q.inputs) {
      if (in.log_partition != part || in.reader->position() == off) continue;
      // Short of it: it waits. Past it: the log is not the journaled one.
      if (in.reader->position() > off || in.ended)
        p_.fail(
            fmt::format("query `{}`: partition {} was read past offset {}, where the "
                        "journal recorded a decision: the log differs from the journaled "
                        "run's",
                        p_.queries()[qi].name, part, off.value()));
      return false;
    }
  return true;
}

bool ShardState::replay_allows_read(size_t qi, QueryShard::Input& in) {
  auto& q = queries_[qi];
  while (!q.replay.empty()) {
    const JournalRecord& r = q.replay.front();
    if (r.kind == JournalRecord::Kind::kResume && r.partition == in.log_partition &&
        journal_due(qi, r)) {
      q.local->restore_watermark(r.wm);
      q.replay.pop_front();
      continue;
    }
    for (const auto& [part, off] : r.at_offsets)
      if (part == in.log_partition) return in.reader->position() < off;
    return true;
  }
  return true;
}

void ShardState::apply_journaled_idleness(size_t qi) {
  auto& q = queries_[qi];
  while (!q.replay.empty()) {
    const JournalRecord& r = q.replay.front();
    const bool idle = r.kind == JournalRecord::Kind::kIdle;
    if ((!idle && r.kind != JournalRecord::Kind::kActive) || !journal_due(qi, r)) return;
    for (auto& in : q.inputs)
      if (in.log_partition == r.partition) in.idle = idle;
    q.replay.pop_front();
  }
}

TimestampMs ShardState::clock_progress(size_t qi, TimestampMs wm, TimestampMs now, bool& idle) {
  // The clock moves in whole steps of this many ms, so a quiet query journals ten steps a
  // second at most; the watermark then trails the clock by max_delay plus up to one step.
  constexpr TimestampMs kClockStep = 100;
  auto& q = queries_[qi];
  const auto& info = p_.queries()[qi];
  if (!idle) q.stepping = false;
  if (p_.options().replay_journal) {
    const JournalRecord* r = q.replay.empty() ? nullptr : &q.replay.front();
    if (r != nullptr && r->kind == JournalRecord::Kind::kStep && journal_due(qi, *r)) {
      q.clock_wm = std::max(q.clock_wm, r->wm);
      q.stepping = idle;  // the journaled run stepped while quiet: so is this one
      q.replay.pop_front();
    } else if (r != nullptr && r->kind == JournalRecord::Kind::kRelease && journal_due(qi, *r)) {
      q.stepping = false;
      q.replay.pop_front();
    }
  } else if (idle && q.journal &&
             info.idle_progress.mode == config::IdleProgress::Mode::kWallclock) {
    // Every shard reading the query must be quiet too, as it last said: stepping while
    // another shard still reads would make that shard's records late (§3.3 "all inputs").
    bool all_quiet = true;
    for (size_t s = 0; s < q.peer_quiet.size(); ++s)
      all_quiet = all_quiet && (s == id().value() || q.peer_quiet[s]);
    TimestampMs target = now - info.idle_progress.max_delay;
    target -= target % kClockStep;
    // The owners' valve would release the highest watermark of the idle shards (§3.2 rule
    // 3); a step takes it too, so holding the min below does not delay what that releases.
    for (size_t s = 0; s < q.peer_quiet.size(); ++s)
      if (s != id().value() && q.peer_quiet[s] && q.upstream.wm[s] != kMaxTimestamp)
        target = std::max(target, q.upstream.wm[s]);
    if (!all_quiet && q.stepping) {
      // Another shard reads again: holding the min at the last step would stop the
      // watermark there while that shard moves on; leave the min as an idle shard does.
      JournalRecord r{JournalRecord::Kind::kRelease, -1, q.clock_wm, {}};
      if (!journal(qi, std::move(r))) return wm;
      q.stepping = false;
    } else if (all_quiet && target > std::max(wm, q.sent_wm)) {
      JournalRecord r{JournalRecord::Kind::kStep, -1, target, {}};
      if (!journal(qi, std::move(r))) return wm;
      q.clock_wm = target;
      q.stepping = true;
    }
  }
  if (!q.stepping) return wm;
  // A shard that stepped stays in the owners' min at its clock watermark instead of leaving
  // it as an idle shard does: an owner then passes a window only once every reading shard
  // has, each after the partials it read before its step, so the rows do not depend on
  // which shard's step arrives first, and a replay fires the same windows with the same rows.
  idle = false;
  return std::max(wm, q.clock_wm);
}

bool ShardState::replayed() const {
  for (const auto& q : queries_) {
    if (!q.replay.empty()) return false;
    for (const auto& in : q.inputs)
      if (!in.ended && in.reader->position() < in.log->end_offset()) return false;
  }
  return true;
}

}  // namespace freshet::server
