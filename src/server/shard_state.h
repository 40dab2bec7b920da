#pragma once
// Everything one shard runs: the logs of the partitions it owns, its slice of every source,
// its part of every query (the local aggregation of its partitions, and the merge of the
// group keys it owns), and the sinks it owns. Owned by that shard; only its thread touches it.

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alignment.h"
#include "barrier_aligner.h"
#include "freshet/base/bytes.h"
#include "freshet/io/ring.h"
#include "freshet/log/flusher.h"
#include "freshet/query/stateless.h"
#include "freshet/sources/file_source.h"
#include "freshet/sources/line_batcher.h"
#include "journal.h"
#include "pipeline.h"

namespace freshet::server {

// Combines the watermarks of several inputs (semantics §3.2): the minimum over the active
// ones; an idle input is left out, and when every input is idle the highest watermark any of
// them reached goes through. Watermarks never go back.
struct Valve {
  std::vector<TimestampMs> wm;
  std::vector<bool> idle;
  void reset(size_t inputs) {
    wm.assign(inputs, kMinTimestamp);
    idle.assign(inputs, false);
  }
  TimestampMs update(size_t input, TimestampMs w, bool is_idle) {
    wm[input] = std::max(wm[input], w);
    idle[input] = is_idle;
    return combined();
  }
  TimestampMs combined() const {
    TimestampMs low = kMaxTimestamp, high = kMinTimestamp;
    bool any_active = false;
    for (size_t i = 0; i < wm.size(); ++i) {
      high = std::max(high, wm[i]);
      if (idle[i]) continue;
      any_active = true;
      low = std::min(low, wm[i]);
    }
    return any_active ? low : high;
  }
};

// The watermark of one partition: bounded out-of-orderness, maxTs - delay - 1 (semantics
// §3.1), without overflowing for the "no data yet" sentinel.
inline TimestampMs partition_watermark(TimestampMs max_ts, DurationMs delay) {
  if (max_ts == kMinTimestamp) return kMinTimestamp;
  return max_ts - delay - 1;
}

// One query's work on one shard.
struct QueryShard {
  struct Input {
    log::PartitionLog* log = nullptr;
    int32_t log_partition = 0;
    std::optional<log::PartitionLog::Reader> reader;
    TimestampMs max_ts = kMinTimestamp;
    bool ended = false;  // the partition's bounded input is fully read
    bool idle = false;   // caught up and quiet for idle_timeout: out of the watermark min
  };
  std::vector<Input> inputs;                      // the owned partitions of the query's topic
  std::unique_ptr<query::LocalAggregator> local;  // windowed queries
  std::unique_ptr<query::WindowMerger> merger;
  std::unique_ptr<query::StatelessOperator> stateless;  // filter/project queries: no exchange
  TimestampMs sent_wm = kMinTimestamp;                  // last watermark shipped to the owners
  bool sent_idle = false;                               // every input of this shard idle
  Valve upstream;                                       // per upstream shard (owner side)
  TimestampMs merged_wm = kMinTimestamp;
  // The merger's rows are complete through this watermark; below merged_wm while a fire goes
  // on in slices (ShardState::fire_slice), one posted task at a time.
  TimestampMs fired_through = kMinTimestamp;
  bool slice_posted = false;
  bool firing() const { return merger && fired_through < merged_wm; }
  std::vector<std::string_view> values;           // reused batch of record values
  std::vector<query::PartialBatch> partials;      // reused drain output
  query::FiredRows fired;                         // fire output, sent as one batch
  std::vector<std::string> late_rows, dead_rows;  // rejected records of the current poll
  BarrierAligner align;                           // owner side: one channel per reading shard
  uint32_t early_ticks = 0;  // owner side, emit: early: ticks heard since the last early fire
  // The journal (semantics §3.8, journal.h) of a windowed query whose topic has an
  // idle_timeout: a live run writes each idleness decision and wall-clock step to `journal`;
  // --replay-journal applies `replay`'s records instead of reading the clock, in order.
  std::optional<JournalWriter> journal;
  std::deque<JournalRecord> replay;
  bool journaled = false;  // idleness comes from the journal (replaying) or goes to it (live)
  // idle_progress: wallclock. `stepping`: every input is idle and the shard holds the owners'
  // min at `clock_wm`, its last wall-clock step.
  TimestampMs clock_wm = kMinTimestamp;
  bool stepping = false;
  // Per shard, whether every input it reads is idle (or it reads none), as it last said.
  std::vector<bool> peer_quiet;
  WatermarkAlignment drift;                          // alignment.h
  std::vector<PartitionMark> marks;                  // reused
  std::optional<std::pair<TimestampMs, bool>> told;  // (low mark, quiet) the others last heard
  uint64_t records = 0, filtered = 0, malformed = 0, late = 0, future_clamped = 0;
  uint64_t late_after_idle_resume = 0;  // of `late`: from partitions back from idleness
  bool held = false;  // a sink holds this query's reads back (Pipeline::sink_holds)
};

// One output file on the shard that owns it, written through the ring one write at a time so
// a reader never sees a hole.
struct FileWriter final : io::Completion {
  std::unique_ptr<sinks::FileSink> file;
  bool in_flight = false;
  ShardState* owner = nullptr;
  size_t sink = SIZE_MAX;  // the sink whose main file this is (backpressure); else SIZE_MAX
  void complete(int32_t res, uint32_t flags) override;
};

// One sink on the shard that owns it: merges the rows of its inputs in a deterministic order
// (a valve over the owner shards of each input) and writes them, plus its inputs' late and
// dead-letter records to `<stem>.late.jsonl` and `<stem>.dead.jsonl` (opened on first use).
struct SinkShard {
  FileWriter main;
  std::unique_ptr<FileWriter> late, dead;
  struct Input {
    Valve owners;  // per owner shard (per reading shard for stateless queries)
    TimestampMs wm = kMinTimestamp;
    bool done = false;
  };
  std::vector<Input> inputs;
  bool all_inputs_done() const {
    return std::all_of(inputs.begin(), inputs.end(), [](const Input& in) { return in.done; });
  }
  // Rows received and not released yet: each batch as an owner sent it, sorted by
  // query::row_before, released from `next` on.
  struct Run {
    query::FiredRows rows;
    size_t input = 0;
    size_t next = 0;
  };
  std::vector<Run> runs;
  TimestampMs released_wm = kMinTimestamp;
  // Backpressure (Pipeline::sink_full): how often the writes fell behind, and by how much at
  // most, for the run summary.
  uint64_t times_full = 0;
  size_t most_queued = 0;
  // Exactly-once: rows go to the checkpoint worker's staging files of `epoch`, never straight
  // to the live file; `staged` holds what was not handed over yet, by SinkFileKind.
  bool exactly_once = false;
  // type: topic. At least once, rows go straight into the topic through this batcher.
  bool topic = false;
  bool topic_ended = false;  // every input done: the topic's readers were (or will be) told
  std::unique_ptr<sources::LineBatcher> batcher;
  std::string topic_lines;  // released rows for the batcher, one feed per release
  uint64_t epoch = 1;
  std::string staged[3];
  // Channels per shard (see sink_channel()): its reading side (stateless rows, late and
  // dead records) and its owner side of each input query (fired rows), each closed by its
  // own barrier.
  BarrierAligner align;
};

// The three files of a sink; exactly-once staging keeps them apart.
enum SinkFileKind : int { kMainFile = 0, kLateFile = 1, kDeadFile = 2 };

// A sink's channel from one shard: what the shard's readers send (stateless rows, late and
// dead records; side 0) and what its merger of the sink's input k fires (side 1 + k) travel
// behind different barriers, each sent when that part of the shard has its snapshot.
inline size_t sink_channel(ShardId from, size_t side, size_t inputs) {
  return from.value() * (1 + inputs) + side;
}

// What a shard has done towards checkpoint epoch `epoch` (semantics §3.7 steps 1-3).
struct EpochWork {
  uint64_t epoch = 0;     // 0: none yet
  bool injected = false;  // the coordinator's start reached this shard
  bool finished = false;  // handed to the worker
  size_t mergers_pending = 0;
  size_t sinks_pending = 0;
  std::vector<std::string> readers;  // per query: reader positions and watermarks
  std::vector<std::string> mergers;  // per query: the WindowMerger image (windowed)
  std::vector<std::string> sinks;    // per sink index (owned ones)
  std::vector<std::vector<std::pair<int32_t, Offset>>> offsets;  // per query, for the manifest
  std::vector<std::string> ended_topics;  // topic sinks whose last rows this epoch publishes
};

class ShardState {
 public:
  ShardState(Pipeline& pipeline, shard::Shard& shard);
  ShardState(const ShardState&) = delete;
  ShardState& operator=(const ShardState&) = delete;
  Status open();

