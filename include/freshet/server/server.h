#pragma once
// The process: wires the configured topics, sources, queries and sinks onto the shards and
// runs them until every bounded input is done, a signal arrives, or --duration passes.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "freshet/base/diagnostic.h"
#include "freshet/base/result.h"
#include "freshet/config/config.h"
#include "freshet/query/plan.h"

namespace freshet::server {

using Plans = std::map<std::string, std::shared_ptr<const query::Plan>>;

// Compiles every query of the config; errors are appended to `diags` with YAML positions.
Plans compile_queries(const config::Config& config, std::vector<Diagnostic>& diags);

struct RunOptions {
  std::optional<DurationMs> duration;  // stop after this long (like SIGTERM)
  bool reset = false;                  // delete the log and truncate outputs first
  bool drain = false;  // on stop, fire every window and commit (else suspend: checkpoint)
  std::vector<std::string> reset_state;  // queries whose saved state is dropped
  // Rerun the queries over the log in data_dir from offset 0, without sources, applying the
  // journal's idleness decisions and wall-clock watermark steps at the reader positions they
  // were taken at (semantics §3.8); stops once every query has read its log and applied every
  // record. Outputs are truncated first.
  bool replay_journal = false;
};

class Server;

// Runs the pipeline on the calling thread's behalf (shards run on their own threads; this
// thread waits for signals). Returns the process exit code.
int run(config::Config config, Plans plans, RunOptions options);

}  // namespace freshet::server
