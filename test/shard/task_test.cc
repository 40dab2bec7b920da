#include "freshet/shard/task.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

using freshet::shard::Poller;
using freshet::shard::Task;
using freshet::shard::UniqueFunction;

TEST_CASE("a Task is one cache line and keeps small captures inline") {
  CHECK(sizeof(Task) == 64);
  int hits = 0;
  Task t([&hits] { ++hits; });
  CHECK(t.is_inline());
  t();
  t();
  CHECK(hits == 2);
}

TEST_CASE("a Task with a large capture goes to the heap and still runs and moves") {
  std::array<uint64_t, 32> big{};
  big[31] = 7;
  uint64_t seen = 0;
  Task t([big, &seen] { seen = big[31]; });
  CHECK_FALSE(t.is_inline());
  Task moved = std::move(t);
  CHECK_FALSE(static_cast<bool>(t));  // NOLINT(bugprone-use-after-move)
  moved();
  CHECK(seen == 7);
}

TEST_CASE("a Task accepts move-only captures and destroys them exactly once") {
  auto owned = std::make_shared<int>(5);
  std::weak_ptr<int> watch = owned;
  int result = 0;
  {
    auto unique = std::make_unique<std::shared_ptr<int>>(std::move(owned));
    Task t([p = std::move(unique), &result] { result = **p; });
    CHECK(t.is_inline());
    Task a = std::move(t);
    Task b;
    b = std::move(a);
    b();
    CHECK(result == 5);
    CHECK_FALSE(watch.expired());
  }
  CHECK(watch.expired());
}

TEST_CASE("move-assigning over a Task destroys the old callable") {
  auto first = std::make_shared<int>(1);
  std::weak_ptr<int> watch = first;
  Task t([p = std::move(first)] { (void)p; });
  t = Task([] {});
  CHECK(watch.expired());
  t.reset();
  CHECK_FALSE(static_cast<bool>(t));
}

TEST_CASE("UniqueFunction returns values and takes arguments") {
  UniqueFunction<int(int, std::string)> f(
      [](int a, std::string s) { return a + static_cast<int>(s.size()); });
  CHECK(f(2, "abc") == 5);
  int calls = 0;
  Poller p([&calls] { return ++calls < 3; });
  CHECK(p());
  CHECK(p());
  CHECK_FALSE(p());
}
