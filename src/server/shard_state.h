#pragma once
// Everything one shard runs: the logs of the partitions it owns, its slice of every source,
// its part of every query (the local aggregation of its partitions, and the merge of the
// group keys it owns), and the sinks it owns. Owned by that shard; only its thread touches it.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "freshet/io/ring.h"
#include "freshet/log/flusher.h"
#include "freshet/query/stateless.h"
#include "freshet/sources/file_source.h"
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

// One query's work on one shard.
struct QueryShard {
  struct Input {
    log::PartitionLog* log = nullptr;
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
  std::vector<std::string_view> values;           // reused batch of record values
  std::vector<query::PartialBatch> partials;      // reused drain output
  std::vector<query::FiredRow> fired;             // reused fire output
  std::vector<std::string> late_rows, dead_rows;  // rejected records of the current poll
  uint64_t records = 0, filtered = 0, malformed = 0, late = 0, future_clamped = 0;
};

// One output file on the shard that owns it, written through the ring one write at a time so
// a reader never sees a hole.
struct FileWriter final : io::Completion {
  std::unique_ptr<sinks::FileSink> file;
  bool in_flight = false;
  ShardState* owner = nullptr;
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
  struct Pending {
    query::FiredRow row;
    size_t input;
  };
  std::vector<Pending> buffered;
  TimestampMs released_wm = kMinTimestamp;
};

class ShardState {
 public:
  ShardState(Pipeline& pipeline, shard::Shard& shard);
  ShardState(const ShardState&) = delete;
  ShardState& operator=(const ShardState&) = delete;
  Status open();

  // Messages from other shards (they arrive as tasks on this shard).
  void on_partials(size_t query, query::PartialBatch batch);
  void on_upstream_watermark(size_t query, ShardId from, TimestampMs wm, bool idle);
  void on_rows(size_t sink, size_t input, ShardId from, bool idle,
               std::vector<query::FiredRow> rows, TimestampMs wm);

  void quiesced_from_one();
  // Late and malformed records of a query, for the sink's late and dead-letter files.
  void on_rejects(size_t sink, std::vector<std::string> late, std::vector<std::string> dead);
  // A batch a source read on another shard, for a partition this shard owns.
  void append_from_source(const std::string& topic, int32_t partition, std::string batch);
  void source_ended(const std::string& topic);

  ShardId id() const { return shard_.id(); }
  const std::vector<QueryShard>& queries() const { return queries_; }
  const std::vector<std::unique_ptr<SinkShard>>& sinks() const { return sinks_; }
  void pump(FileWriter& w);
  void fail(std::string message) { p_.fail(std::move(message)); }

 private:
  bool poll();
  bool poll_sources();
  void apply_retention();
  Status open_file_source(const std::string& name, const config::SourceConfig& sc,
                          const config::TopicConfig& topic);
  bool poll_query(size_t qi);
  void ship(size_t qi, TimestampMs wm, bool idle);
  // This shard's watermark for a query: the valve over the partitions it reads (semantics
  // §3.2-3.3), with idleness judged from the log's own end and last append time.
  // Sets `idle` when every partition is idle (the state to tell downstream).
  TimestampMs shard_watermark(QueryShard& q, const QueryInfo& info, TimestampMs now, bool& idle);
  // Sends rows fired (or projected) on this shard, and this shard's watermark for them, to
  // every sink the query feeds.
  void send_rows(size_t qi, std::vector<query::FiredRow>& rows, TimestampMs wm, bool idle);
  void on_reject(size_t qi, const query::RejectedRecord& r);
  void send_rejects(size_t qi);
  void release(size_t si);
  void begin_shutdown();
  void finish_shutdown();
  void report_counters();
  log::PartitionLog* partition(const std::string& topic, int32_t p);

  Pipeline& p_;
  shard::Shard& shard_;
  std::map<std::string, std::vector<std::unique_ptr<log::PartitionLog>>> logs_;
  struct SourceSlice {
    std::unique_ptr<sources::GeneratorSource> gen;
    std::string topic;
    bool done_marked = false;
  };
  std::vector<SourceSlice> sources_;
  // File sources this shard reads (each is read by one shard, which routes batches to the
  // partitions' owners).
  std::vector<std::unique_ptr<sources::FileSource>> file_sources_;
  // Per topic, how many of its sources have ended as seen from this shard; at the total its
  // partitions are finished.
  std::map<std::string, int> ended_sources_;
  std::vector<QueryShard> queries_;
  std::vector<std::unique_ptr<SinkShard>> sinks_;  // by sink index; null if not owned
  // Drives every owned partition's fsync policy; a failed fsync fails the pipeline.
  std::unique_ptr<log::Flusher> flusher_;
  uint32_t quiesce_markers_ = 0;
  bool shutting_down_ = false;
  bool stopped_ = false;
};

}  // namespace freshet::server
