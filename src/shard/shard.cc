#include "freshet/shard/shard.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "freshet/base/log.h"
#include "freshet/shard/runtime.h"

namespace freshet::shard {
namespace {

thread_local Shard* tls_shard = nullptr;

// Tasks taken from one source per turn: large enough to amortise the index stores, small
// enough that one flooding shard cannot starve the others, timers and the ring.
constexpr size_t kIncomingBudget = 512;
// How long a shard with overflowing queues sleeps before retrying (the target is busy).
constexpr int64_t kOverflowRetryNs = 50'000;
// How often shard 0 re-checks for quiescence while stopping.
constexpr int64_t kStopPollNs = 100'000;

}  // namespace

Shard& this_shard() {
  FRESHET_ASSERT(tls_shard != nullptr, "this_shard() called outside a shard thread");
  return *tls_shard;
}

bool on_shard_thread() { return tls_shard != nullptr; }

Shard::Shard(Runtime& runtime, ShardId id, uint32_t shard_count, std::unique_ptr<io::Ring> ring,
             io::UniqueFd wake_fd)
    : runtime_(runtime),
      id_(id),
      shard_count_(shard_count),
      wake_fd_(std::move(wake_fd)),
      ring_(std::move(ring)),
      outgoing_(shard_count, nullptr),
      incoming_(shard_count, nullptr),
      overflow_(shard_count),
      notify_pending_(shard_count, 0) {
  wake_completion_.shard = this;
}

Shard::~Shard() {
  // The ring goes first (member order) so no kernel operation still points at our objects.
  ring_.reset();
}

void Shard::check_owner() const {
  FRESHET_DCHECK(tls_shard == this, "shard {} used from another thread", id_);
}

// ---- Work submission -------------------------------------------------------------------

void Shard::submit_to(ShardId target, Task task) {
  check_owner();
  FRESHET_DCHECK(target.value() < shard_count_, "submit_to shard {} of {}", target, shard_count_);
  ++sent_;
  const uint32_t t = target.value();
  if (t == id_.value()) {
    posted_.push_back(std::move(task));
    return;
  }
  // Anything already waiting in overflow must go first, or FIFO per pair would break.
  std::deque<Task>& overflow = overflow_[t];
  if (overflow.empty() && outgoing_[t]->try_push(std::move(task))) {
    if (notify_pending_[t] == 0) {
      notify_pending_[t] = 1;
      notify_list_.push_back(t);
    }
    return;
  }
  if (overflow.empty()) overflowing_.push_back(t);
  overflow.push_back(std::move(task));
}

void Shard::post(Task task) {
  check_owner();
  ++sent_;
  posted_.push_back(std::move(task));
}

void Shard::submit_external(Task task) {
  {
    std::lock_guard lock(external_mu_);
    external_.push_back(std::move(task));
    // seq_cst: one side of the store-buffer handshake with sleep(); see notify_targets().
    has_external_.store(true, std::memory_order_seq_cst);
  }
  if (sleeping_.load(std::memory_order_seq_cst) &&
      sleeping_.exchange(false, std::memory_order_seq_cst)) {
    wake();
  }
}

// ---- Timers, pollers, stop callbacks ------------------------------------------------------

TimerId Shard::schedule_after(std::chrono::nanoseconds delay, Task task) {
  check_owner();
  return timers_.add(TimerSet::Clock::now() + delay, TimerSet::Clock::duration::zero(),
                     std::move(task));
}

TimerId Shard::schedule_every(std::chrono::nanoseconds period, Task task) {
  check_owner();
  FRESHET_ASSERT(period.count() > 0, "schedule_every needs a positive period");
  return timers_.add(TimerSet::Clock::now() + period, period, std::move(task));
}

void Shard::cancel_timer(TimerId id) {
  check_owner();
  timers_.cancel(id);
}

PollerId Shard::add_poller(Poller poller) {
  check_owner();
  PollerId id(next_poller_id_++);
  pollers_.push_back(PollerSlot{id, std::move(poller), false});
  return id;
}

void Shard::remove_poller(PollerId id) {
  check_owner();
  // Only mark it: the poller may be the one running now. run_pollers() compacts.
  for (auto& slot : pollers_) {
    if (slot.id == id) slot.removed = true;
  }
  pollers_dirty_ = true;
}

void Shard::on_stop(Task task) {
  check_owner();
  stop_callbacks_.push_back(std::move(task));
}

// ---- The loop ---------------------------------------------------------------------------

void Shard::run(const std::function<void(Shard&)>& init) {
  tls_shard = this;
  arm_wake_read();
  // init runs as part of the shard (this_shard() works) and before any task from elsewhere.
  if (init) init(*this);
  for (;;) {
    const bool busy = run_turn();
    publish_counters();
    notify_targets();
    if (stop_seen_ && !stop_reported_) {
      // Counters that include our on_stop work are published: shard 0 may start counting.
      stop_reported_ = true;
      runtime_.stop_callbacks_done_.fetch_add(1, std::memory_order_release);
    }
    if (id_.value() == 0 && stop_seen_ && !runtime_.quiescent_.load(std::memory_order_relaxed) &&
        runtime_.check_quiescent()) {
      runtime_.quiescent_.store(true, std::memory_order_release);
      runtime_.wake_all();
    }
    if (runtime_.quiescent_.load(std::memory_order_acquire)) break;
    if (busy) {
      if (idle_poll_.count() > 0) last_busy_ = std::chrono::steady_clock::now();
    } else if (idle_poll_.count() == 0 ||
               std::chrono::steady_clock::now() - last_busy_ >= idle_poll_) {
      sleep();
    }
  }
  exiting_ = true;
  pollers_.clear();
  tls_shard = nullptr;
}

bool Shard::run_turn() {
  bool did = false;
  if (!stop_seen_ && runtime_.stop_requested_.load(std::memory_order_acquire)) {
    begin_stop();
    did = true;
  }
  did |= drain_external();
  did |= drain_incoming();
  did |= run_posted();
  if (!overflowing_.empty()) did |= flush_overflow();
  if (!stop_seen_) {
    if (!timers_.empty() && timers_.run_due(TimerSet::Clock::now()) > 0) did = true;
    if (!pollers_.empty()) did |= run_pollers();
  }
  did |= ring_->reap(false, 0) > 0;
  return did;
}

bool Shard::drain_incoming() {
  size_t ran = 0;
  for (uint32_t s = 0; s < shard_count_; ++s) {
    SpscQueue<Task>* q = incoming_[s];
    if (q == nullptr) continue;
    ran += q->consume(kIncomingBudget, [](Task& task) { task(); });
  }
  received_ += ran;
  return ran > 0;
}

bool Shard::drain_external() {
  if (!has_external_.load(std::memory_order_relaxed)) return false;
  std::vector<Task> batch;
  {
    std::lock_guard lock(external_mu_);  // acquire: the tasks' bytes are visible
    batch.swap(external_);
    has_external_.store(false, std::memory_order_relaxed);
  }
  sent_ += batch.size();  // counted as sent here, on behalf of the outside thread
  for (Task& task : batch) {
    ++received_;
    task();
  }
  return !batch.empty();
}

bool Shard::run_posted() {
  if (posted_.empty()) return false;
  // Tasks posted while these run go to the next turn, so a task that re-posts itself cannot
  // starve the rest of the loop.
  running_.swap(posted_);
  for (Task& task : running_) {
    ++received_;
    task();
  }
  running_.clear();
  return true;
}

bool Shard::flush_overflow() {
  bool moved = false;
  size_t keep = 0;
  for (uint32_t t : overflowing_) {
    std::deque<Task>& overflow = overflow_[t];
    size_t n = outgoing_[t]->push_batch(overflow.size(), [&overflow] {
      Task task = std::move(overflow.front());
      overflow.pop_front();
      return task;
    });
    if (n > 0) {
      moved = true;
      if (notify_pending_[t] == 0) {
        notify_pending_[t] = 1;
        notify_list_.push_back(t);
      }
    }
    if (!overflow.empty()) overflowing_[keep++] = t;
  }
  overflowing_.resize(keep);
  return moved;
}

bool Shard::run_pollers() {
  bool did = false;
  const size_t n = pollers_.size();  // pollers added now first run next turn
  for (size_t i = 0; i < n; ++i) {
    if (pollers_[i].removed) continue;
    // Index, not reference: the poller may add pollers and reallocate the vector.
    did |= pollers_[i].fn();
  }
  if (pollers_dirty_) {
    std::erase_if(pollers_, [](const PollerSlot& p) { return p.removed; });
    pollers_dirty_ = false;
  }
  return did;
}

void Shard::begin_stop() {
  stop_seen_ = true;
  timers_.clear();
  for (auto& slot : pollers_) slot.removed = true;
  pollers_dirty_ = true;
  // Index loop: a callback may register another one, which runs too.
  for (size_t i = 0; i < stop_callbacks_.size(); ++i) {
    Task cb = std::move(stop_callbacks_[i]);
    cb();
  }
  stop_callbacks_.clear();
}

void Shard::publish_counters() {
  // Release: shard 0 reads them with acquire for the quiescence check.
  sent_published_.store(sent_, std::memory_order_release);
  received_published_.store(received_, std::memory_order_release);
}

// ---- Sleeping and waking ---------------------------------------------------------------
//
// Lost wake-up avoidance is the store-buffer (Dekker) pattern. The sleeper stores
// sleeping_ = true, then reads the queue tails; a producer writes a tail, then reads
// sleeping_. All four accesses are seq_cst (the producer's is a no-op RMW on the tail made
// after its plain release pushes), so they have one total order and at least one side sees
// the other's write: either the sleeper sees the task and stays up, or the producer sees
// the flag and writes the eventfd. Producers do this once per turn per target they sent
// to, so a busy stream of messages costs neither a syscall nor a fence per message.
// (seq_cst operations rather than fences, because ThreadSanitizer does not model fences.)

void Shard::notify_targets() {
  for (uint32_t t : notify_list_) {
    notify_pending_[t] = 0;
    outgoing_[t]->publish_seq_cst();
    Shard& target = runtime_.shard(ShardId(t));
    // Only the producer that flips the flag writes the eventfd: one syscall per sleep.
    if (target.sleeping_.load(std::memory_order_seq_cst) &&
        target.sleeping_.exchange(false, std::memory_order_seq_cst)) {
      target.wake();
    }
  }
  notify_list_.clear();
}

bool Shard::has_pending_input() const {
  // seq_cst loads: the sleeper's half of the handshake above.
  for (const SpscQueue<Task>* q : incoming_) {
    if (q != nullptr && !q->empty(std::memory_order_seq_cst)) return true;
  }
  return !posted_.empty() || has_external_.load(std::memory_order_seq_cst) ||
         (!stop_seen_ && runtime_.stop_requested_.load(std::memory_order_seq_cst)) ||
         runtime_.quiescent_.load(std::memory_order_seq_cst);
}

void Shard::sleep() {
  int64_t timeout_ns = -1;  // no timer: sleep until woken
  if (auto next = timers_.next_deadline()) {
    auto left =
        std::chrono::duration_cast<std::chrono::nanoseconds>(*next - TimerSet::Clock::now());
    timeout_ns = std::max<int64_t>(0, left.count());
  }
  auto cap = [&timeout_ns](int64_t ns) {
    if (timeout_ns < 0 || timeout_ns > ns) timeout_ns = ns;
  };
  if (!overflowing_.empty()) cap(kOverflowRetryNs);
  if (stop_seen_ && id_.value() == 0) cap(kStopPollNs);
  if (timeout_ns == 0) return;

  sleeping_.store(true, std::memory_order_seq_cst);  // pairs with notify_targets()
  if (has_pending_input()) {
    sleeping_.store(false, std::memory_order_relaxed);
    return;
  }
  ring_->reap(true, timeout_ns);
  sleeping_.store(false, std::memory_order_relaxed);
}

void Shard::wake() {
  // Any thread. eventfd writes of 8 bytes never block short of a 2^64-1 counter.
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
  FRESHET_DCHECK(n == sizeof(one), "eventfd write failed: errno {}", errno);
  (void)n;
}

void Shard::arm_wake_read() {
  ring_->read(wake_fd_.get(), &wake_completion_.value, sizeof(wake_completion_.value), 0,
              &wake_completion_);
}

void Shard::WakeCompletion::complete(int32_t res, uint32_t /*flags*/) {
  // The read only exists to end the ring wait; re-arm it unless the ring is going away.
  if (shard->exiting_) return;
  if (res < 0 && res != -EINTR && res != -EAGAIN) {
    log::error("shard {}: wake-up eventfd read failed: errno {}", shard->id_, -res);
    return;
  }
  shard->arm_wake_read();
}

}  // namespace freshet::shard
