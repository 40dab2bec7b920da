#include "checkpointing.h"

#include <fcntl.h>
#include <signal.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "freshet/base/log.h"
#include "freshet/base/time.h"
#include "freshet/shard/runtime.h"
#include "pipeline.h"
#include "shard_state.h"

namespace freshet::server {

void crash_point(std::string_view step, uint64_t epoch) {
  static const char* const want = std::getenv("FRESHET_CRASH_AT");
  if (want == nullptr) return;
  std::string_view w(want);
  const auto colon = w.find(':');
  if (w.substr(0, colon) != step) return;
  if (colon != std::string_view::npos && std::to_string(epoch) != w.substr(colon + 1)) return;
  log::warn("FRESHET_CRASH_AT={}: killing the process at {} of epoch {}", want, step, epoch);
  raise(SIGKILL);
}

std::string CheckpointStats::prometheus(TimestampMs now) const {
  std::string out;
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help,
                    double value) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name,
                   type, name, value);
  };
  const int64_t last = last_success_ms.load(std::memory_order_relaxed);
  metric("freshet_checkpoints_completed_total", "counter", "Checkpoints committed.",
         static_cast<double>(completed.load(std::memory_order_relaxed)));
  metric("freshet_checkpoint_last_epoch", "gauge", "Epoch of the last committed checkpoint.",
         static_cast<double>(last_epoch.load(std::memory_order_relaxed)));
  metric("freshet_checkpoint_duration_seconds", "gauge",
         "Time from the barrier to the commit of the last checkpoint.",
         static_cast<double>(last_duration_us.load(std::memory_order_relaxed)) / 1e6);
  metric("freshet_checkpoint_size_bytes", "gauge",
         "State and staged output bytes of the last checkpoint.",
         static_cast<double>(last_bytes.load(std::memory_order_relaxed)));
  metric("freshet_checkpoint_last_success_timestamp_seconds", "gauge",
         "Wall-clock time of the last committed checkpoint.", static_cast<double>(last) / 1e3);
  metric("freshet_checkpoint_age_seconds", "gauge", "Seconds since the last committed checkpoint.",
         last > 0 ? static_cast<double>(now - last) / 1e3 : 0.0);
  metric("freshet_recovery_duration_seconds", "gauge",
         "Time the last start-up took to restore its checkpoint.",
         static_cast<double>(recovery_us.load(std::memory_order_relaxed)) / 1e6);
  return out;
}

namespace {

constexpr std::string_view kKindNames[3] = {"main", "late", "dead"};

const checkpoint::SinkFileEntry* find_entry(const checkpoint::Manifest* m, std::string_view sink,
                                            std::string_view kind, const std::string& path) {
  if (m == nullptr) return nullptr;
  for (const auto& e : m->sink_files)
    if (e.sink == sink && e.kind == kind && e.live_path == path) return &e;
  return nullptr;
}

std::string csv_header(const std::vector<std::string>& columns) {
  std::string h;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) h += ',';
    h += columns[i];
  }
  h += '\n';
  return h;
}

}  // namespace

Status TopicStaging::open(uint64_t keep) {
  FRESHET_TRY(fs_.mkdirs(dir_));
  FRESHET_ASSIGN_OR_RETURN(auto names, fs_.list_dir(dir_));
  for (const auto& n : names)
    if (n != fmt::format("{}.jsonl", keep)) FRESHET_TRY(fs_.unlink(dir_ + "/" + n));
  return ok();
}

Status TopicStaging::stage(uint64_t epoch, std::string_view bytes) {
  Staged& s = staged_[epoch];
  if (!s.fd) {
    FRESHET_ASSIGN_OR_RETURN(s.fd, fs_.open(path(epoch), O_WRONLY | O_CREAT | O_TRUNC));
  }
  FRESHET_TRY(fs_.pwrite(s.fd.get(), bytes.data(), bytes.size(), s.length));
  s.length += bytes.size();
  return ok();
}

Result<checkpoint::SinkFileEntry> TopicStaging::precommit(uint64_t epoch) {
  checkpoint::SinkFileEntry e;
  e.sink = sink_;
  e.kind = "topic";
  e.epoch = epoch;
  e.live_path = topic_;
  e.staging_path = path(epoch);
  if (auto it = staged_.find(epoch); it != staged_.end()) {
    FRESHET_TRY(fs_.fdatasync(it->second.fd.get()));
    e.staging_length = it->second.length;
    staged_.erase(it);
  }
  return e;
}

