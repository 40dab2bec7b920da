// Cross-references: checked after every section is read, so a sink may name a query defined
// further down the file.
#include <fmt/format.h>

#include <filesystem>

#include "freshet/config/error_codes.h"
#include "sections_impl.h"

namespace freshet::config {
namespace {

template <typename T>
std::vector<std::string_view> names_of(const std::map<std::string, T>& m) {
  std::vector<std::string_view> names;
  for (const auto& [name, _] : m) names.push_back(name);
  return names;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& names,
                         std::string_view fallback) {
  std::string_view meant = best_match(word, names);
  return meant.empty() ? std::string(fallback) : fmt::format("did you mean `{}`?", meant);
}

void check_source_topics(Reader& r, const Config& c) {
  std::vector<std::string_view> topics = names_of(c.topics);
  for (const auto& [name, s] : c.sources) {
    if (s.to.empty() || c.topics.count(s.to)) continue;
    r.report(codes::kUnknownTopic,
             fmt::format("source `{}` writes to unknown topic `{}`", name, s.to), s.to_pos,
             static_cast<uint32_t>(s.to.size()), did_you_mean(s.to, topics, "no such topic"),
             topics.empty() ? fmt::format("define it under `topics:`")
                            : fmt::format("topics: {}", join(topics, ", ")));
  }
}

void check_sink_inputs(Reader& r, const Config& c) {
  std::vector<std::string_view> queries = names_of(c.queries);
  for (const auto& [name, s] : c.sinks) {
    for (size_t i = 0; i < s.inputs.size(); ++i) {
      const std::string& in = s.inputs[i];
      if (c.queries.count(in)) continue;
      std::string help = queries.empty() ? "define it under `queries:`"
                                         : fmt::format("queries: {}", join(queries, ", "));
      if (c.topics.count(in))
        help = fmt::format(
            "`{}` is a topic; sinks write the rows of queries, so add a query "
            "that selects from it",
            in);
      r.report(codes::kUnknownQuery, fmt::format("sink `{}` reads unknown query `{}`", name, in),
               s.input_pos[i], static_cast<uint32_t>(in.size()),
               did_you_mean(in, queries, "no such query"), help);
    }
  }
}

void check_sink_topics(Reader& r, const Config& c) {
  std::vector<std::string_view> topics = names_of(c.topics);
  for (const auto& [name, s] : c.sinks) {
    if (s.type != SinkType::kTopic || s.topic.empty() || c.topics.count(s.topic)) continue;
    r.report(codes::kUnknownTopic,
             fmt::format("sink `{}` writes to unknown topic `{}`", name, s.topic), s.topic_pos,
             static_cast<uint32_t>(s.topic.size()), did_you_mean(s.topic, topics, "no such topic"),
             topics.empty() ? std::string("define it under `topics:`")
                            : fmt::format("topics: {}", join(topics, ", ")));
  }
}

// Two sinks appending to one file would interleave rows and break each other's commits.
void check_sink_paths(Reader& r, const Config& c) {
  std::vector<const SinkConfig*> sinks;
  for (const auto& [_, s] : c.sinks)
    if (!s.path.empty()) sinks.push_back(&s);
  // Report at the later one in the file, naming the earlier.
  std::sort(sinks.begin(), sinks.end(), [](const SinkConfig* a, const SinkConfig* b) {
    return a->path_pos.line < b->path_pos.line;
  });
  std::map<std::string, const SinkConfig*> seen;
  for (const SinkConfig* s : sinks) {
    std::string key = std::filesystem::path(s->path).lexically_normal().string();
    auto [it, fresh] = seen.emplace(key, s);
    if (fresh) continue;
    r.report(codes::kDuplicatePath,
             fmt::format("sinks `{}` and `{}` write the same file `{}`", it->second->name, s->name,
                         s->path),
             s->path_pos, static_cast<uint32_t>(s->path.size()),
             fmt::format("also the path of sink `{}` on line {}", it->second->name,
                         it->second->path_pos.line),
             "give each sink its own file, or list several queries in one sink's `inputs`");
  }
}

// Exactly-once rows become visible at a checkpoint commit: without checkpoints none would.
void check_delivery(Reader& r, const Config& c) {
  if (c.checkpoint) return;
  for (const auto& [name, s] : c.sinks) {
    if (s.delivery != Delivery::kExactlyOnce) continue;
    r.report(
        codes::kNeedsCheckpoint,
        fmt::format("sink `{}` asks for `delivery: exactly_once`, which needs checkpoints", name),
        s.delivery_pos, static_cast<uint32_t>(std::string_view("exactly_once").size()),
        "no `checkpoint:` section",
        "add `checkpoint: { interval: 10s }`, or write `delivery: at_least_once`");
  }
}

}  // namespace

void validate_references(Reader& r, const Config& c) {
  check_delivery(r, c);
  check_source_topics(r, c);
  check_sink_inputs(r, c);
  check_sink_topics(r, c);
  check_sink_paths(r, c);
}

}  // namespace freshet::config