  // Messages from other shards (they arrive as tasks on this shard).
  void on_partials(size_t query, ShardId from, query::PartialBatch batch);
  void on_upstream_watermark(size_t query, ShardId from, TimestampMs wm, bool idle);
  // Fires the query's merger up to merged_wm, at most about `max_rows` rows now and the rest
  // in later turns: a watermark that closes many windows at once (a bounded input's end, a
  // caught-up backlog) then reuses one slice's memory instead of holding every row at once.
  void fire_slice(size_t query, size_t max_rows);
  void next_fire_slice(size_t query);
  // Completes a fire going on in slices; before anything that must see it done.
  void finish_fire(size_t query);
  // Another shard's readers of `query`: their low mark for alignment (alignment.h) and whether
  // every input they read is idle (shard_alignment.cc).
  void on_reader_status(size_t query, ShardId from, TimestampMs low, bool quiet);
  // `side` is 0 for rows of a stateless query, 1 + input for rows a merger fired.
  void on_rows(size_t sink, size_t input, ShardId from, size_t side, bool idle,
               query::FiredRows rows, TimestampMs wm);

  // Checkpoints (shard_checkpoint.cc). The coordinator starts epoch n on every shard; the
  // barriers then travel in-band behind the data they close.
  void inject_barrier(uint64_t epoch);
  void on_query_barrier(size_t query, ShardId from, uint64_t epoch);
  // emit: early. The reading side ships its partials and ticks every owner; an owner that
  // heard every shard's tick fires the changed open windows as early rows.
  void early_tick(size_t query);
  void on_early_tick(size_t query, ShardId from);
  void on_sink_barrier(size_t sink, ShardId from, size_t side, uint64_t epoch);
  // Applies this shard's part of the checkpoint being restored (Pipeline::restore_image).
  Status restore(std::string_view image);
  // The lowest offset per owned partition that a retained checkpoint may seek back to.
  // Appends an exactly-once topic sink's committed rows (checkpoint entry `e`) to the
  // partitions this shard owns that do not hold them yet: after the commit, and again at
  // start-up for the restored epoch (a crash may have cut the publish short).
  Status publish_topic_rows(const checkpoint::SinkFileEntry& e);
  // Every shard: the topic gets no more records (its readers end once caught up).
  void end_topic(const std::string& topic);
  void set_checkpoint_floor(std::map<std::pair<std::string, int32_t>, Offset> floor) {
    checkpoint_floor_ = std::move(floor);
  }