Status TopicStaging::forget_before(uint64_t epoch) {
  FRESHET_ASSIGN_OR_RETURN(auto names, fs_.list_dir(dir_));
  for (const auto& n : names) {
    const uint64_t e = std::strtoull(n.c_str(), nullptr, 10);
    if (e < epoch) FRESHET_TRY(fs_.unlink(dir_ + "/" + n));
  }
  return ok();
}

Status SinkFiles::open(const Pipeline& p, const checkpoint::Manifest* committed) {
  sinks_.resize(p.sinks().size());
  for (size_t si = 0; si < p.sinks().size(); ++si) {
    const auto& info = p.sinks()[si];
    if (info.config.delivery != config::Delivery::kExactlyOnce) continue;
    sinks_[si].name = info.config.name;
    by_name_[info.config.name] = si;
    if (info.config.type == config::SinkType::kTopic) {
      auto& t = sinks_[si].topic;
      t = std::make_unique<TopicStaging>(
          p.fs(),
          fmt::format("{}/checkpoints/topic-sinks/{}", p.config().data_dir, info.config.name),
          info.config.name, info.config.topic);
      FRESHET_TRY(t->open(committed ? committed->epoch : 0));
    }
    for (int kind = 0; kind < 3; ++kind) {
      if (kind == kMainFile && sinks_[si].topic) continue;
      const std::string path = sink_file_path(info.config.path, kind);
      const auto* entry = find_entry(committed, info.config.name, kKindNames[kind], path);
      // The main file always exists; late and dead-letter files once they have rows, or
      // now when a checkpoint published to them (their recovery cannot wait).
      if (kind == kMainFile || entry != nullptr)
        FRESHET_TRY(file(si, kind, p, entry).map([](auto*) {}));
    }
  }
  return ok();
}

Result<sinks::CommittedFile*> SinkFiles::file(size_t si, int kind, const Pipeline& p,
                                              const checkpoint::SinkFileEntry* committed) {
  auto& slot = sinks_[si].kinds[kind];
  if (slot) return slot.get();
  const auto& info = p.sinks()[si];
  sinks::CommittedFileOptions o;
  o.path = sink_file_path(info.config.path, kind);
  if (kind == kMainFile && info.config.format == config::SinkFormat::kCsv)
    o.header = csv_header(info.columns);
  if (kind == kMainFile) {
    o.rotate_max_bytes = info.config.rotate_max_bytes;
    o.rotate_max_age = info.config.rotate_max_age;
  }
  FRESHET_ASSIGN_OR_RETURN(slot, sinks::CommittedFile::open(p.fs(), o, committed));
  return slot.get();
}

void SinkFiles::stage(size_t si, int kind, uint64_t epoch, std::string_view bytes, Pipeline& p) {
  if (kind == kMainFile && sinks_[si].topic) {
    if (auto st = sinks_[si].topic->stage(epoch, bytes); !st)
      p.fail(fmt::format("sink {}: {}", p.sinks()[si].config.name, st.error().message));
    return;
  }
  auto f = file(si, kind, p, nullptr);
  Status st = f ? (*f)->stage(epoch, bytes) : Status(tl::unexpected(f.error()));
  if (!st) p.fail(fmt::format("sink {}: {}", p.sinks()[si].config.name, st.error().message));
}

Result<std::vector<checkpoint::SinkFileEntry>> SinkFiles::precommit(
    const std::vector<size_t>& sinks, uint64_t epoch) {
  std::vector<checkpoint::SinkFileEntry> out;
  const TimestampMs now = wall_clock_ms();
  for (size_t si : sinks) {
    if (sinks_[si].topic) {
      FRESHET_ASSIGN_OR_RETURN(auto e, sinks_[si].topic->precommit(epoch));
      out.push_back(std::move(e));
    }
    for (int kind = 0; kind < 3; ++kind) {
      auto& f = sinks_[si].kinds[kind];
      if (!f) continue;
      FRESHET_ASSIGN_OR_RETURN(auto e, f->precommit(epoch, now));
      e.sink = sinks_[si].name;
      e.kind = std::string(kKindNames[kind]);
      out.push_back(std::move(e));
    }
  }
  return out;
}

Status SinkFiles::publish(const checkpoint::SinkFileEntry& e, uint64_t) {
  auto it = by_name_.find(e.sink);
  if (it == by_name_.end()) return ok();
  for (int kind = 0; kind < 3; ++kind)
    if (kKindNames[kind] == e.kind && sinks_[it->second].kinds[kind])
      return sinks_[it->second].kinds[kind]->publish(e);
  return ok();
}

Status SinkFiles::forget_before(uint64_t epoch) {
  for (auto& s : sinks_) {
    for (auto& f : s.kinds)
      if (f) FRESHET_TRY(f->forget_before(epoch));
    if (s.topic) FRESHET_TRY(s.topic->forget_before(epoch));
  }
  return ok();
}

