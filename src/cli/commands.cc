#include "commands.h"

#include <unistd.h>

#include <cstdio>

#include "freshet/base/exit_codes.h"
#include "freshet/base/log.h"
#include "freshet/config/config.h"
#include "freshet/config/units.h"
#include "freshet/io/file_system.h"
#include "freshet/log/partition_log.h"
#include "freshet/server/server.h"
#include "freshet_build_info.h"

namespace freshet::cli {
namespace {

bool stderr_color() { return isatty(STDERR_FILENO) == 1 && getenv("NO_COLOR") == nullptr; }

struct Loaded {
  std::optional<config::Config> config;
  server::Plans plans;
  int exit_code = kExitOk;
};

// Loads, validates and compiles a config, printing every diagnostic. exit_code is 0 when the
// config can run.
Loaded load(const std::string& file, DiagnosticFormat format) {
  Loaded out;
  auto loaded = config::load_file(file);
  if (!loaded) {
    std::fprintf(stderr, "freshet: %s\n", loaded.error().message.c_str());
    out.exit_code = loaded.error().code == ErrorCode::kNotFound ? kExitNoInput : kExitIoErr;
    return out;
  }
  std::vector<Diagnostic> diags = std::move(loaded->diagnostics);
  if (loaded->config) out.plans = server::compile_queries(*loaded->config, diags);
  if (!diags.empty()) {
    std::string text = render_all(diags, loaded->source, format, stderr_color());
    std::fputs(text.c_str(), stderr);
    out.exit_code = kExitConfig;
    return out;
  }
  out.config = std::move(loaded->config);
  return out;
}

}  // namespace

std::string version_string() {
  return fmt::format("freshet {} ({})", FRESHET_VERSION, FRESHET_COMMIT);
}

int check_command(const CheckArgs& args) {
  auto l =
      load(args.file, args.format == "short" ? DiagnosticFormat::kShort : DiagnosticFormat::kHuman);
  if (l.exit_code != kExitOk) return l.exit_code;
  if (!args.quiet)
    std::printf("%s: valid: %zu topic(s), %zu source(s), %zu quer%s, %zu sink(s)\n",
                args.file.c_str(), l.config->topics.size(), l.config->sources.size(),
                l.config->queries.size(), l.config->queries.size() == 1 ? "y" : "ies",
                l.config->sinks.size());
  return kExitOk;
}

int run_command(const RunArgs& args) {
  server::RunOptions options;
  options.reset = args.reset;
  if (!args.duration.empty()) {
    auto d = config::parse_duration(args.duration);
    if (!d || *d <= 0) {
      std::fprintf(stderr, "freshet run: --duration %s: %s\n", args.duration.c_str(),
                   d ? "must be positive" : (d.error().message + "; " + d.error().hint).c_str());
      return kExitUsage;
    }
    options.duration = *d;
  }
  auto l = load(args.file, DiagnosticFormat::kHuman);
  if (l.exit_code != kExitOk) return l.exit_code;
  return server::run(std::move(*l.config), std::move(l.plans), options);
}

int consume_command(const ConsumeArgs& args) {
  auto l = load(args.file, DiagnosticFormat::kHuman);
  if (l.exit_code != kExitOk) return l.exit_code;
  const auto& cfg = *l.config;
  auto topic = cfg.topics.find(args.topic);
  if (topic == cfg.topics.end()) {
    std::fprintf(stderr, "freshet consume: no topic `%s` in %s\n", args.topic.c_str(),
                 args.file.c_str());
    return kExitUsage;
  }
  io::FileSystem& fs = io::posix_file_system();
  // Opening a partition may repair a torn tail, so it takes the same lock as a server.
  auto lock = fs.lock_file(cfg.data_dir + "/.lock");
  if (!lock) {
    std::fprintf(stderr, "freshet consume: %s\n", lock.error().message.c_str());
    return kExitTempFail;
  }
  uint64_t printed = 0;
  std::string out;
  for (int32_t p = 0; p < topic->second.partitions; ++p) {
    if (args.partition && *args.partition != p) continue;
    const std::string dir = fmt::format("{}/topics/{}/{}", cfg.data_dir, args.topic, p);
    auto exists = fs.exists(dir);
    if (!exists || !*exists) continue;
    log::PartitionOptions opts;
    opts.segment_bytes = topic->second.segment_bytes;
    auto part = log::PartitionLog::open(fs, dir, opts);
    if (!part) {
      std::fprintf(stderr, "freshet consume: %s\n", part.error().message.c_str());
      return kExitDataErr;
    }
    log::PartitionLog::Reader reader(**part);
    for (;;) {
      auto batch = reader.next();
      if (!batch) {
        std::fprintf(stderr, "freshet consume: %s\n", batch.error().message.c_str());
        return kExitDataErr;
      }
      if (!*batch) break;
      auto it = (*batch)->records();
      log::RecordView rec;
      while (it.next(rec)) {
        if (args.max && printed >= *args.max) break;
        out.append(rec.value.value_or("null"));
        out += '\n';
        ++printed;
        if (out.size() > (1 << 16)) {
          std::fwrite(out.data(), 1, out.size(), stdout);
          out.clear();
        }
      }
    }
    if (auto st = (*part)->close(); !st)
      std::fprintf(stderr, "freshet consume: %s\n", st.error().message.c_str());
    if (args.max && printed >= *args.max) break;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace freshet::cli
