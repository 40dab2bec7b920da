#pragma once
// Chained queries: see chaining.cc.

#include <string>

#include "freshet/config/config.h"
#include "freshet/server/server.h"

namespace freshet::server {

// The topic carrying a query's rows to the queries that read it.
std::string chain_topic(const std::string& query);
// Adds, for every query another query reads, its chain topic and the hidden sink feeding it.
// Runs before the data dir is prepared, so the topics exist like the configured ones.
void add_chain_topics(config::Config& config, const Plans& plans);

}  // namespace freshet::server
