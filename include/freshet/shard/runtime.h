#pragma once
// Runtime: creates the shards (one per core), the full mesh of cross-shard queues, and the
// shard threads; stops them cleanly. The process has one Runtime, owned by main().
//
// Lifecycle: create() -> start(init) -> ... -> request_stop() -> join() -> destroy.
// create() sets up every io_uring before any thread starts, so an io_uring failure is
// reported (with its fix) while the process can still exit cleanly.
//
// Thread-safety: create/start/join/destroy from the owning (main) thread; request_stop,
// stop_requested and submit_to from any thread. Shard threads block SIGINT, SIGTERM and
// SIGHUP so that the main thread can take them with sigwait().

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "freshet/base/result.h"
#include "freshet/shard/shard.h"

namespace freshet::shard {

struct RuntimeOptions {
  uint32_t shards = 0;             // 0: one per CPU this process may run on (sched_getaffinity)
  bool pin = true;                 // pin shard i to the i-th allowed CPU (round-robin)
  unsigned ring_entries = 256;     // io_uring SQ entries per shard
  uint32_t queue_capacity = 1024;  // tasks per cross-shard queue (rounded up to a power of 2)
  // How long an idle shard keeps polling before it sleeps. Spinning trades CPU for latency:
  // a sleeping shard costs an eventfd write and a wake-up (tens of µs in a VM) per message.
  std::chrono::microseconds idle_poll{0};
};

class Runtime {
 public:
  static Result<std::unique_ptr<Runtime>> create(const RuntimeOptions& options = {});
  // Requests a stop and joins if the threads are still running.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Starts one thread per shard. Each runs init(shard) on its own thread before its loop
  // (and before any task from another shard). Returns once every thread exists.
  [[nodiscard]] Status start(std::function<void(Shard&)> init);
  // Asks every shard to stop: each runs its on_stop callbacks, then all shards keep running
  // until no task is queued or running anywhere, then their loops exit. Idempotent.
  void request_stop();
  bool stop_requested() const { return stop_requested_.load(std::memory_order_acquire); }
  // Waits for every shard thread to exit. Idempotent.
  void join();

  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }
  // For wiring before start() and for tests; use a shard only from its own thread.
  Shard& shard(ShardId id) { return *shards_[id.value()]; }
  // Runs `task` on `target`, from any thread (not the hot path: it takes a mutex). Tasks
  // submitted after the runtime has stopped are destroyed without running.
  void submit_to(ShardId target, Task task);

 private:
  friend class Shard;
  struct ThreadStart;

  Runtime() = default;
  static void* thread_main(void* arg);
  // On shard 0 during a stop: whether no task is queued or running anywhere.
  bool check_quiescent();
  void wake_all();

  RuntimeOptions options_;
  std::vector<int> cpus_;  // CPUs this process may use, from sched_getaffinity
  std::vector<std::unique_ptr<SpscQueue<Task>>> queues_;  // [source * n + target]
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<pthread_t> threads_;
  std::function<void(Shard&)> init_;
  bool started_ = false;
  bool joined_ = false;

  std::atomic<bool> stop_requested_{false};
  std::atomic<uint32_t> stop_callbacks_done_{0};  // shards whose on_stop callbacks ran
  std::atomic<bool> quiescent_{false};            // set by shard 0: every loop may exit
  // Shard 0's previous reading of every shard's (sent, received), for the two-wave check.
  std::vector<uint64_t> last_wave_;
};

}  // namespace freshet::shard
