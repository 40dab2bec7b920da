// freshet: one binary, subcommands in the style of rpk and vector. Machine output goes to
// stdout, human notices to stderr; exit codes follow sysexits.h (base/exit_codes.h).

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "commands.h"
#include "freshet/base/exit_codes.h"
#include "freshet/base/log.h"

int main(int argc, char** argv) {
  using namespace freshet;
  CLI::App app{
      "freshet — a Kafka-compatible log, event-time SQL and exactly-once outputs on one machine"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--log-level) also work after the subcommand
  app.set_version_flag("--version", cli::version_string());
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "error | warn | info | debug")
      ->check(CLI::IsMember({"error", "warn", "info", "debug"}))
      ->envname("FRESHET_LOG_LEVEL");

  cli::CheckArgs check;
  auto* check_cmd =
      app.add_subcommand("check", "Validate a pipeline config; exit 0 if valid, 78 if not");
  check_cmd->add_option("file", check.file, "The YAML config");
  check_cmd->add_option("-c,--config", check.file, "The YAML config (same as FILE)");
  check_cmd->add_option("--format", check.format, "human | short (file:line:col: error: ...)")
      ->check(CLI::IsMember({"human", "short"}));
  check_cmd->add_flag("-q,--quiet", check.quiet, "Print nothing when the config is valid");
  check_cmd->footer(
      "\nExamples:\n  freshet check /etc/freshet/pipeline.yaml\n"
      "  freshet check --format short config/demo.yaml");

  cli::RunArgs run;
  auto* run_cmd =
      app.add_subcommand("run", "Run the pipeline until its bounded inputs end or it is stopped");
  run_cmd->add_option("-c,--config", run.file, "The YAML config")->required();
  run_cmd->add_option("--duration", run.duration, "Stop after this long, e.g. 30s or 5m");
  run_cmd->add_flag("--reset", run.reset,
                    "Delete the log in data_dir and truncate the output files first");
  run_cmd->footer(
      "\nExamples:\n  freshet run --config config/demo.yaml --reset\n"
      "  freshet run -c pipeline.yaml --duration 1m");

  cli::ConsumeArgs consume;
  auto* consume_cmd = app.add_subcommand("consume", "Print a topic's record values, one per line");
  consume_cmd->add_option("topic", consume.topic, "Topic name")->required();
  consume_cmd->add_option("-c,--config", consume.file, "The YAML config naming the data_dir")
      ->required();
  consume_cmd->add_option("-p,--partition", consume.partition, "Only this partition");
  consume_cmd->add_option("--max", consume.max, "Stop after this many records");
  consume_cmd->footer(
      "\nReads the log on disk; partitions are printed one after another.\n"
      "Example:\n  freshet consume payments -c config/demo.yaml --max 10");

  app.add_subcommand("version", "Print the version")->callback([] {});

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 exits with 100-127; the convention (and the systemd unit) expects EX_USAGE.
    app.exit(e);
    return kExitUsage;
  }
  log::set_level(log_level == "error"   ? log::Level::kError
                 : log_level == "warn"  ? log::Level::kWarn
                 : log_level == "debug" ? log::Level::kDebug
                                        : log::Level::kInfo);
  if (app.got_subcommand("version")) {
    std::printf("%s\n", cli::version_string().c_str());
    return kExitOk;
  }
  if (*check_cmd) {
    if (check.file.empty()) {
      std::fprintf(
          stderr,
          "freshet check: a config FILE is required\nRun with --help for more information.\n");
      return kExitUsage;
    }
    return cli::check_command(check);
  }
  if (*run_cmd) return cli::run_command(run);
  if (*consume_cmd) return cli::consume_command(consume);
  return kExitUsage;
}
