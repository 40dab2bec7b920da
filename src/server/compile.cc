#include "freshet/server/server.h"

#include <map>

#include <fmt/format.h>

namespace freshet::server {
namespace {

query::ColumnType column_type(config::FieldType t) {
  switch (t) {
    case config::FieldType::kString:
      return query::ColumnType::kString;
    case config::FieldType::kInt:
      return query::ColumnType::kInt;
    case config::FieldType::kDouble:
      return query::ColumnType::kDouble;
    case config::FieldType::kBool:
      return query::ColumnType::kBool;
    case config::FieldType::kTimestamp:
      break;
  }
  return query::ColumnType::kTimestamp;
}

}  // namespace

Plans compile_queries(const config::Config& config, std::vector<Diagnostic>& diags) {
  std::vector<std::string> topics, queries;
  std::map<std::string, std::string> event_time_fields;
  std::map<std::string, query::TopicSchema> schemas;
  for (const auto& [name, t] : config.topics) {
    topics.push_back(name);
    if (t.event_time) event_time_fields[name] = t.event_time->field;
    for (const config::SchemaField& f : t.schema)
      schemas[name].columns.push_back({f.name, column_type(f.type)});
  }
  for (const auto& [name, q] : config.queries) queries.push_back(name);
  auto compile = [&](const std::string& name, const config::QueryConfig& q,
                     std::vector<Diagnostic>& out) {
    query::CompileInput in;
    in.name = name;
    in.sql = q.sql;
    in.sql_line_origins = q.sql_line_origins;
    in.known_topics = &topics;
    in.known_queries = &queries;  // FROM <query>: chained through a topic (chaining.cc)
    in.event_time_fields = &event_time_fields;
    in.schemas = &schemas;
    in.allowed_lateness = q.allowed_lateness;
    in.emit_early = q.emit == config::EmitPolicy::kEarly;
    return query::compile(in, out);
  };
  Plans plans;
  for (const auto& [name, q] : config.queries)
    if (auto plan = compile(name, q, diags)) plans.emplace(name, std::move(plan));
  // A windowed query's rows carry their time as window_start, which lands a row in the right
  // window of a coarser query downstream; queries over such rows are compiled again knowing it.
  bool again = false;
  for (const auto& [name, plan] : plans)
    if (plan->window_type() != query::WindowType::kNone) {
      event_time_fields[name] = "window_start";
      again = true;
    }
  if (again) {
    for (auto& [name, plan] : plans) {
      if (plan->input().kind != query::PlanInput::Kind::kQuery) continue;
      std::vector<Diagnostic> ignored;  // reported by the first pass already
      if (auto p = compile(name, config.queries.at(name), ignored)) plan = std::move(p);
    }
  }
  // Chains must end: a query cannot read itself, even through others.
  for (const auto& [name, plan] : plans) {
    std::string at = name;
    for (size_t hops = 0; hops <= plans.size(); ++hops) {
      auto it = plans.find(at);
      if (it == plans.end() || it->second->input().kind != query::PlanInput::Kind::kQuery) break;
      at = it->second->input().name;
      if (at != name) continue;
      const auto& q = config.queries.at(name);
      diags.push_back(Diagnostic{"E0313",
                                 fmt::format("query `{}` reads its own output through `FROM {}`",
                                             name, plan->input().name),
                                 q.pos, static_cast<uint32_t>(name.size()), "a cycle",
                                 "a chain of queries must start from a topic"});
      break;
    }
  }
  return plans;
}

}  // namespace freshet::server
