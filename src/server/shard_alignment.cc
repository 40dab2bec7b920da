// Watermark alignment on a shard (alignment.h): which partitions a query's readers may read
// next, and the in-band status each shard tells the others about its readers.

#include "shard_state.h"

namespace freshet::server {

Marks ShardState::local_marks(size_t qi) {
  auto& q = queries_[qi];
  const DurationMs delay = p_.queries()[qi].watermark_delay;
  q.marks.clear();
  for (const auto& in : q.inputs) {
    // A partition back from idleness but behind the watermark stays out of the group (as it
    // stays out of the min): it is behind, so it is never paused, and it holds nobody back.
    q.marks.push_back({partition_watermark(in.max_ts, delay), !in.ended && !in.idle});
  }
  return marks_of(q.marks);
}

bool ShardState::aligned(size_t qi, const QueryShard::Input& in) {
  auto& q = queries_[qi];
  if (!q.drift.pausing()) return true;
  const TimestampMs wm = partition_watermark(in.max_ts, p_.queries()[qi].watermark_delay);
  return q.drift.may_read(wm, local_marks(qi).low);
}

void ShardState::report_status(size_t qi, bool quiet) {
  auto& q = queries_[qi];
  const Marks local = local_marks(qi);
  const DurationMs before = q.drift.max_spread();
  q.drift.observe(local);
  if (q.drift.max_spread() > before) p_.note_spread(qi, q.drift.max_spread());
  const auto status = std::make_pair(local.low, quiet);
  if (p_.shard_count() == 1 || q.told == status) return;
  q.told = status;
  // On the same FIFO channels as this shard's partials and watermarks, in order with them.
  Pipeline* p = &p_;
  const ShardId me = id();
  for (uint32_t s = 0; s < p_.shard_count(); ++s)
    if (ShardId(s) != me)
      shard_.submit_to(ShardId(s), [p, qi, me, low = local.low, quiet] {
        p->local().on_reader_status(qi, me, low, quiet);
      });
}

void ShardState::on_reader_status(size_t qi, ShardId from, TimestampMs low, bool quiet) {
  auto& q = queries_[qi];
  q.drift.on_report(from, low);
  q.peer_quiet[from.value()] = quiet;
}

}  // namespace freshet::server
