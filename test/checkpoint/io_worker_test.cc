#include "freshet/checkpoint/io_worker.h"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using namespace freshet;
using namespace freshet::checkpoint;

TEST_CASE("the io worker runs jobs in posting order on its own thread") {
  IoWorker worker("test-io");
  std::vector<int> order;  // touched only by the worker until stop() joins it
  std::atomic<bool> other_thread{true};
  const auto caller = std::this_thread::get_id();
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(worker.post([&order, &other_thread, caller, i] {
      if (std::this_thread::get_id() == caller) other_thread = false;
      order.push_back(i);
    }));
  }
  worker.stop();
  REQUIRE(order.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(order[i] == i);
  CHECK(other_thread.load());
}

TEST_CASE("stop runs every queued job, and later posts are refused") {
  IoWorker worker;
  std::atomic<int> ran{0};
  // A slow first job makes sure the others are still queued when stop() is called.
  REQUIRE(worker.post([&ran] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ++ran;
  }));
  for (int i = 0; i < 10; ++i) REQUIRE(worker.post([&ran] { ++ran; }));
  worker.stop();
  CHECK(ran.load() == 11);
  CHECK_FALSE(worker.post([&ran] { ++ran; }));
  worker.stop();  // idempotent
  CHECK(ran.load() == 11);
}

TEST_CASE("jobs may own move-only captures") {
  IoWorker worker;
  auto box = std::make_unique<int>(7);
  std::atomic<int> seen{0};
  REQUIRE(worker.post([b = std::move(box), &seen] { seen = *b; }));
  worker.stop();
  CHECK(seen.load() == 7);
}

TEST_CASE("posting from many threads loses no job") {
  std::atomic<int> ran{0};
  {
    IoWorker worker;
    std::vector<std::thread> posters;
    for (int t = 0; t < 4; ++t) {
      posters.emplace_back([&] {
        for (int i = 0; i < 500; ++i) REQUIRE(worker.post([&ran] { ++ran; }));
      });
    }
    for (auto& t : posters) t.join();
  }  // the destructor stops and drains
  CHECK(ran.load() == 2000);
}
