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

}  // namespace

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

std::optional<DataDir> open_data_dir(const std::string& file, const char* command, int& exit_code) {
  auto l = load(file, DiagnosticFormat::kHuman);
  exit_code = l.exit_code;
  if (exit_code != kExitOk) return std::nullopt;
  auto& fs = io::posix_file_system();
  exit_code = kExitTempFail;
  if (auto st = fs.mkdirs(l.config->data_dir); !st) {
    std::fprintf(stderr, "freshet %s: %s\n", command, st.error().message.c_str());
    return std::nullopt;
  }
  auto lock = fs.lock_file(l.config->data_dir + "/.lock");
  if (!lock) {
    std::fprintf(stderr, "freshet %s: %s\n", command, lock.error().message.c_str());
    return std::nullopt;
  }
  exit_code = kExitOk;
  server::TopicCatalog catalog(fs, l.config->data_dir);
  return DataDir{std::move(*l.config), std::move(*lock), std::move(catalog)};
}

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
  options.drain = args.drain;
  options.replay_journal = args.replay_journal;
  options.reset_state = args.reset_state;
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

}  // namespace freshet::cli
