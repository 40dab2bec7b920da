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
#include "freshet/server/topic_catalog.h"

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

// What the commands that work on the log on disk start from: the validated config, the data
// dir's lock (held while the value lives; opening a partition may repair a torn tail, so
// readers take it too) and the data dir's topics.
struct DataDir {
  config::Config config;
  io::UniqueFd lock;
  server::TopicCatalog catalog;
};
// Loads `file` and takes the lock. On failure prints why, sets `exit_code` (the config's
// sysexits code, or 75 while a server or another writer holds the lock) and returns nullopt.
std::optional<DataDir> open_data_dir(const std::string& file, const char* command, int& exit_code);

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
  bool drain = false;
  bool replay_journal = false;
  std::vector<std::string> reset_state;
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
