#pragma once
// The subcommands behind main(); each returns the process exit code.

#include <cstdint>
#include <optional>
#include <string>

namespace freshet::cli {

std::string version_string();

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
};
int consume_command(const ConsumeArgs& args);

}  // namespace freshet::cli
