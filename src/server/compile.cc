#include "freshet/server/server.h"

#include <map>

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
  std::vector<std::string> topics;
  std::map<std::string, std::string> event_time_fields;
  std::map<std::string, query::TopicSchema> schemas;
  for (const auto& [name, t] : config.topics) {
    topics.push_back(name);
    if (t.event_time) event_time_fields[name] = t.event_time->field;
    for (const config::SchemaField& f : t.schema)
      schemas[name].columns.push_back({f.name, column_type(f.type)});
  }
  Plans plans;
  for (const auto& [name, q] : config.queries) {
    query::CompileInput in;
    in.name = name;
    in.sql = q.sql;
    in.sql_line_origins = q.sql_line_origins;
    in.known_topics = &topics;
    in.event_time_fields = &event_time_fields;
    in.schemas = &schemas;
    in.allowed_lateness = q.allowed_lateness;
    // known_queries stays unset: the server does not route one query's rows into another
    // yet, so `FROM <query>` is reported at compile time rather than failing at run time.
    if (auto plan = query::compile(in, diags)) plans.emplace(name, std::move(plan));
  }
  return plans;
}

}  // namespace freshet::server
