#pragma once
// Shard: one core's reactor. It owns one pinned thread, one io_uring (ring()), its timers,
// its pollers and the consuming ends of the cross-shard queues addressed to it. Everything a
// shard owns is touched only by its thread, so shard-local state needs no locks; shards talk
// only by moving Tasks through SPSC queues (a full mesh, one queue per ordered pair).
//
// Lifecycle: Runtime::create builds every Shard; Runtime::start runs each shard's loop on
// its own thread; Runtime::request_stop makes every shard run its on_stop callbacks, drain
// all queued work, and exit; the Runtime destroys the shards after joining the threads.
//
// Thread-safety: every method must be called on this shard's own thread (checked in debug
// builds), except id() and shard_count(). To reach a shard from another thread use
// Runtime::submit_to. The Runtime owns the shards; a Shard& stays valid until the Runtime
// is destroyed.
//
// One loop turn: run tasks from other shards (a budget per source), tasks posted to self,
// due timers, pollers, and ready ring completions. If none of them did any work the shard
// announces that it is going to sleep, rechecks its queues, and blocks in the ring until a
// completion, a wake-up (an eventfd read kept in flight) or the next timer.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "freshet/base/ids.h"
#include "freshet/io/ring.h"
#include "freshet/io/unique_fd.h"
#include "freshet/shard/spsc_queue.h"
#include "freshet/shard/task.h"
#include "freshet/shard/timer_set.h"

namespace freshet::shard {

class Runtime;

struct PollerIdTag {};
using PollerId = StrongId<uint64_t, PollerIdTag>;

class Shard {
 public:
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;
  ~Shard();

  ShardId id() const { return id_; }
  uint32_t shard_count() const { return shard_count_; }
  io::Ring& ring() { return *ring_; }
  Runtime& runtime() { return runtime_; }

  // Runs `task` on `target`. Tasks from one shard to one target run in submission order.
  // If target is this shard, the task runs on a later loop turn. Never blocks: when the
  // queue to `target` is full the task waits in a local overflow list, retried every turn.
  void submit_to(ShardId target, Task task);

  // Runs fn() on `target`, then done(result) back on this shard (done() if fn returns void).
  // fn, done and the result are moved across shards; none may refer to shard-local state of
  // the other side.
  template <typename F, typename Done>
  void submit_to(ShardId target, F&& fn, Done&& done);

  // Whether tasks to `target` are waiting in the overflow list because its queue was full:
  // the signal for a producer to slow down (submit_to itself never refuses work).
  bool backlogged(ShardId target) const { return !overflow_[target.value()].empty(); }

  // Runs `task` on this shard on a later loop turn (after the current task returns).
  void post(Task task);

  // Runs `task` once after `delay`. Timers with the same deadline run in scheduling order.
  TimerId schedule_after(std::chrono::nanoseconds delay, Task task);
  // Runs `task` every `period` (> 0), first after one period.
  TimerId schedule_every(std::chrono::nanoseconds period, Task task);
  // Cancels a pending timer; a no-op if it already fired or was cancelled.
  void cancel_timer(TimerId id);

  // `poller` runs every loop turn and returns whether it did work; while any poller does,
  // the shard does not sleep. Pollers stop running once a stop is requested.
  PollerId add_poller(Poller poller);
  void remove_poller(PollerId id);

  // Runs `task` on this shard when a stop is requested, before its queues are drained and
  // its loop exits: the place to flush outputs. Callbacks run in registration order and may
  // submit work to other shards, which still runs. They may block, but asynchronous ring I/O
  // they start is not waited for: complete it before returning.
  void on_stop(Task task);
  // Whether this shard has begun stopping (its on_stop callbacks have run or are running).
  bool stopping() const { return stop_seen_; }

 private:
  friend class Runtime;
  friend struct ShardTestAccess;

  // Keeps one read of the wake-up eventfd in flight in the ring.
  struct WakeCompletion final : io::Completion {
    void complete(int32_t res, uint32_t flags) override;
    Shard* shard = nullptr;
    uint64_t value = 0;
  };
  struct PollerSlot {
    PollerId id;
    Poller fn;
    bool removed = false;
  };

  Shard(Runtime& runtime, ShardId id, uint32_t shard_count, std::unique_ptr<io::Ring> ring,
        io::UniqueFd wake_fd);
  void check_owner() const;

  // The loop, on the shard's thread, after init(*this); returns once the runtime is
  // quiescent after a stop.
  void run(const std::function<void(Shard&)>& init);
  bool run_turn();
  bool drain_incoming();
  bool drain_external();
  bool run_posted();
  bool flush_overflow();
  bool run_pollers();
  void begin_stop();
  void sleep();
  bool has_pending_input() const;
  void notify_targets();
  void arm_wake_read();
  void publish_counters();

  // Called by other threads.
  void wake();
  void submit_external(Task task);

  Runtime& runtime_;
  const ShardId id_;
  const uint32_t shard_count_;
  WakeCompletion wake_completion_;  // declared before ring_: must outlive it
  io::UniqueFd wake_fd_;
  std::unique_ptr<io::Ring> ring_;

  // Shard-local state (this thread only).
  std::vector<SpscQueue<Task>*> outgoing_;  // [target]; null for self
  std::vector<SpscQueue<Task>*> incoming_;  // [source]; null for self
  std::vector<std::deque<Task>> overflow_;  // [target]; tasks waiting for queue room
  std::vector<uint32_t> overflowing_;       // targets whose overflow is not empty
  std::vector<uint8_t> notify_pending_;     // [target]; sent since the last wake check
  std::vector<uint32_t> notify_list_;
  std::vector<Task> posted_;
  std::vector<Task> running_;  // posted_ of the previous turn, being run
  TimerSet timers_;
  std::vector<PollerSlot> pollers_;
  uint64_t next_poller_id_ = 1;
  bool pollers_dirty_ = false;
  std::vector<Task> stop_callbacks_;
  bool stop_seen_ = false;
  bool stop_reported_ = false;
  uint64_t sent_ = 0;      // tasks submitted, posted or accepted from outside
  uint64_t received_ = 0;  // tasks run
  bool exiting_ = false;
  std::chrono::nanoseconds idle_poll_{0};
  std::chrono::steady_clock::time_point last_busy_{};

  // Shared with other threads, each group on its own cache line.
  alignas(kFalseSharingRange) std::atomic<bool> sleeping_{false};
  alignas(kFalseSharingRange) std::atomic<uint64_t> sent_published_{0};
  std::atomic<uint64_t> received_published_{0};
  alignas(kFalseSharingRange) std::atomic<bool> has_external_{false};
  std::mutex external_mu_;
  std::vector<Task> external_;  // guarded by external_mu_
};

// The shard whose thread is calling. Must be called on a shard thread.
Shard& this_shard();
// Whether the calling thread is a shard thread.
bool on_shard_thread();

template <typename F, typename Done>
void Shard::submit_to(ShardId target, F&& fn, Done&& done) {
  using R = std::invoke_result_t<std::decay_t<F>&>;
  submit_to(
      target,
      Task([origin = id_, fn = std::forward<F>(fn), done = std::forward<Done>(done)]() mutable {
        Shard& here = this_shard();
        if constexpr (std::is_void_v<R>) {
          fn();
          here.submit_to(origin, Task(std::move(done)));
        } else {
          here.submit_to(
              origin, Task([done = std::move(done), r = fn()]() mutable { done(std::move(r)); }));
        }
      }));
}

}  // namespace freshet::shard
