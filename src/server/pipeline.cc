#include "pipeline.h"

#include <algorithm>

#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "shard_state.h"

namespace freshet::server {

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
    q.topic = plan->topic();
    const auto& topic = config_.topics.at(q.topic);
    q.partitions = topic.partitions;
    q.watermark_delay = topic.event_time ? topic.event_time->watermark_delay : 0;
    if (topic.event_time) {
      q.idle_timeout = topic.event_time->idle_timeout;
      q.max_future_skew = topic.event_time->max_future_skew;
    }
    query_index[name] = queries_.size();
    queries_.push_back(std::move(q));
  }
  size_t sink_number = 0;
  for (const auto& [name, sc] : config_.sinks) {
    SinkInfo s;
    s.config = sc;
    // Spread sinks over the shards; a sink's rows are merged and written on its owner.
    s.owner = ShardId(static_cast<uint32_t>(sink_number++ % shards_));
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
}

Pipeline::~Pipeline() = default;

void Pipeline::init_shard(shard::Shard& shard) {
  log::set_thread_tag(fmt::format("shard {}", shard.id().value()));
  auto state = std::make_unique<ShardState>(*this, shard);
  ShardState* raw = state.get();
  states_[shard.id().value()] = std::move(state);
  if (auto st = raw->open(); !st) fail(st.error().message);
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
