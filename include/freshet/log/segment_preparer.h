#pragma once
// SegmentPreparer: one small thread for the blocking work the log does ahead of need, so that
// no shard waits on it: creating, fallocating, mapping and pre-faulting the next segment (and
// its indexes) under a temporary name, pre-faulting the active segment ahead of the write
// position, trimming sealed segments, and closing deleted ones (the close frees the blocks).
// DESIGN §2: "unavoidable blocking calls run ahead of need, off the hot path".
//
// Jobs run in submission order, urgent ones first. One per process is enough (the server owns one;
// see SegmentPreparer::shared()). Jobs run in submission order on the preparer's thread.
// Thread-safety: submit() may be called from any thread; it takes a mutex, which is fine because
// logs submit a job per segment half and per pre-fault chunk (megabytes), never per append. Jobs
// own what they touch (shared_ptrs to files and mappings) and report through state they share with
// the submitter, so a job never refers to a log that may be gone. The destructor runs the jobs
// already queued, then joins.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "freshet/shard/task.h"

namespace freshet::log {

class SegmentPreparer {
 public:
  SegmentPreparer();
  ~SegmentPreparer();
  SegmentPreparer(const SegmentPreparer&) = delete;
  SegmentPreparer& operator=(const SegmentPreparer&) = delete;

  // Queues `job` to run on the preparer thread. An urgent job (preparing the next segment,
  // which a roll will need) runs before the queued background ones (pre-faulting ahead).
  void submit(shard::Task job, bool urgent = false);
  // Jobs finished so far (for tests and benches).
  uint64_t completed() const;

  // The process's preparer, started on first use and never destroyed (its thread idles on a
  // condition variable; at exit nothing is waiting for it).
  static SegmentPreparer& shared();

 private:
  void run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<shard::Task> queue_;  // guarded by mu_
  bool stop_ = false;              // guarded by mu_
  uint64_t completed_ = 0;         // guarded by mu_
  std::thread thread_;
};

}  // namespace freshet::log