  void quiesced_from_one();
  // --replay-journal's end, in two rounds of in-band markers: every shard has read its log
  // and applied its steps (so every owner has the final watermarks), then every owner has
  // fired and sent its rows (so every sink has them). Only then may the run stop.
  void replay_read_on_one();
  void send_replay_fired();
  void replay_fired_on_one();
  // Late and malformed records of a query, for the sink's late and dead-letter files.
  void on_rejects(size_t sink, ShardId from, std::vector<std::string> late,
                  std::vector<std::string> dead);
  // A batch a source read on another shard, for a partition this shard owns.
  void append_from_source(const std::string& topic, int32_t partition, std::string batch);
  void source_ended(const std::string& topic);
  // A file source writing into `topic` started or stopped having unread input (on every shard).
  void source_backlog(const std::string& topic, bool backlog);

  ShardId id() const { return shard_.id(); }
  const std::vector<QueryShard>& queries() const { return queries_; }
  const std::vector<std::unique_ptr<SinkShard>>& sinks() const { return sinks_; }
  void pump(FileWriter& w);
  // Marks sink `si` full or not by its queued bytes (Pipeline::sink_full), on its owner.
  void check_sink_full(size_t si);
  void fail(std::string message) { p_.fail(std::move(message)); }

 private:
  bool poll();
  bool poll_sources();
  void apply_retention();
  Status open_file_source(const std::string& name, const config::SourceConfig& sc,
                          const config::TopicConfig& topic);
  bool poll_query(size_t qi);
  void ship(size_t qi, TimestampMs wm, bool idle);
  // Sends the query's drained partials (q.partials) to their owners, each followed on the same
  // FIFO channel by `marker(owner)`: the owner that runs the marker has every partial before it.
  void send_partials_then(size_t qi, const std::function<shard::Task(ShardId owner)>& marker);
  // idle_progress: wallclock(D) (semantics §3.3): while every partition of the query, on
  // every shard, is idle (`idle` in), the watermark `wm` becomes max(wm, now - D), journaled
  // before it is used. Replaying, the next journaled step instead, once the readers stand
  // where it was taken. A shard that stepped clears `idle`: it holds the owners' min at its
  // clock watermark rather than leaving it, until another shard reads again and it releases
  // it, journaled (shard_journal.cc).
  TimestampMs clock_progress(size_t qi, TimestampMs wm, TimestampMs now, bool& idle);
  // --replay-journal: whether every query has applied every record and read its log to the end.
  bool replayed() const;
  Status open_journals();
  // Appends a decision to the query's journal, with every reader's position (`before` for
  // `at`, whose batch was read already); false after failing the pipeline.
  bool journal(size_t qi, JournalRecord r, const QueryShard::Input* at = nullptr,
               Offset before = Offset(0));
  bool sync_journal(size_t qi);
  // Replaying: whether the readers stand exactly where `r` was taken (past it fails the run).
  bool journal_due(size_t qi, const JournalRecord& r);
  // Replaying: whether `in` may read its next batch before the next journaled decision,
  // applying the owners' watermark of a journaled resume that is due.
  bool replay_allows_read(size_t qi, QueryShard::Input& in);
  // Replaying: applies the journaled idleness transitions that are due.
  void apply_journaled_idleness(size_t qi);
  // This shard's watermark for a query: the valve over the partitions it reads (semantics
  // §3.2-3.3), with idleness judged from the log's own end and last append time (or, for a
  // journaled query being replayed, taken from the journal). Sets `idle` when every partition
  // is idle (the state to tell downstream).
  TimestampMs shard_watermark(size_t qi, TimestampMs now, bool& idle);
  // Watermark alignment (shard_alignment.cc): whether `in` may read its next batch.
  bool aligned(size_t qi, const QueryShard::Input& in);
  // Measures the spread and tells the other shards this shard's low mark and quiet state
  // when either changed.
  void report_status(size_t qi, bool quiet);
  Marks local_marks(size_t qi);
  // Sends rows fired (or projected) on this shard, and this shard's watermark for them, to
  // every sink the query feeds.
  void send_rows(size_t qi, query::FiredRows& rows, TimestampMs wm, bool idle, bool from_owner);
  void on_reject(size_t qi, const query::RejectedRecord& r);
  void send_rejects(size_t qi);
  void release(size_t si);
  void begin_shutdown();
  void finish_shutdown();
  void report_counters();
  log::PartitionLog* partition(const std::string& topic, int32_t p);
  // Exactly-once sinks: rows of the current epoch towards the checkpoint worker.
  void stage(size_t si, SinkFileKind kind, std::string_view line);
  // One released row, by the sink's delivery (staged, into the topic, or to the live file);
  // flush_rows() hands on what a release wrote.
  void write_row(size_t si, std::string_view line);
  void flush_rows(size_t si);
  void end_topic_everywhere(const std::string& topic);
  void hand_over_staged(size_t si);
  EpochWork& work(uint64_t epoch);
  void maybe_finish_epoch();
  void snapshot_sink(size_t si);
  Status restore_sink(size_t si, ByteReader& r);