Coordinator::Coordinator(Pipeline& p, shard::Shard& shard, uint64_t last_epoch,
                         std::deque<checkpoint::Manifest> retained)
    : p_(p), shard_(shard), epoch_(last_epoch), retained_(std::move(retained)) {}

void Coordinator::start() {
  broadcast_floor();
  shard_.schedule_after(std::chrono::milliseconds(p_.config().checkpoint->interval),
                        [this] { begin(); });
}

void Coordinator::request_final() {
  final_requested_ = true;
  if (!in_flight_) begin();
}

void Coordinator::request_early() {
  if (in_flight_)
    early_ = true;
  else
    begin();
}

void Coordinator::begin() {
  if (in_flight_ || p_.failed() || final_epoch_started_) return;
  in_flight_ = true;
  final_epoch_started_ = final_requested_;
  ++epoch_;
  began_ns_ = monotonic_ns();
  reports_.assign(p_.shard_count(), {});
  reported_ = 0;
  crash_point("before_snapshot", epoch_);
  Pipeline* p = &p_;
  for (uint32_t s = 0; s < p_.shard_count(); ++s)
    shard_.submit_to(ShardId(s), [p, e = epoch_] { p->local().inject_barrier(e); });
}

void Coordinator::shard_done(ShardReport report) {
  const size_t s = report.shard.value();
  reports_[s] = std::move(report);
  if (++reported_ < p_.shard_count()) return;
  Pipeline* p = &p_;
  const uint64_t epoch = epoch_;
  const int64_t began = began_ns_;
  const bool posted = p_.worker().post([this, epoch, began, r = std::move(reports_)]() mutable {
    commit_job(epoch, std::move(r), began);
  });
  if (!posted) p->fail("checkpoint worker stopped while a checkpoint was in flight");
}

// On the worker thread: everything durable, then the one rename, then publish.
void Coordinator::commit_job(uint64_t epoch, std::vector<ShardReport> reports, int64_t began) {
  Pipeline* p = &p_;
  auto done = [p, this, epoch, began](bool good, uint64_t bytes,
                                      std::optional<checkpoint::Manifest> m) {
    p->runtime().submit_to(ShardId(0), [this, epoch, good, began, bytes, m = std::move(m)] {
      if (m) retained_.push_back(*m);
      committed(epoch, good, began, bytes);
    });
  };
  for (const auto& r : reports) {
    if (!r.error.empty()) {
      p->fail(fmt::format("checkpoint {}: shard {}: {}", epoch, r.shard, r.error));
      done(false, 0, std::nullopt);
      return;
    }
  }
  crash_point("after_snapshot", epoch);
  checkpoint::Manifest m;
  m.epoch = epoch;
  m.created_ms = wall_clock_ms();
  m.shard_count = p->shard_count();
  uint64_t bytes = 0;
  for (size_t qi = 0; qi < p->queries().size(); ++qi) {
    const auto& info = p->queries()[qi];
    checkpoint::QueryEntry q;
    q.name = info.name;
    q.state_fingerprint = info.plan->state_fingerprint();
    for (const auto& r : reports)
      for (const auto& [part, off] : r.offsets[qi])
        q.inputs.push_back({info.topic, PartitionId(part), off});
    std::sort(q.inputs.begin(), q.inputs.end(),
              [](const auto& a, const auto& b) { return a.partition < b.partition; });
    m.queries.push_back(std::move(q));
  }
  for (auto& r : reports) {
    if (r.state) {
      bytes += r.state->bytes;
      m.state_files.push_back(*r.state);
    }
    for (auto& e : r.sink_files) {
      bytes += e.staging_length;
      m.sink_files.push_back(std::move(e));
    }
  }
  if (auto st = p->store().commit(m, [epoch] { crash_point("before_rename", epoch); }); !st) {
    p->fail(fmt::format("checkpoint {}: {}", epoch, st.error().message));
    done(false, 0, std::nullopt);
    return;
  }
  crash_point("after_rename", epoch);
  bool first = true;
  for (const auto& e : m.sink_files) {
    Status st = e.kind == "topic" ? publish_topic(e) : p->sink_files().publish(e, epoch);
    if (!st) {
      p->fail(fmt::format("publishing {} of checkpoint {}: {}", e.live_path, epoch,
                          st.error().message));
      done(false, 0, std::nullopt);
      return;
    }
    if (first) crash_point("during_publish", epoch);
    first = false;
  }
  crash_point("after_publish", epoch);
  // Topic sinks whose inputs had ended published their last rows just now.
  for (const auto& r : reports)
    for (const auto& topic : r.ended_topics)
      for (uint32_t s = 0; s < p->shard_count(); ++s)
        p->runtime().submit_to(ShardId(s), [p, topic] { p->local().end_topic(topic); });
  // The previous epochs' staging files are no longer needed to redo a publish.
  Status st = p->sink_files().forget_before(epoch);
  // Keep `retained` checkpoints, and never fewer than two (semantics §3.7 step 7): if the
  // newest turned out unreadable, the one before is still there. Older ones go, oldest first.
  if (st) {
    auto epochs = p->store().committed_epochs();
    if (!epochs) st = tl::unexpected(epochs.error());
    const size_t keep = std::max<uint32_t>(p->config().checkpoint->retained, 2);
    for (size_t i = 0; st && epochs && i + keep < epochs->size(); ++i)
      st = p->store().remove_epoch((*epochs)[i]);
  }
  if (!st) log::warn("checkpoint {}: cleaning up older checkpoints: {}", epoch, st.error().message);
  done(true, bytes, std::move(m));
}

