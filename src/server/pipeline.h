#pragma once
// The running pipeline: what every shard needs to know (immutable after start-up) and the
// per-shard state, which only its own shard touches. Cross-shard work travels as tasks on
// the shard mesh; tasks find their shard's state through Pipeline::local().

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "checkpointing.h"
#include "freshet/checkpoint/io_worker.h"
#include "freshet/checkpoint/store.h"
#include "freshet/config/config.h"
#include "freshet/io/file_system.h"
#include "freshet/log/partition_log.h"
#include "freshet/query/aggregator.h"
#include "freshet/query/merger.h"
#include "freshet/query/plan.h"
#include "freshet/server/server.h"
#include "freshet/server/topic_catalog.h"
#include "freshet/shard/runtime.h"
#include "freshet/shard/shard.h"
#include "freshet/sinks/file_sink.h"
#include "freshet/sources/generator_source.h"

namespace freshet::server {

struct QueryInfo {
  std::string name;
  std::shared_ptr<const query::Plan> plan;
  std::string topic;
  int32_t partitions;
  DurationMs watermark_delay;
  std::optional<DurationMs> idle_timeout;     // the topic's event_time.idle_timeout
  std::optional<DurationMs> max_future_skew;  // the topic's event_time.max_future_skew
  config::IdleProgress idle_progress;         // the topic's event_time.idle_progress
  std::optional<DurationMs> max_drift;        // the topic's event_time.max_drift (alignment)
  // emit: early on a windowed query: how often open windows report their current values.
  std::optional<DurationMs> early_every;
  // Sinks fed by this query: (sink index, the query's position among that sink's inputs).
  std::vector<std::pair<size_t, size_t>> outputs;
};

struct SinkInfo {
  config::SinkConfig config;
  ShardId owner;
  std::vector<size_t> inputs;  // query indices
  std::vector<std::string> columns;
};

class ShardState;

// Where each source reads and each sink merges and writes, by its number among the config's
// sources or sinks. Sources go from the first shard up, sinks from the last one down: a
// pipeline of one file source and one sink would otherwise read, batch, merge and write
// everything on shard 0 (Nexmark q0 on 2 shards: 0.87x wall with the sink on shard 1).
inline ShardId source_shard(size_t source_number, uint32_t shards) {
  return ShardId(static_cast<uint32_t>(source_number % shards));
}
inline ShardId sink_shard(size_t sink_number, uint32_t shards) {
  return ShardId(static_cast<uint32_t>(shards - 1 - sink_number % shards));
}

// The file of a sink for SinkFileKind `kind`: its path, or `<stem>.late.jsonl` /
// `<stem>.dead.jsonl` beside it (DESIGN §7 names the late file so).
std::string sink_file_path(const std::string& path, int kind);

// Shared by all shards; everything here is read-only once shards start, except the atomics.
class Pipeline {
 public:
  Pipeline(config::Config config, Plans plans, RunOptions options, uint32_t shards);
  ~Pipeline();

  const config::Config& config() const { return config_; }
  const RunOptions& options() const { return options_; }
  uint32_t shard_count() const { return shards_; }
  ShardId partition_owner(int32_t partition) const {
    return ShardId(static_cast<uint32_t>(partition) % shards_);
  }
  const std::vector<QueryInfo>& queries() const { return queries_; }
  const std::vector<SinkInfo>& sinks() const { return sinks_; }
  io::FileSystem& fs() const { return io::posix_file_system(); }
  // The instant sources pace themselves from, the same on every shard.
  int64_t start_ns() const { return start_ns_; }
  TimestampMs start_wall_ms() const { return start_wall_ms_; }
  std::string partition_dir(const std::string& topic, int32_t p) const {
    return TopicCatalog(fs(), config_.data_dir).partition_dir(topic, p);
  }

  // Checkpoints (empty/absent without a `checkpoint:` section).
  bool checkpointing() const { return config_.checkpoint.has_value(); }
  // Recovers from the latest checkpoint: sink files, state images, the epoch to go on from.
  // Main thread, before the shards start. Errors say how to proceed.
  Status prepare_checkpoints(shard::Runtime& runtime);
  uint64_t restored_epoch() const { return restored_epoch_; }
  // This shard's part of the restored checkpoint ("" when starting fresh).
  const std::string& restore_image(ShardId s) const { return images_[s.value()]; }
  // Whether a query's saved state is restored (false: new, changed with --reset-state).
  bool restores(const std::string& query) const { return restored_queries_.count(query) > 0; }
  // The restored epoch's topic-sink publishes, redone by each shard for its partitions.
  const std::vector<checkpoint::SinkFileEntry>& restored_topic_publishes() const {
    return restored_topic_publishes_;
  }
  checkpoint::IoWorker& worker() { return *worker_; }
  checkpoint::CheckpointStore& store() { return *store_; }
  SinkFiles& sink_files() { return sink_files_; }       // worker thread only
  Coordinator& coordinator() { return *coordinator_; }  // shard 0 only
  shard::Runtime& runtime() { return *runtime_; }
  CheckpointStats& checkpoint_stats() { return stats_; }
  void set_final_committed() { final_committed_.store(true, std::memory_order_release); }
  bool final_committed() const { return final_committed_.load(std::memory_order_acquire); }
  // freshet run --drain on stop: sources stop and every window fires before the final commit.
  void start_drain() { draining_.store(true, std::memory_order_release); }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  void stop_worker();