  Pipeline& p_;
  shard::Shard& shard_;
  std::map<std::string, std::vector<std::unique_ptr<log::PartitionLog>>> logs_;
  struct SourceSlice {
    std::unique_ptr<sources::GeneratorSource> gen;
    std::string topic;
    bool ready = false;  // resumed from the positions in the log
    bool done_marked = false;
  };
  using Positions = std::vector<std::optional<std::string>>;
  // Gathers last_source_position(p, source) for every partition p of `topic` from the
  // partitions' owners, then calls `done` on this shard.
  void gather_positions(const std::string& source, const std::string& topic,
                        shard::UniqueFunction<void(Positions)> done);
  std::vector<SourceSlice> sources_;
  // File sources this shard reads (each is read by one shard, which routes batches to the
  // partitions' owners).
  std::vector<std::unique_ptr<sources::FileSource>> file_sources_;
  std::vector<std::string> file_source_topics_;  // parallel to file_sources_
  std::vector<bool> file_source_caught_up_;      // as last told to every shard
  // Per topic, how many file sources still have unread input: its partitions are lagging
  // behind their input, not idle, whatever their log says (semantics §3.3, conformance 11).
  std::map<std::string, int> topic_backlog_;
  // Per topic, how many of its sources have ended as seen from this shard; at the total its
  // partitions are finished.
  std::map<std::string, int> ended_sources_;
  std::vector<QueryShard> queries_;
  std::vector<std::unique_ptr<SinkShard>> sinks_;  // by sink index; null if not owned
  // release(): the runs with rows ready to write: index in SinkShard::runs, and the end of
  // the ready prefix (it starts at the run's `next`).
  struct RunEnd {
    uint32_t run;
    uint32_t end;
  };
  std::vector<RunEnd> release_scratch_;
  // Drives every owned partition's fsync policy; a failed fsync fails the pipeline.
  std::unique_ptr<log::Flusher> flusher_;
  EpochWork epoch_;
  std::map<std::pair<std::string, int32_t>, Offset> checkpoint_floor_;
  uint32_t quiesce_markers_ = 0;
  bool shutting_down_ = false;
  bool stopped_ = false;
  bool hold_wake_pending_ = false;  // a timer to look at held queries again is set
  bool replay_reported_ = false;
  uint32_t replay_read_markers_ = 0, replay_fired_markers_ = 0;
};

}  // namespace freshet::server
