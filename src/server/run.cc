#include <signal.h>
#include <time.h>

#include "chaining.h"
#include "freshet/base/exit_codes.h"
#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "freshet/server/server.h"
#include "freshet/server/topic_catalog.h"
#include "freshet/shard/runtime.h"
#include "journal.h"
#include "pipeline.h"
#include "shard_state.h"

namespace freshet::server {
namespace {

// Prepares the data dir: takes its lock (held for the life of the process) and makes sure
// no earlier run's log is silently mixed into this one.
Result<bool> topic_has_data(io::FileSystem& fs, const TopicCatalog& catalog,
                            const std::string& topic) {
  FRESHET_ASSIGN_OR_RETURN(bool exists, fs.exists(catalog.topic_dir(topic)));
  if (!exists) return false;
  FRESHET_ASSIGN_OR_RETURN(auto entries, fs.list_dir(catalog.topic_dir(topic)));
  for (const auto& e : entries) {
    if (e == "topic.json") continue;
    auto files = fs.list_dir(catalog.topic_dir(topic) + "/" + e);
    if (!files || !files->empty()) return true;
  }
  return false;
}

Result<io::UniqueFd> prepare_data_dir(io::FileSystem& fs, const config::Config& config,
                                      const RunOptions& options) {
  FRESHET_TRY(fs.mkdirs(config.data_dir + "/topics"));
  FRESHET_ASSIGN_OR_RETURN(auto lock, fs.lock_file(config.data_dir + "/.lock"));
  TopicCatalog catalog(fs, config.data_dir);
  for (const auto& [name, topic] : config.topics) {
    FRESHET_ASSIGN_OR_RETURN(bool has_data, topic_has_data(fs, catalog, name));
    if (options.replay_journal) {
      // A replay reads the log as it is; it is the input, and it must be there.
      if (config.checkpoint)
        return make_error(ErrorCode::kUnavailable,
                          "--replay-journal reruns the queries from offset 0 and cannot "
                          "resume checkpoint state; replay a pipeline without `checkpoint:`");
      if (!has_data)
        return make_error(ErrorCode::kUnavailable,
                          "--replay-journal: topic `{}` in {} holds no log to replay", name,
                          config.data_dir);
    } else if (has_data && options.reset) {
      FRESHET_TRY(catalog.remove(name));
    } else if (has_data && !config.checkpoint) {
      // Without checkpoints nothing says where the queries were: rerunning them from the
      // start would write every output row again.
      return make_error(ErrorCode::kUnavailable,
                        "topic `{}` in {} holds the log of an earlier run, and without "
                        "checkpoints this run cannot resume it. Add `checkpoint: {{ interval: "
                        "10s }}` to resume runs, or start over with `freshet run --reset`, which "
                        "deletes the logs of the config's topics and truncates the output files",
                        name, config.data_dir);
    }
    // Only a replay keeps the record of a topic's ended input (journal.h): this run's sources
    // may write more.
    if (!options.replay_journal)
      FRESHET_TRY(clear_topic_end(fs, config.data_dir, name, topic.partitions));
    FRESHET_TRY(catalog.create(topic));
  }
  return lock;
}

void print_summary(Pipeline& p, int64_t elapsed_ns) {
  const double secs = static_cast<double>(elapsed_ns) * 1e-9;
  for (size_t qi = 0; qi < p.queries().size(); ++qi) {
    uint64_t records = 0, filtered = 0, malformed = 0, late = 0, clamped = 0, resumed = 0;
    for (uint32_t s = 0; s < p.shard_count(); ++s) {
      const auto& q = p.state(ShardId(s)).queries()[qi];
      records += q.records;
      filtered += q.filtered;
      malformed += q.malformed;
      late += q.late;
      clamped += q.future_clamped;
      resumed += q.late_after_idle_resume;
    }
    log::info(
        "query {}: {} records in {:.2f}s ({:.0f}/s), {} filtered out, {} malformed, {} late "
        "({} after_idle_resume), {} stamped beyond max_future_skew",
        p.queries()[qi].name, records, secs, secs > 0 ? static_cast<double>(records) / secs : 0.0,
        filtered, malformed, late, resumed, clamped);
    if (const uint64_t held = p.times_held(qi); held > 0)
      log::info("query {}: held back {} time(s) by a sink whose writes fell behind",
                p.queries()[qi].name, held);
    const auto& info = p.queries()[qi];
    if (const DurationMs spread = p.max_spread(qi); spread >= 0 && info.partitions > 1)
      log::info("query {}: the watermarks of `{}`'s partitions were at most {} ms apart ({})",
                info.name, info.topic, spread,
                info.max_drift ? fmt::format("max_drift {} ms", *info.max_drift)
                               : std::string("no max_drift"));
  }
  if (p.checkpointing()) {
    const auto& c = p.checkpoint_stats();
    log::info("checkpoints: {} committed (last: epoch {}, {:.1f} ms, {} bytes){}",
              c.completed.load(), c.last_epoch.load(),
              static_cast<double>(c.last_duration_us.load()) / 1000, c.last_bytes.load(),
              p.restored_epoch() == 0
                  ? std::string()
                  : fmt::format("; restoring checkpoint {} took {:.1f} ms", p.restored_epoch(),
                                static_cast<double>(c.recovery_us.load()) / 1000));
  }
  for (size_t si = 0; si < p.sinks().size(); ++si) {
    const auto& s = p.state(p.sinks()[si].owner).sinks()[si];
    if (s && s->main.file)
      log::info("sink {}: {} rows written to {}{}", p.sinks()[si].config.name,
                s->main.file->rows_written(), s->main.file->path(),
                s->times_full == 0
                    ? std::string()
                    : fmt::format("; its writes fell behind {} time(s), by {} bytes at most, "
                                  "and held its queries back",
                                  s->times_full, s->most_queued));
  }
}

}  // namespace

int run(config::Config config, Plans plans, RunOptions options) {
  io::FileSystem& fs = io::posix_file_system();
  add_chain_topics(config, plans);
  auto lock = prepare_data_dir(fs, config, options);
  if (!lock) {
    log::error("{}", lock.error().message);
    return lock.error().code == ErrorCode::kUnavailable ? kExitTempFail : kExitIoErr;
  }

  // Shard threads inherit this mask, so signals are taken only here, with sigtimedwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  shard::RuntimeOptions ro;
  ro.shards = config.server.shards;
  auto runtime = shard::Runtime::create(ro);
  if (!runtime) {
    log::error("{}", runtime.error().message);
    return runtime.error().code == ErrorCode::kUnavailable ? kExitUnavailable : kExitFailure;
  }
  const uint32_t shards = (*runtime)->shard_count();
  Pipeline pipeline(std::move(config), std::move(plans), options, shards);
  for (const auto& s : pipeline.sinks())
    log::info("sink {} writes {} (shard {})", s.config.name,
              s.config.type == config::SinkType::kTopic ? "topic " + s.config.topic : s.config.path,
              s.owner);
  log::info("running on {} shard{}: {} topic(s), {} source(s), {} quer{}, {} sink(s)", shards,
            shards == 1 ? "" : "s", pipeline.config().topics.size(),
            pipeline.config().sources.size(), pipeline.queries().size(),
            pipeline.queries().size() == 1 ? "y" : "ies", pipeline.sinks().size());
  if (auto st = pipeline.prepare_checkpoints(**runtime); !st) {
    log::error("{}", st.error().message);
    return st.error().code == ErrorCode::kConfig ? kExitConfig : kExitFailure;
  }
  const int64_t started = monotonic_ns();
  if (auto st = (*runtime)->start([&](shard::Shard& s) { pipeline.init_shard(s); }); !st) {
    log::error("{}", st.error().message);
    return kExitFailure;
  }

  int64_t shutdown_at = 0;
  int64_t final_at = 0;  // when the final checkpoint was asked for (checkpointing only)
  bool final_requested = false;
  bool interrupted = false;
  auto request_final = [&] {
    final_requested = true;
    (*runtime)->submit_to(ShardId(0), [&pipeline] { pipeline.coordinator().request_final(); });
  };
  const int64_t deadline = options.duration ? started + *options.duration * 1000000 : 0;
  for (;;) {
    timespec tick{0, 20 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &tick);
    const int64_t now = monotonic_ns();
    if (sig == SIGINT || sig == SIGTERM) {
      if (shutdown_at != 0 || final_at != 0) {
        log::warn("second {}: exiting without flushing", sig == SIGINT ? "SIGINT" : "SIGTERM");
        return kExitFailure;
      }
      log::info("{}: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      interrupted = true;
    } else if (sig == SIGHUP) {
      log::warn("SIGHUP: configuration reload is not supported yet; keeping the running config");
    }
    bool want_stop = interrupted || pipeline.finished() || pipeline.failed() ||
                     (deadline != 0 && now >= deadline) ||
                     (options.replay_journal && pipeline.replay_finished());
    if (pipeline.checkpointing() && !pipeline.failed() && want_stop) {
      // Stopping with checkpoints: the last one commits everything before the shards stop.
      // --drain first runs every input to its end so every window fires; otherwise the open
      // windows are saved and go on at the next start (suspend).
      if (final_at == 0) {
        final_at = now;
        if (options.drain && !pipeline.finished()) {
          log::info("draining: sources stop, every window fires, then a final checkpoint");
          pipeline.start_drain();
          for (uint32_t s = 0; s < shards; ++s) (*runtime)->submit_to(ShardId(s), [] {});
        } else {
          request_final();
        }
      }
      if (!final_requested && pipeline.finished()) request_final();
      want_stop = pipeline.final_committed();
      if (!want_stop && now - final_at > 60'000'000'000) {
        log::error("the final checkpoint did not finish within 60s; stopping without it");
        want_stop = true;
      }
    }
    if (want_stop && shutdown_at == 0) {
      shutdown_at = now;
      pipeline.request_shutdown();
      // The request is a flag the shards read when they run; wake any that sleep until their
      // next timer, or stopping waits for it (up to a second).
      for (uint32_t s = 0; s < shards; ++s) (*runtime)->submit_to(ShardId(s), [] {});
    }
    if (shutdown_at != 0) {
      if (pipeline.shards_stopped() == shards) break;
      if (now - shutdown_at > 5'000'000'000) {
        log::error("shards did not stop within 5s; exiting");
        break;
      }
    }
  }
  pipeline.stop_worker();
  (*runtime)->request_stop();
  (*runtime)->join();
  print_summary(pipeline, monotonic_ns() - started);
  if (pipeline.failed()) {
    log::error("{}", pipeline.failure());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace freshet::server
