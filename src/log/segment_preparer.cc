#include "freshet/log/segment_preparer.h"

#include "freshet/base/log.h"

namespace freshet::log {

SegmentPreparer::SegmentPreparer() : thread_([this] { run(); }) {}

SegmentPreparer::~SegmentPreparer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void SegmentPreparer::submit(shard::Task job, bool urgent) {
  {
    std::lock_guard lock(mu_);
    if (urgent)
      queue_.push_front(std::move(job));
    else
      queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

uint64_t SegmentPreparer::completed() const {
  std::lock_guard lock(mu_);
  return completed_;
}

SegmentPreparer& SegmentPreparer::shared() {
  // Deliberately leaked: destroying it at exit would join a thread while other static
  // destructors (the logger's) may already have run.
  static SegmentPreparer* const instance = new SegmentPreparer();
  return *instance;
}

void SegmentPreparer::run() {
  set_thread_tag("segment preparer");
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_ and drained
    shard::Task job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // drop what the job owned (files, mappings) outside the lock
    lock.lock();
    ++completed_;
  }
}

}  // namespace freshet::log