  // Runs on each shard thread at start-up; builds that shard's state.
  void init_shard(shard::Shard& shard);
  ShardState& local();
  ShardState& state(ShardId id) { return *states_[id.value()]; }

  // Progress reported by shards, watched by the main thread.
  void input_done();               // one (sink, input) pair or sinkless query finished
  void fail(std::string message);  // a shard hit an error it cannot continue from
  bool finished() const { return remaining_.load(std::memory_order_acquire) == 0; }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  std::string failure() const;
  void request_shutdown() { shutdown_.store(true, std::memory_order_release); }
  bool shutdown_requested() const { return shutdown_.load(std::memory_order_acquire); }
  void shard_stopped() { stopped_.fetch_add(1, std::memory_order_acq_rel); }
  // --replay-journal: a shard has read every query's log to its end and applied every step.
  void replay_done_on_shard() { replayed_.fetch_add(1, std::memory_order_acq_rel); }
  bool replay_finished() const { return replayed_.load(std::memory_order_acquire) == shards_; }
  uint32_t shards_stopped() const { return stopped_.load(std::memory_order_acquire); }

  // The largest watermark spread a shard observed across the partitions a query reads
  // (alignment.h), for the run summary and the metrics; -1 before any. A metric only: the
  // shards align through in-band messages, never through these.
  void note_spread(size_t query, DurationMs spread);
  DurationMs max_spread(size_t query) const {
    return spreads_[query].load(std::memory_order_relaxed);
  }
  // The Prometheus text of the spreads and of the queries held back (appended to
  // checkpoint.prom).
  std::string watermark_prometheus() const;

  // Backpressure: a file sink whose writes fall behind says so here, and the queries feeding
  // it stop reading their logs until it catches up (their input waits in the log, not in
  // memory). Set and cleared by the sink's owner, read by every shard's query polls, which
  // look again every millisecond while held.
  bool sink_full(size_t sink) const { return sink_full_[sink].load(std::memory_order_relaxed); }
  void set_sink_full(size_t sink, bool full) {
    sink_full_[sink].store(full, std::memory_order_relaxed);
  }
  // The queued bytes past which a file sink is full, and below which it is not any more.
  size_t sink_full_bytes() const { return sink_full_bytes_; }
  // The rows a merger fires in one go (ShardState::fire_slice). FRESHET_FIRE_SLICE_ROWS sets
  // it, for tests.
  size_t fire_slice_rows() const { return fire_slice_rows_; }
  // Exactly-once sinks: bytes handed to the checkpoint worker and not staged yet, added by the
  // sink's owner and taken off by the worker. Past sink_full_bytes() the sink holds its
  // queries back as well.
  void staging_added(size_t sink, size_t n) {
    sink_staging_[sink].fetch_add(n, std::memory_order_relaxed);
  }
  void staging_done(size_t sink, size_t n) {
    sink_staging_[sink].fetch_sub(n, std::memory_order_relaxed);
  }
  // A sink held query `query` back on some shard (once per stretch of waiting), for the run
  // summary and the metrics.
  void note_held(size_t query) { held_[query].fetch_add(1, std::memory_order_relaxed); }
  uint64_t times_held(size_t query) const { return held_[query].load(std::memory_order_relaxed); }
  // Whether the queries feeding `sink` must wait.
  bool sink_holds(size_t sink) const {
    return sink_full(sink) ||
           sink_staging_[sink].load(std::memory_order_relaxed) > sink_full_bytes_;
  }
  // Whether a sink that query `query` feeds holds it back (its reads and its fires' slices).
  bool query_held(size_t query) const {
    for (const auto& [sink, input] : queries_[query].outputs)
      if (sink_holds(sink)) return true;
    return false;
  }

 private:
  config::Config config_;
  Plans plans_;
  RunOptions options_;
  uint32_t shards_;
  int64_t start_ns_;
  TimestampMs start_wall_ms_;
  std::vector<QueryInfo> queries_;
  std::vector<SinkInfo> sinks_;
  std::vector<std::unique_ptr<ShardState>> states_;
  shard::Runtime* runtime_ = nullptr;
  std::unique_ptr<checkpoint::CheckpointStore> store_;
  std::unique_ptr<checkpoint::IoWorker> worker_;
  SinkFiles sink_files_;
  std::unique_ptr<Coordinator> coordinator_;
  CheckpointStats stats_;
  uint64_t restored_epoch_ = 0;
  std::deque<checkpoint::Manifest> retained_;
  std::vector<std::string> images_;
  std::vector<checkpoint::SinkFileEntry> restored_topic_publishes_;
  std::set<std::string> restored_queries_;
  std::atomic<bool> final_committed_{false};
  std::atomic<bool> draining_{false};
  std::atomic<uint32_t> inits_done_{0};
  int64_t recovery_began_ns_ = 0;
  std::atomic<int> remaining_{0};
  std::atomic<bool> failed_{false};
  std::atomic<bool> shutdown_{false};
  std::atomic<uint32_t> stopped_{0};
  std::atomic<uint32_t> replayed_{0};
  // Per query: the largest spread any shard saw.
  std::unique_ptr<std::atomic<DurationMs>[]> spreads_;
  std::unique_ptr<std::atomic<bool>[]> sink_full_;
  std::unique_ptr<std::atomic<size_t>[]> sink_staging_;
  std::unique_ptr<std::atomic<uint64_t>[]> held_;  // per query
  size_t sink_full_bytes_ = 0;
  size_t fire_slice_rows_ = 0;
  mutable std::mutex failure_mu_;  // only on the error path
  std::string failure_;
};

}  // namespace freshet::server
