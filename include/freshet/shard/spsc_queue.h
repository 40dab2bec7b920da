#pragma once
// SpscQueue<T>: a bounded lock-free ring for exactly one producer thread and one consumer
// thread (Lamport's queue with cached indices, as in Rigtorp's and Folly's). The shards use
// one per ordered (source, target) pair, so FIFO per pair holds by construction.
//
// Thread-safety: try_push/push_batch from the producer thread only; try_pop/consume/empty
// from the consumer thread only; capacity() from anywhere. Indices only grow (they wrap at
// 2^64, which never happens), so full/empty need no spare slot.

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "freshet/base/assert.h"

namespace freshet::shard {

// x86 prefetches cache lines in adjacent pairs, so 128 bytes keeps the producer's and the
// consumer's lines from pulling each other in.
inline constexpr size_t kFalseSharingRange = 128;

template <typename T>
class SpscQueue {
 public:
  // Capacity is min_capacity rounded up to a power of two (at least 2).
  explicit SpscQueue(size_t min_capacity)
      : mask_(round_up_pow2(min_capacity) - 1), slots_(new Slot[mask_ + 1]) {}
  ~SpscQueue() {
    // Destroying the queue is both sides' last act, so plain loads are enough.
    size_t head = head_.load(std::memory_order_relaxed);
    size_t tail = tail_.load(std::memory_order_relaxed);
    for (; head != tail; ++head) at(head)->~T();
  }
  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  size_t capacity() const { return mask_ + 1; }

  // Producer. Moves `value` in and returns true, or returns false (value untouched) if full.
  bool try_push(T&& value) {
    const size_t tail = tail_.load(std::memory_order_relaxed);  // only we write it
    if (tail - head_cache_ > mask_) {
      // Looks full: refresh our copy of head. acquire: the consumer is done with the slots
      // it released (it destroyed their objects before its release store).
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    ::new (static_cast<void*>(&slots_[tail & mask_])) T(std::move(value));
    // release: publishes the constructed T to the consumer's acquire load of tail_.
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Producer. Pushes up to `n` items produced by `next()` (called once per pushed item)
  // with one release store; returns how many were pushed.
  template <typename Gen>
  size_t push_batch(size_t n, Gen&& next) {
    const size_t tail = tail_.load(std::memory_order_relaxed);
    size_t room = capacity() - (tail - head_cache_);
    if (room < n) {
      head_cache_ = head_.load(std::memory_order_acquire);  // as in try_push
      room = capacity() - (tail - head_cache_);
    }
    const size_t count = room < n ? room : n;
    for (size_t i = 0; i < count; ++i) {
      ::new (static_cast<void*>(&slots_[(tail + i) & mask_])) T(next());
    }
    if (count > 0) tail_.store(tail + count, std::memory_order_release);  // publish the batch
    return count;
  }

  // Producer. Puts every push so far into the seq_cst total order (a no-op RMW on the tail),
  // so that a following seq_cst load of the consumer's sleep flag cannot be reordered
  // before it. Used once per turn per target by the wake-up handshake, not per push.
  void publish_seq_cst() { tail_.fetch_add(0, std::memory_order_seq_cst); }

  // Consumer. Moves the oldest item into `out`; false if empty.
  bool try_pop(T& out) {
    const size_t head = head_.load(std::memory_order_relaxed);  // only we write it
    if (head == tail_cache_) {
      // acquire: pairs with the producer's release, so the item's bytes are visible.
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return false;
    }
    T* item = at(head);
    out = std::move(*item);
    item->~T();
    // release: the producer may reuse the slot only after we are done with it.
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer. Calls fn(T&) on up to `max` items in order, in place (no move), destroying
  // each after the call; frees the slots with one release store. Returns the count.
  template <typename Fn>
  size_t consume(size_t max, Fn&& fn) {
    const size_t head = head_.load(std::memory_order_relaxed);
    if (tail_cache_ - head < max) tail_cache_ = tail_.load(std::memory_order_acquire);
    size_t count = tail_cache_ - head;
    if (count > max) count = max;
    for (size_t i = 0; i < count; ++i) {
      T* item = at(head + i);
      fn(*item);
      item->~T();
    }
    if (count > 0) head_.store(head + count, std::memory_order_release);  // free the slots
    return count;
  }

  // Consumer. Whether the queue looked empty. The sleep check passes seq_cst (see
  // publish_seq_cst).
  bool empty(std::memory_order order = std::memory_order_acquire) const {
    return head_.load(std::memory_order_relaxed) == tail_.load(order);
  }

 private:
  struct Slot {
    alignas(T) unsigned char bytes[sizeof(T)];
  };

  static size_t round_up_pow2(size_t n) {
    size_t c = 2;
    while (c < n) c <<= 1;
    return c;
  }
  T* at(size_t index) { return std::launder(reinterpret_cast<T*>(&slots_[index & mask_])); }

  // Read-only after construction: shared by both sides without contention.
  alignas(kFalseSharingRange) const size_t mask_;
  const std::unique_ptr<Slot[]> slots_;
  // Producer's line: the index it writes and its cached copy of the consumer's index.
  alignas(kFalseSharingRange) std::atomic<size_t> tail_{0};
  size_t head_cache_ = 0;
  // Consumer's line.
  alignas(kFalseSharingRange) std::atomic<size_t> head_{0};
  size_t tail_cache_ = 0;
};

}  // namespace freshet::shard
