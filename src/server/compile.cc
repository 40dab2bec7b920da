#include "freshet/server/server.h"

namespace freshet::server {

Plans compile_queries(const config::Config& config, std::vector<Diagnostic>& diags) {
  std::vector<std::string> topics;
  for (const auto& [name, t] : config.topics) topics.push_back(name);
  Plans plans;
  for (const auto& [name, q] : config.queries) {
    query::CompileInput in;
    in.name = name;
    in.sql = q.sql;
    in.sql_line_origins = q.sql_line_origins;
    in.known_topics = &topics;
    if (auto plan = query::compile(in, diags)) plans.emplace(name, std::move(plan));
  }
  return plans;
}

}  // namespace freshet::server
