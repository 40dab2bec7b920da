#pragma once
// The checkpoint side of the server (semantics §3.7):
// - SinkFiles: the exactly-once sinks' committed files, owned by the checkpoint worker thread.
// - Coordinator: starts each epoch on every shard, gathers the shards' reports, commits the
//   MANIFEST and publishes the sinks; lives on shard 0.
// - crash_point(): SIGKILLs the process at a named step when FRESHET_CRASH_AT asks, so tests
//   can kill it exactly between the steps of the protocol.

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "freshet/checkpoint/manifest.h"
#include "freshet/checkpoint/store.h"
#include "freshet/shard/shard.h"
#include "freshet/sinks/committed_file.h"

namespace freshet::server {

class Pipeline;

// FRESHET_CRASH_AT=<step>[:<epoch>] kills the process with SIGKILL when the checkpoint
// protocol reaches <step> (of any epoch, or of <epoch>). Steps: before_snapshot,
// after_snapshot, before_rename, after_rename, during_publish, after_publish.
void crash_point(std::string_view step, uint64_t epoch);

// Metrics of the checkpoints, written by the coordinator, read by anyone.
struct CheckpointStats {
  // The Prometheus text exposition of these (the format /metrics will serve), written after
  // every checkpoint to <data_dir>/metrics/checkpoint.prom for node_exporter's textfile
  // collector until the HTTP listener lands.
  std::string prometheus(TimestampMs now) const;

  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> last_epoch{0};
  std::atomic<int64_t> last_duration_us{0};
  std::atomic<uint64_t> last_bytes{0};
  std::atomic<int64_t> last_success_ms{0};  // wall clock
  std::atomic<int64_t> recovery_us{0};
};

// The staged rows of an exactly-once `type: topic` sink: one file per epoch under
// `<data_dir>/checkpoints/topic-sinks/<sink>/`, appended to the topic's partitions by the
// shards once the epoch commits (ShardState::publish_topic_rows), so consumers of the topic
// only ever see committed rows. Owned by the checkpoint worker.
class TopicStaging {
 public:
  TopicStaging(io::FileSystem& fs, std::string dir, std::string sink, std::string topic)
      : fs_(fs), dir_(std::move(dir)), sink_(std::move(sink)), topic_(std::move(topic)) {}
  // Removes every staged epoch but `keep` (the committed one, whose publish may need redoing).
  Status open(uint64_t keep);
  Status stage(uint64_t epoch, std::string_view bytes);
  Result<checkpoint::SinkFileEntry> precommit(uint64_t epoch);
  Status forget_before(uint64_t epoch);

 private:
  std::string path(uint64_t epoch) const { return fmt::format("{}/{}.jsonl", dir_, epoch); }
  struct Staged {
    io::UniqueFd fd;
    uint64_t length = 0;
  };
  io::FileSystem& fs_;
  std::string dir_, sink_, topic_;
  std::map<uint64_t, Staged> staged_;
};

// Every committed file of every exactly-once sink: the main file, and the late and dead-letter
// files once they have rows. Owned by the checkpoint worker: every call but open() runs there.
class SinkFiles {
 public:
  // Recovers each sink's files to what `committed` (the latest manifest, or null) published.
  // Runs on the main thread before the shards and the worker start.
  Status open(const Pipeline& p, const checkpoint::Manifest* committed);
  void stage(size_t sink, int kind, uint64_t epoch, std::string_view bytes, Pipeline& p);
  Result<std::vector<checkpoint::SinkFileEntry>> precommit(const std::vector<size_t>& sinks,
                                                           uint64_t epoch);
  Status publish(const checkpoint::SinkFileEntry& e, uint64_t epoch);
  Status forget_before(uint64_t epoch);

 private:
  Result<sinks::CommittedFile*> file(size_t sink, int kind, const Pipeline& p,
                                     const checkpoint::SinkFileEntry* committed);
  struct Files {
    std::string name;
    std::unique_ptr<sinks::CommittedFile> kinds[3];
    std::unique_ptr<TopicStaging> topic;  // type: topic, instead of kinds[kMainFile]
  };
  std::vector<Files> sinks_;  // by sink index; empty for at-least-once sinks
  std::map<std::string, size_t> by_name_;
};

// What a shard hands the coordinator for one epoch.
struct ShardReport {
  ShardId shard;
  std::optional<checkpoint::StateFileEntry> state;
  std::vector<checkpoint::SinkFileEntry> sink_files;
  std::vector<std::vector<std::pair<int32_t, Offset>>> offsets;  // per query
  std::string error;                      // the step failed: the epoch is abandoned
  std::vector<std::string> ended_topics;  // to end once this epoch is published
};

// Runs on shard 0 only.
class Coordinator {
 public:
  Coordinator(Pipeline& p, shard::Shard& shard, uint64_t last_epoch,
              std::deque<checkpoint::Manifest> retained);
  void start();
  // One more checkpoint as soon as the one in flight (if any) is done; the pipeline's
  // final_committed() turns true when it commits.
  void request_final();
  // A checkpoint now (or right after the one in flight): a chained query waits for it.
  void request_early();
  void shard_done(ShardReport report);

 private:
  void begin();
  void commit_job(uint64_t epoch, std::vector<ShardReport> reports, int64_t began_ns);
  void committed(uint64_t epoch, bool ok, int64_t began_ns, uint64_t bytes);
  void broadcast_floor();
  Status publish_topic(const checkpoint::SinkFileEntry& e);

  Pipeline& p_;
  shard::Shard& shard_;
  uint64_t epoch_;
  bool in_flight_ = false;
  bool final_requested_ = false;
  bool final_epoch_started_ = false;
  bool early_ = false;
  int64_t began_ns_ = 0;
  std::vector<ShardReport> reports_;
  size_t reported_ = 0;
  // Offsets of the retained checkpoints: the log keeps what the oldest may seek back to.
  // Touched on shard 0 (floor) and in worker jobs (the list) — never at the same time: a job
  // takes the list and hands it back when the commit is done.
  std::deque<checkpoint::Manifest> retained_;
};

}  // namespace freshet::server
