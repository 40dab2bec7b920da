#include "pipeline.h"

#include <algorithm>
#include <cstdlib>

#include "chaining.h"
#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "freshet/shard/runtime.h"
#include "shard_state.h"

namespace freshet::server {
namespace {

// A positive number from the environment, for tests that need a limit reached without a
// slow disk or a long input; `fallback` when unset or not a positive number.
size_t env_limit(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  if (*end != '\0' || n == 0) {
    log::warn("{}={} is not a positive number; using {}", name, v, fallback);
    return fallback;
  }
  return static_cast<size_t>(n);
}

// How far a file sink's writes may fall behind (bytes released and not written) before its
// queries stop reading: a few seconds of output at any rate a disk takes, and small next to
// memory.
constexpr size_t kSinkBufferBytes = 64 << 20;
// How many rows a merger fires before the rest waits for a later turn (ShardState::fire_slice):
// a few megabytes of rows, formatted and written while still in cache, reused slice after slice.
constexpr size_t kFireSliceRows = 16384;

}  // namespace

Pipeline::Pipeline(config::Config config, Plans plans, RunOptions options, uint32_t shards)
    : config_(std::move(config)),
      plans_(std::move(plans)),
      options_(options),
      shards_(shards),
      start_ns_(monotonic_ns()),
      start_wall_ms_(wall_clock_ms()) {
  std::map<std::string, size_t> query_index;
  for (const auto& [name, plan] : plans_) {
    QueryInfo q;
    q.name = name;
    q.plan = plan;
    q.topic = plan->input().kind == query::PlanInput::Kind::kQuery ? chain_topic(plan->topic())
                                                                   : plan->topic();
    const auto& topic = config_.topics.at(q.topic);
    q.partitions = topic.partitions;
    q.watermark_delay = topic.event_time ? topic.event_time->watermark_delay : 0;
    if (topic.event_time) {
      q.idle_timeout = topic.event_time->idle_timeout;
      q.max_future_skew = topic.event_time->max_future_skew;
      q.idle_progress = topic.event_time->idle_progress;
      q.max_drift = topic.event_time->max_drift;
    }
    const auto& qc = config_.queries.at(name);
    if (qc.emit == config::EmitPolicy::kEarly && !plan->stateless()) q.early_every = qc.early_every;
    query_index[name] = queries_.size();
    queries_.push_back(std::move(q));
  }
  size_t sink_number = 0;
  for (const auto& [name, sc] : config_.sinks) {
    SinkInfo s;
    s.config = sc;
    // A topic sink's late and dead-letter files: <data_dir>/sinks/<name>.late.jsonl, ...
    if (sc.type == config::SinkType::kTopic)
      s.config.path = fmt::format("{}/sinks/{}.topic", config_.data_dir, name);
    s.owner = sink_shard(sink_number++, shards_);
    for (const auto& in : sc.inputs) {
      const size_t qi = query_index.at(in);
      queries_[qi].outputs.emplace_back(sinks_.size(), s.inputs.size());
      s.inputs.push_back(qi);
      if (s.columns.empty()) s.columns = queries_[qi].plan->output_columns();
    }
    sinks_.push_back(std::move(s));
  }
  int remaining = 0;
  for (const auto& s : sinks_) remaining += static_cast<int>(s.inputs.size());
  for (const auto& q : queries_)
    if (q.outputs.empty()) remaining += static_cast<int>(shards_);
  // A bounded source is done when its slice on every shard is; an unbounded one never is,
  // so a pipeline that only ingests runs until it is stopped.
  for (const auto& [name, sc] : config_.sources) {
    const bool sliced = sc.type == config::SourceType::kGenerator && sc.count;
    remaining += sliced ? static_cast<int>(shards_) : 1;  // a file source ends on one shard
  }
  remaining_.store(remaining, std::memory_order_release);
  states_.resize(shards_);
  spreads_ = std::make_unique<std::atomic<DurationMs>[]>(queries_.size());
  for (size_t i = 0; i < queries_.size(); ++i) spreads_[i].store(-1, std::memory_order_relaxed);
  sink_full_ = std::make_unique<std::atomic<bool>[]>(sinks_.size());
  held_ = std::make_unique<std::atomic<uint64_t>[]>(queries_.size());
  for (size_t i = 0; i < queries_.size(); ++i) held_[i].store(0, std::memory_order_relaxed);
  sink_staging_ = std::make_unique<std::atomic<size_t>[]>(sinks_.size());
  for (size_t i = 0; i < sinks_.size(); ++i) {
    sink_full_[i].store(false, std::memory_order_relaxed);
    sink_staging_[i].store(0, std::memory_order_relaxed);
  }
  sink_full_bytes_ = env_limit("FRESHET_SINK_BUFFER_BYTES", kSinkBufferBytes);
  fire_slice_rows_ = env_limit("FRESHET_FIRE_SLICE_ROWS", kFireSliceRows);
}

void Pipeline::note_spread(size_t query, DurationMs spread) {
  auto& max = spreads_[query];
  DurationMs seen = max.load(std::memory_order_relaxed);
  while (seen < spread && !max.compare_exchange_weak(seen, spread, std::memory_order_relaxed)) {
  }
}

std::string Pipeline::watermark_prometheus() const {
  std::string out =
      "# HELP freshet_watermark_spread_max_seconds Largest spread observed between the "
      "watermarks of the partitions a query reads.\n"
      "# TYPE freshet_watermark_spread_max_seconds gauge\n";
  for (size_t i = 0; i < queries_.size(); ++i) {
    const DurationMs spread = max_spread(i);
    if (spread < 0) continue;
    fmt::format_to(std::back_inserter(out),
                   "freshet_watermark_spread_max_seconds{{query=\"{}\",topic=\"{}\"}} {}\n",
                   queries_[i].name, queries_[i].topic, static_cast<double>(spread) / 1e3);
  }
  out +=
      "# HELP freshet_query_held_back_total Times a sink whose writes fell behind stopped a "
      "query's reads (backpressure).\n"
      "# TYPE freshet_query_held_back_total counter\n";
  for (size_t i = 0; i < queries_.size(); ++i)
    fmt::format_to(std::back_inserter(out), "freshet_query_held_back_total{{query=\"{}\"}} {}\n",
                   queries_[i].name, times_held(i));
  return out;
}

Pipeline::~Pipeline() = default;

std::string sink_file_path(const std::string& path, int kind) {
  if (kind == 0) return path;
  const auto slash = path.rfind('/');
  const auto dot = path.rfind('.');
  const bool ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  return fmt::format("{}.{}.jsonl", ext ? path.substr(0, dot) : path, kind == 1 ? "late" : "dead");
}

void Pipeline::init_shard(shard::Shard& shard) {
  log::set_thread_tag(fmt::format("shard {}", shard.id().value()));
  auto state = std::make_unique<ShardState>(*this, shard);
  ShardState* raw = state.get();
  states_[shard.id().value()] = std::move(state);
  if (auto st = raw->open(); !st) fail(st.error().message);
  if (inits_done_.fetch_add(1, std::memory_order_acq_rel) + 1 == shards_ && restored_epoch_ > 0) {
    // The last shard to restore: the recovery is over (the log tail replays from here on).
    const int64_t us = (monotonic_ns() - recovery_began_ns_) / 1000;
    stats_.recovery_us.store(us, std::memory_order_relaxed);
    log::info("restored checkpoint {} in {:.1f} ms", restored_epoch_,
              static_cast<double>(us) / 1000);
  }
  if (checkpointing() && shard.id() == ShardId(0)) {
    coordinator_ = std::make_unique<Coordinator>(*this, shard, restored_epoch_, retained_);
    coordinator_->start();
  }
}

Status Pipeline::prepare_checkpoints(shard::Runtime& runtime) {
  runtime_ = &runtime;
  images_.assign(shards_, std::string());
  for (const auto& q : queries_) restored_queries_.insert(q.name);
  if (!checkpointing()) return ok();
  recovery_began_ns_ = monotonic_ns();
  for (const auto& name : options_.reset_state)
    if (!config_.queries.count(name))
      return make_error(ErrorCode::kConfig, "--reset-state {}: the config has no such query", name);
  FRESHET_ASSIGN_OR_RETURN(
      store_, checkpoint::CheckpointStore::open(fs(), config_.data_dir + "/checkpoints"));
  if (options_.reset) {
    // Start over: no checkpoint, and the exactly-once outputs empty like the others.
    FRESHET_ASSIGN_OR_RETURN(auto epochs, store_->committed_epochs());
    for (auto it = epochs.rbegin(); it != epochs.rend(); ++it)
      FRESHET_TRY(store_->remove_epoch(*it));
    for (const auto& s : sinks_) {
      if (s.config.delivery != config::Delivery::kExactlyOnce) continue;
      for (int kind = 0; kind < 3; ++kind) {
        const std::string path = sink_file_path(s.config.path, kind);
        FRESHET_ASSIGN_OR_RETURN(bool exists, fs().exists(path));
        if (exists) FRESHET_TRY(fs().unlink(path));
      }
    }
  }
  FRESHET_TRY(store_->remove_incomplete());
  FRESHET_ASSIGN_OR_RETURN(auto latest, store_->latest());
  restored_queries_.clear();
  if (latest) {
    const auto& m = *latest;
    if (m.shard_count != shards_)
      return make_error(ErrorCode::kConfig,
                        "checkpoint {} in {} was taken with {} shards and this run has {}; "
                        "state is kept per shard. Run with `server: {{ shards: {} }}`, or start "
                        "over with `freshet run --reset`",
                        m.epoch, store_->dir(), m.shard_count, shards_, m.shard_count);
    for (const auto& q : queries_) {
      auto it = std::find_if(m.queries.begin(), m.queries.end(),
                             [&](const auto& e) { return e.name == q.name; });
      const bool reset = std::find(options_.reset_state.begin(), options_.reset_state.end(),
                                   q.name) != options_.reset_state.end();
      if (it == m.queries.end()) {
        log::info("query `{}` is new since checkpoint {}: it starts from the beginning of `{}`",
                  q.name, m.epoch, q.topic);
      } else if (reset) {
        log::info(
            "query `{}`: --reset-state drops its state; it starts over from the "
            "beginning of `{}`",
            q.name, q.topic);
      } else if (it->state_fingerprint != q.plan->state_fingerprint()) {
        return make_error(
            ErrorCode::kConfig,
            "query `{}` changed since checkpoint {} in a way its saved state cannot follow "
            "(window, GROUP BY, aggregates or lateness). Give the changed query a new name to "
            "start it fresh beside the old output, or run `freshet run --reset-state {}` to "
            "drop its state and recompute it from the log",
            q.name, m.epoch, q.name);
      } else {
        restored_queries_.insert(q.name);
      }
    }
    for (uint32_t s = 0; s < shards_; ++s) {
      FRESHET_ASSIGN_OR_RETURN(images_[s], store_->read_state_file(m, ShardId(s)));
    }
    restored_epoch_ = m.epoch;
    for (const auto& e : m.sink_files)
      if (e.kind == "topic") restored_topic_publishes_.push_back(e);
    log::info("restoring checkpoint {} ({} queries, {} sink files)", m.epoch, m.queries.size(),
              m.sink_files.size());
  }
  FRESHET_TRY(sink_files_.open(*this, latest ? &*latest : nullptr));
  if (latest) retained_.push_back(std::move(*latest));
  worker_ = std::make_unique<checkpoint::IoWorker>("freshet-ckpt");
  return ok();
}

void Pipeline::stop_worker() {
  if (worker_) worker_->stop();
}

ShardState& Pipeline::local() { return *states_[shard::this_shard().id().value()]; }

void Pipeline::input_done() { remaining_.fetch_sub(1, std::memory_order_acq_rel); }

void Pipeline::fail(std::string message) {
  std::lock_guard lock(failure_mu_);
  if (!failed_.load(std::memory_order_relaxed)) failure_ = std::move(message);
  failed_.store(true, std::memory_order_release);
}

std::string Pipeline::failure() const {
  std::lock_guard lock(failure_mu_);
  return failure_;
}

}  // namespace freshet::server
