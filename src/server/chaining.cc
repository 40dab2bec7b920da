// Chained queries (`FROM <query>`, `TUMBLE(<query>, ...)`): a query read by another writes its
// rows into a topic of its own, `__<query>`, through a hidden topic sink, and the reader reads
// that topic like any other. With checkpoints the sink is exactly-once, so the downstream
// query sees each upstream row once, and only once it is committed; the chain then costs one
// checkpoint interval of latency per hop. The topic has one partition: the rows of a query are
// few next to its input, they stay in the order the sink released them, and no partition can
// sit empty holding the downstream watermark back.

#include "chaining.h"

#include <fmt/format.h>

namespace freshet::server {

std::string chain_topic(const std::string& query) { return "__" + query; }

void add_chain_topics(config::Config& config, const Plans& plans) {
  for (const auto& [name, plan] : plans) {
    if (plan->input().kind != query::PlanInput::Kind::kQuery) continue;
    const std::string& upstream = plan->input().name;
    const std::string topic = chain_topic(upstream);
    if (config.topics.count(topic)) continue;
    const auto it = plans.find(upstream);
    if (it == plans.end()) continue;
    config::TopicConfig t;
    t.name = topic;
    t.partitions = 1;
    t.segment_bytes = 16ull << 20;
    // Upstream rows come out in event-time order (the sink releases them by watermark), so
    // the reader's watermark needs no delay.
    if (!it->second->ts_column().empty() || it->second->window_type() != query::WindowType::kNone) {
      config::EventTimeConfig et;
      et.field = it->second->window_type() != query::WindowType::kNone ? "window_start"
                                                                       : it->second->ts_column();
      t.event_time = et;
    }
    config.topics.emplace(topic, std::move(t));
    config::SinkConfig s;
    s.name = topic;
    s.type = config::SinkType::kTopic;
    s.topic = topic;
    s.inputs = {upstream};
    s.delivery =
        config.checkpoint ? config::Delivery::kExactlyOnce : config::Delivery::kAtLeastOnce;
    config.sinks.emplace(topic, std::move(s));
  }
}

}  // namespace freshet::server