// On the worker: every shard appends the rows for the partitions it owns, and this waits.
Status Coordinator::publish_topic(const checkpoint::SinkFileEntry& e) {
  if (e.staging_length == 0) return ok();
  Pipeline* p = &p_;
  struct Latch {
    std::mutex mu;
    std::condition_variable cv;
    uint32_t left;
    std::string error;
  };
  auto latch = std::make_shared<Latch>();
  latch->left = p_.shard_count();
  for (uint32_t s = 0; s < p_.shard_count(); ++s) {
    p_.runtime().submit_to(ShardId(s), [p, e, latch] {
      Status st = p->local().publish_topic_rows(e);
      std::lock_guard lock(latch->mu);
      if (!st && latch->error.empty()) latch->error = st.error().message;
      if (--latch->left == 0) latch->cv.notify_all();
    });
  }
  std::unique_lock lock(latch->mu);
  latch->cv.wait(lock, [&] { return latch->left == 0; });
  if (!latch->error.empty()) return make_error(ErrorCode::kIo, "{}", latch->error);
  return ok();
}

void Coordinator::committed(uint64_t epoch, bool good, int64_t began, uint64_t bytes) {
  in_flight_ = false;
  if (good) {
    auto& s = p_.checkpoint_stats();
    s.completed.fetch_add(1, std::memory_order_relaxed);
    s.last_epoch.store(epoch, std::memory_order_relaxed);
    s.last_duration_us.store((monotonic_ns() - began) / 1000, std::memory_order_relaxed);
    s.last_bytes.store(bytes, std::memory_order_relaxed);
    s.last_success_ms.store(wall_clock_ms(), std::memory_order_relaxed);
    const size_t keep = std::max<uint32_t>(p_.config().checkpoint->retained, 2);
    while (retained_.size() > keep) retained_.pop_front();
    broadcast_floor();
    Pipeline* p = &p_;
    const bool posted = p_.worker().post([p] {
      // Best effort: metrics must never stop the pipeline.
      const std::string dir = p->config().data_dir + "/metrics";
      if (!p->fs().mkdirs(dir)) return;
      const std::string text =
          p->checkpoint_stats().prometheus(wall_clock_ms()) + p->watermark_prometheus();
      auto fd = p->fs().open(dir + "/checkpoint.prom.tmp", O_WRONLY | O_CREAT | O_TRUNC);
      if (!fd || !p->fs().pwrite(fd->get(), text.data(), text.size(), 0)) return;
      (void)p->fs().rename(dir + "/checkpoint.prom.tmp", dir + "/checkpoint.prom");
    });
    (void)posted;
  }
  if (final_epoch_started_) {
    if (good) p_.set_final_committed();
    return;
  }
  if (final_requested_ || early_) {
    early_ = false;
    begin();
    return;
  }
  shard_.schedule_after(std::chrono::milliseconds(p_.config().checkpoint->interval),
                        [this] { begin(); });
}

void Coordinator::broadcast_floor() {
  std::map<std::pair<std::string, int32_t>, Offset> floor;
  for (const auto& m : retained_)
    for (const auto& q : m.queries)
      for (const auto& in : q.inputs) {
        auto key = std::make_pair(in.topic, in.partition.value());
        auto it = floor.find(key);
        if (it == floor.end() || in.offset < it->second) floor[key] = in.offset;
      }
  Pipeline* p = &p_;
  for (uint32_t s = 0; s < p_.shard_count(); ++s)
    shard_.submit_to(ShardId(s), [p, floor] { p->local().set_checkpoint_floor(floor); });
}

}  // namespace freshet::server
