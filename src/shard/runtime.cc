#include "freshet/shard/runtime.h"

#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstring>

#include "freshet/base/log.h"

namespace freshet::shard {
namespace {

Result<std::vector<int>> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) {
    return errno_error(errno, "read the CPUs this process may use (sched_getaffinity)");
  }
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

// The signals the main thread takes with sigwait(); no shard thread may receive them.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

struct Runtime::ThreadStart {
  Runtime* runtime;
  Shard* shard;
};

Result<std::unique_ptr<Runtime>> Runtime::create(const RuntimeOptions& options) {
  std::unique_ptr<Runtime> rt(new Runtime());
  rt->options_ = options;
  FRESHET_ASSIGN_OR_RETURN(rt->cpus_, allowed_cpus());
  const uint32_t n = options.shards != 0 ? options.shards : static_cast<uint32_t>(rt->cpus_.size());

  // Rings first: an io_uring failure must surface here, before any thread exists.
  for (uint32_t i = 0; i < n; ++i) {
    auto ring = io::Ring::create(io::RingOptions{options.ring_entries, 0});
    if (!ring) return tl::unexpected(std::move(ring).error().context(fmt::format("shard {}", i)));
    int efd = ::eventfd(0, EFD_CLOEXEC);  // blocking: io_uring then waits on it with a poll
    if (efd < 0) return errno_error(errno, fmt::format("shard {}: create wake-up eventfd", i));
    rt->shards_.push_back(
        std::unique_ptr<Shard>(new Shard(*rt, ShardId(i), n, std::move(*ring), io::UniqueFd(efd))));
    rt->shards_.back()->idle_poll_ = options.idle_poll;
  }
  rt->queues_.resize(static_cast<size_t>(n) * n);
  for (uint32_t s = 0; s < n; ++s) {
    for (uint32_t t = 0; t < n; ++t) {
      if (s == t) continue;  // a shard's tasks to itself go through its posted list
      auto& q = rt->queues_[static_cast<size_t>(s) * n + t];
      q = std::make_unique<SpscQueue<Task>>(options.queue_capacity);
      rt->shards_[s]->outgoing_[t] = q.get();
      rt->shards_[t]->incoming_[s] = q.get();
    }
  }
  return rt;
}

Runtime::~Runtime() {
  if (started_ && !joined_) {
    request_stop();
    join();
  }
}

Status Runtime::start(std::function<void(Shard&)> init) {
  FRESHET_ASSERT(!started_, "Runtime::start called twice");
  init_ = std::move(init);
  // Threads inherit the creator's signal mask: block the stop signals around creation so
  // no shard thread can take one even before its first instruction.
  sigset_t block = stop_signals();
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &block, &old);
  Status status = ok();
  for (auto& shard : shards_) {
    pthread_t tid;
    auto* start = new ThreadStart{this, shard.get()};
    int err = pthread_create(&tid, nullptr, &Runtime::thread_main, start);
    if (err != 0) {
      delete start;
      status = errno_error(err, fmt::format("start the thread of shard {}", shard->id()));
      break;
    }
    threads_.push_back(tid);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  started_ = true;
  if (!status) {
    // Not every shard runs, so the stop protocol cannot count on them: end the started
    // loops at once (without on_stop callbacks, as start() never succeeded).
    stop_requested_.store(true, std::memory_order_seq_cst);
    quiescent_.store(true, std::memory_order_seq_cst);
    wake_all();
    join();
  }
  return status;
}

void* Runtime::thread_main(void* arg) {
  std::unique_ptr<ThreadStart> start(static_cast<ThreadStart*>(arg));
  Runtime& rt = *start->runtime;
  Shard& shard = *start->shard;
  const uint32_t index = shard.id().value();
  log::set_thread_tag(fmt::format("shard {}", index));
  std::string name = fmt::format("freshet-s{}", index);
  pthread_setname_np(pthread_self(), name.c_str());
  if (rt.options_.pin) {
    cpu_set_t set;
    CPU_ZERO(&set);
    const int cpu = rt.cpus_[index % rt.cpus_.size()];
    CPU_SET(cpu, &set);
    int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (err != 0) log::warn("cannot pin shard {} to CPU {}: {}", index, cpu, std::strerror(err));
  }
  shard.run(rt.init_);
  return nullptr;
}

void Runtime::request_stop() {
  stop_requested_.store(true, std::memory_order_seq_cst);
  wake_all();
}

void Runtime::join() {
  if (joined_ || !started_) return;
  for (pthread_t tid : threads_) pthread_join(tid, nullptr);
  joined_ = true;
}

void Runtime::submit_to(ShardId target, Task task) {
  FRESHET_ASSERT(target.value() < shard_count(), "submit_to shard {} of {}", target, shard_count());
  shards_[target.value()]->submit_external(std::move(task));
}

void Runtime::wake_all() {
  for (auto& shard : shards_) shard->wake();
}

bool Runtime::check_quiescent() {
  // Two-wave termination detection: every shard publishes (sent, received) at the end of
  // each turn, and all activity after on_stop is started by a counted task. If two
  // consecutive readings are identical, every counter held still across the moment between
  // them, so the readings are a consistent snapshot; if that snapshot has as many tasks run
  // as sent, nothing is queued, in overflow, or running anywhere.
  const size_t n = shards_.size();
  if (stop_callbacks_done_.load(std::memory_order_acquire) != n) return false;
  std::vector<uint64_t> wave(2 * n);
  uint64_t sent = 0;
  uint64_t received = 0;
  for (size_t i = 0; i < n; ++i) {
    wave[2 * i] = shards_[i]->sent_published_.load(std::memory_order_acquire);
    wave[2 * i + 1] = shards_[i]->received_published_.load(std::memory_order_acquire);
    sent += wave[2 * i];
    received += wave[2 * i + 1];
  }
  const bool steady = wave == last_wave_;
  last_wave_ = std::move(wave);
  return steady && sent == received;
}

}  // namespace freshet::shard
