// freshet: one binary, subcommands in the style of rpk and vector. Machine output goes to
// stdout, human notices to stderr; exit codes follow sysexits.h (base/exit_codes.h).

#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "commands.h"
#include "freshet/base/exit_codes.h"
#include "freshet/base/log.h"

int main(int argc, char** argv) {
  using namespace freshet;
  // Fired-row batches and sink buffers are megabytes each and live for one watermark step.
  // glibc would hand each its own mmap and unmap it on free, and trim arenas back to the
  // kernel, so every step paid page faults that zero fresh pages again (a tenth of a Nexmark
  // q5 run). Keep such blocks in the arenas for reuse instead; 32 MiB is glibc's ceiling.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
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
  run_cmd->add_flag("--drain", run.drain,
                    "On stop, end the inputs and fire every open window before the final "
                    "checkpoint (default: suspend, saving open windows for the next start)");
  run_cmd
      ->add_option("--reset-state", run.reset_state,
                   "Drop the saved state of this query (repeatable): it starts over from "
                   "the beginning of its topic")
      ->type_name("QUERY");
  run_cmd->add_flag("--replay-journal", run.replay_journal,
                    "Rerun the queries over the log already in data_dir, from offset 0, "
                    "applying the journaled idleness decisions and wall-clock watermark steps "
                    "instead of reading the clock; sources stay off, partitions whose bounded "
                    "input ended in the run end again, and the outputs are rewritten byte for "
                    "byte");
  run_cmd->footer(
      "\nExamples:\n  freshet run --config config/demo.yaml --reset\n"
      "  freshet run -c pipeline.yaml --duration 1m");

  cli::ConsumeArgs consume;
  auto* consume_cmd = app.add_subcommand("consume", "Print a topic's record values, one per line");
  consume_cmd->add_option("topic", consume.topic, "Topic name")->required();
  consume_cmd->add_option("-c,--config", consume.file, "The YAML config naming the data_dir")
      ->required();
  consume_cmd->add_option("-p,--partition", consume.partition, "Only this partition");
  bool from_beginning = false;  // the default; accepted because kcat and Kafka users type it
  consume_cmd->add_flag("--from-beginning", from_beginning, "From the first offset (the default)");
  auto* offset_opt =
      consume_cmd->add_option("--offset", consume.offset, "From this offset in each partition");
  consume_cmd
      ->add_option("--from-time", consume.from_time,
                   "From the first record stamped at or after T (RFC 3339 or epoch ms)")
      ->excludes(offset_opt);
  consume_cmd->add_option("--max", consume.max, "Stop after this many records");
  consume_cmd->footer(
      "\nReads the log on disk; partitions are printed one after another.\n"
      "Examples:\n  freshet consume payments -c config/demo.yaml --max 10\n"
      "  freshet consume payments -c config/demo.yaml -p 0 --offset 1000\n"
      "  freshet consume payments -c config/demo.yaml --from-time 2026-11-25T10:00:00Z");

  cli::ProduceArgs produce;
  auto* produce_cmd = app.add_subcommand("produce", "Append NDJSON from stdin to a topic");
  produce_cmd->add_option("topic", produce.topic, "Topic name")->required();
  produce_cmd->add_option("-c,--config", produce.file, "The YAML config naming the data_dir")
      ->required();
  produce_cmd->add_option("-k,--key-field", produce.key_field,
                          "Field whose value keys each record (default: the topic's key)");
  produce_cmd->add_flag("-q,--quiet", produce.quiet, "No per-record acknowledgements on stdout");
  produce_cmd->footer(
      "\nPrints {\"partition\":P,\"offset\":O} for each record once it is durable under\n"
      "the topic's fsync policy. Lines that are not JSON are reported and skipped (exit 65).\n"
      "Example:\n  echo '{\"card_id\":\"c-1\",\"amount\":3.5}' | freshet produce payments -c "
      "pipeline.yaml");

  cli::TopicArgs topic;
  auto* topic_cmd = app.add_subcommand("topic", "Create, list, describe and delete topics");
  topic_cmd->require_subcommand(1);
  for (const char* verb : {"create", "list", "describe", "delete"}) {
    auto* sub = topic_cmd->add_subcommand(verb, std::string(verb) + " topics in the data dir");
    sub->add_option("-c,--config", topic.file, "The YAML config naming the data_dir")->required();
    if (std::string(verb) != "list")
      sub->add_option("topic", topic.topic, "Topic name")->required();
    if (std::string(verb) == "create") {
      sub->add_option("-p,--partitions", topic.partitions, "Partition count (default 1)");
      sub->add_option("--segment-bytes", topic.segment_bytes, "Segment size, e.g. 128MiB");
      sub->add_option("--fsync", topic.fsync, "always | interval | never (default interval)");
      sub->add_option("-k,--key", topic.key_field, "Field that keys records");
    }
    if (std::string(verb) == "list" || std::string(verb) == "describe")
      sub->add_flag("--json", topic.json, "Machine-readable output");
    sub->callback([&topic, verb] { topic.verb = verb; });
  }
  topic_cmd->footer(
      "\nExamples:\n  freshet topic create clicks -c pipeline.yaml --partitions 8\n"
      "  freshet topic describe clicks -c pipeline.yaml");

  cli::NexmarkDataArgs nexmark;
  auto* bench_cmd = app.add_subcommand("bench", "Generate benchmark inputs");
  bench_cmd->require_subcommand(1);
  auto* nexmark_cmd =
      bench_cmd->add_subcommand("nexmark-data", "Write Nexmark events as JSON lines to stdout");
  nexmark_cmd->add_option("-n,--events", nexmark.events, "How many events (default 1000000)");
  nexmark_cmd->add_option("--density", nexmark.density,
                          "Event-time density: events per second of event time (default 100000/s)");
  nexmark_cmd->add_option("--seed", nexmark.seed, "Generator seed (default 1)");
  nexmark_cmd->footer(
      "\nPerson:auction:bid = 1:3:46, hot auctions and bidders (see bench/README.md).\n"
      "Example:\n  freshet bench nexmark-data -n 10000000 > nexmark.jsonl");

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
  if (*produce_cmd) return cli::produce_command(produce);
  if (*topic_cmd) return cli::topic_command(topic);
  if (*nexmark_cmd) return cli::bench_nexmark_data(nexmark);
  return kExitUsage;
}
