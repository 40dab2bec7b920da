#pragma once
// Sharded<T>: one T per shard, each created, used and destroyed on its own shard (Seastar's
// sharded<T>, minus the futures). Typical use: construct a Sharded<T> before
// Runtime::start, call emplace_local() from the init callback on every shard, reach the
// local instance with local(), and reach another shard's with submit_to + local() there.
//
// Thread-safety: each slot is touched only by its own shard's thread. The Sharded object
// itself must outlive the runtime's threads. Call reset_local() on every shard (e.g. from
// on_stop) when T must be destroyed on its shard; otherwise the destructor destroys the
// instances on the destroying thread, after the shards have stopped.

#include <memory>
#include <utility>
#include <vector>

#include "freshet/base/assert.h"
#include "freshet/shard/shard.h"

namespace freshet::shard {

template <typename T>
class Sharded {
 public:
  explicit Sharded(uint32_t shard_count) : instances_(shard_count) {}

  // Creates this shard's instance. On a shard thread.
  template <typename... Args>
  T& emplace_local(Args&&... args) {
    auto& slot = instances_[this_shard().id().value()];
    FRESHET_ASSERT(slot == nullptr, "Sharded instance created twice on shard {}",
                   this_shard().id());
    slot = std::make_unique<T>(std::forward<Args>(args)...);
    return *slot;
  }
  // This shard's instance. On a shard thread, after emplace_local.
  T& local() {
    auto& slot = instances_[this_shard().id().value()];
    FRESHET_DCHECK(slot != nullptr, "no Sharded instance on shard {}", this_shard().id());
    return *slot;
  }
  bool has_local() const { return instances_[this_shard().id().value()] != nullptr; }
  void reset_local() { instances_[this_shard().id().value()].reset(); }

 private:
  // One pointer per shard; each written only by its shard. The pointers share cache lines,
  // but they are written once and read thereafter, so there is no ping-pong.
  std::vector<std::unique_ptr<T>> instances_;
};

}  // namespace freshet::shard
