#pragma once
// The subcommands behind main(); each returns the process exit code.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "freshet/base/diagnostic.h"
#include "freshet/config/config.h"
#include "freshet/io/file_system.h"
#include "freshet/server/server.h"

namespace freshet::cli {

std::string version_string();

struct Loaded {
  std::optional<config::Config> config;
  server::Plans plans;
  int exit_code = 0;
};
// Loads, validates and compiles a config, printing every diagnostic to stderr. exit_code is
// 0 when the config is valid, else the sysexits code to return.
Loaded load(const std::string& file, DiagnosticFormat format);

// Takes the data dir's lock for a command that reads or writes the log; prints why not and
// returns nullopt when a server (or another writer) holds it.
std::optional<io::UniqueFd> lock_data_dir(const config::Config& config, const char* command);

struct CheckArgs {
  std::string file;
  std::string format = "human";
  bool quiet = false;
};
int check_command(const CheckArgs& args);

struct RunArgs {
  std::string file;
  std::string duration;
  bool reset = false;
};
int run_command(const RunArgs& args);

struct ConsumeArgs {
  std::string topic;
  std::string file;
  std::optional<int32_t> partition;
  std::optional<uint64_t> max;
  std::optional<int64_t> offset;  // per partition, default: from the beginning
  std::string from_time;          // RFC 3339 or epoch ms
};
int consume_command(const ConsumeArgs& args);

struct ProduceArgs {
  std::string topic;
  std::string file;
  std::string key_field;  // default: the topic's key
  bool quiet = false;     // no per-record acknowledgements on stdout
};
int produce_command(const ProduceArgs& args);

struct TopicArgs {
  std::string verb;  // create | list | describe | delete
  std::string file;
  std::string topic;
  int32_t partitions = 1;
  std::string segment_bytes;
  std::string fsync;
  std::string key_field;
  bool json = false;
};
int topic_command(const TopicArgs& args);

struct NexmarkDataArgs {
  uint64_t events = 1'000'000;
  std::string density = "100000/s";
  uint64_t seed = 1;
};
int bench_nexmark_data(const NexmarkDataArgs& args);

}  // namespace freshet::cli
