#include "freshet/checkpoint/io_worker.h"

#include <pthread.h>

#include <utility>

#include "freshet/base/log.h"

namespace freshet::checkpoint {

IoWorker::IoWorker(std::string name) : name_(std::move(name)) {
  thread_ = std::thread([this] { run(); });
}

IoWorker::~IoWorker() { stop(); }

bool IoWorker::post(Job job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void IoWorker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void IoWorker::run() {
  // Linux keeps 15 characters of a thread name.
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  log::set_thread_tag(name_);
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // Stopping drains the queue first: a queued publish must not be lost on shutdown.
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();
  }
}

}  // namespace freshet::checkpoint
