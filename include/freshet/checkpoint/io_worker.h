#pragma once
// IoWorker: one background thread that runs blocking file-system jobs (fsyncs, renames,
// checkpoint commits, sink publishes) in the order they were posted, so no shard thread ever
// waits on a disk. Jobs report back by their own means (typically by submitting a task to
// the shard that posted them).
//
// Created and stopped by the server's main thread. post() is thread-safe and may be called
// from any shard; the jobs run on the worker thread, which owns whatever they touch (e.g.
// every sinks::CommittedFile).

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "freshet/shard/task.h"

namespace freshet::checkpoint {

class IoWorker {
 public:
  using Job = shard::UniqueFunction<void()>;

  // Starts the thread; `name` is its thread name (at most 15 characters are kept).
  explicit IoWorker(std::string name = "freshet-io");
  // stop()s if not stopped yet.
  ~IoWorker();
  IoWorker(const IoWorker&) = delete;
  IoWorker& operator=(const IoWorker&) = delete;

  // Queues `job` behind every job posted before it. Returns false, dropping the job
  // unrun, once stop() has begun.
  [[nodiscard]] bool post(Job job);
  // Runs every job already queued, then joins the thread. Idempotent. Must not be called
  // from a job.
  void stop();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::string name_;
  std::thread thread_;
};

}  // namespace freshet::checkpoint
