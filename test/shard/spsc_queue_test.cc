#include "freshet/shard/spsc_queue.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

using freshet::shard::SpscQueue;

TEST_CASE("SpscQueue rounds capacity up to a power of two and reports full and empty") {
  SpscQueue<int> q(5);
  CHECK(q.capacity() == 8);
  for (int i = 0; i < 8; ++i) CHECK(q.try_push(int{i}));
  CHECK_FALSE(q.try_push(99));
  int out = -1;
  for (int i = 0; i < 8; ++i) {
    REQUIRE(q.try_pop(out));
    CHECK(out == i);
  }
  CHECK_FALSE(q.try_pop(out));
  CHECK(q.empty());
}

TEST_CASE("SpscQueue batch push and consume keep order and free the slots") {
  SpscQueue<std::unique_ptr<int>> q(16);
  int next = 0;
  CHECK(q.push_batch(10, [&next] { return std::make_unique<int>(next++); }) == 10);
  CHECK(q.push_batch(10, [&next] { return std::make_unique<int>(next++); }) == 6);  // full
  std::vector<int> seen;
  CHECK(q.consume(4, [&seen](std::unique_ptr<int>& p) { seen.push_back(*p); }) == 4);
  CHECK(q.push_batch(4, [&next] { return std::make_unique<int>(next++); }) == 4);
  while (q.consume(100, [&seen](std::unique_ptr<int>& p) { seen.push_back(*p); }) > 0) {
  }
  REQUIRE(seen.size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(seen[i] == i);
}

TEST_CASE("SpscQueue destroys items still queued when it is destroyed") {
  auto item = std::make_shared<int>(1);
  std::weak_ptr<int> watch = item;
  {
    SpscQueue<std::shared_ptr<int>> q(4);
    CHECK(q.try_push(std::move(item)));
  }
  CHECK(watch.expired());
}

TEST_CASE("SpscQueue moves 10M items between two threads in order without loss or duplicates") {
  constexpr uint64_t kItems = 10'000'000;
  SpscQueue<uint64_t> q(1024);
  std::thread producer([&q] {
    uint64_t i = 0;
    while (i < kItems) {
      // Alternate single and batched pushes to cover both paths.
      if (i % 2 == 0) {
        if (q.try_push(uint64_t{i})) ++i;
      } else {
        i += q.push_batch(std::min<uint64_t>(64, kItems - i),
                          [&i, k = uint64_t{0}]() mutable { return i + k++; });
      }
    }
  });
  uint64_t expected = 0;
  uint64_t mismatches = 0;
  while (expected < kItems) {
    uint64_t v = 0;
    if (expected % 3 == 0) {
      if (q.try_pop(v)) {
        mismatches += v != expected;
        ++expected;
      }
    } else {
      q.consume(128, [&](uint64_t& x) {
        mismatches += x != expected;
        ++expected;
      });
    }
  }
  producer.join();
  CHECK(mismatches == 0);
  CHECK(expected == kItems);
  CHECK(q.empty());
}
