// The top level of the config: version, data_dir and the named collections.
#include <fmt/format.h>

#include <array>

#include "freshet/config/error_codes.h"
#include "sections_impl.h"

namespace freshet::config {
namespace {

constexpr std::array<std::string_view, 8> kTopKeys{"version", "data_dir", "server", "topics",
                                                   "sources", "queries",  "sinks",  "checkpoint"};

// Reads a map of user-named components (topics, sources, ...) into `out`.
template <typename T>
void read_collection(Reader& r, const Entry& e, std::string_view kind,
                     std::map<std::string, T>& out, void (*read_one)(Reader&, const Entry&, T&)) {
  if (!r.expect_map(e)) return;
  Scope scope = e.child(fmt::format("in `{}`", e.key));
  for (const Entry& item : r.entries(e.value, scope, {})) {
    r.check_name(item, kind);
    if (!r.expect_map(item)) continue;
    read_one(r, item, out[item.key]);
  }
}

void read_version(Reader& r, const Entry& e, Config& c) {
  auto s = r.scalar(e);
  if (!s) return;
  if (s->text == "1") {
    c.version = 1;
    return;
  }
  r.report(codes::kBadVersion, fmt::format("unsupported config version `{}`", s->text), s->pos,
           s->span, "expected 1", "this build reads `version: 1`");
}

}  // namespace

Config read_config(Reader& r, const YAML::Node& root) {
  Config c;
  SourcePos first = root.begin() != root.end() ? r.pos_of(root.begin()->first) : SourcePos{1, 1};
  Scope top{"", "", "at the top level", first, 1};
  bool has_version = false;
  for (const Entry& e : r.entries(root, top, kTopKeys)) {
    if (e.key == "version") {
      has_version = true;
      read_version(r, e, c);
    } else if (e.key == "data_dir") {
      if (auto v = r.string(e)) c.data_dir = *v;
    } else if (e.key == "server") {
      if (r.expect_map(e)) read_server(r, e, c.server);
    } else if (e.key == "topics") {
      read_collection<TopicConfig>(r, e, "topic", c.topics, read_topic);
    } else if (e.key == "sources") {
      read_collection<SourceConfig>(r, e, "source", c.sources, read_source);
    } else if (e.key == "queries") {
      read_collection<QueryConfig>(r, e, "query", c.queries, read_query);
    } else if (e.key == "sinks") {
      read_collection<SinkConfig>(r, e, "sink", c.sinks, read_sink);
    } else if (e.key == "checkpoint") {
      if (r.expect_map(e)) read_checkpoint(r, e, c.checkpoint.emplace());
    }
  }
  if (!has_version)
    r.missing(top, "version", "start the file with `version: 1`, the schema it is written for");
  // Exactly-once is the default wherever it can hold: rows commit with each checkpoint.
  for (auto& [_, s] : c.sinks)
    if (s.delivery_pos.line == 0 && c.checkpoint) s.delivery = Delivery::kExactlyOnce;
  return c;
}

}  // namespace freshet::config
