#pragma once
// UniqueFunction<R(Args...)>: a move-only, type-erased callable. Unlike std::function it
// accepts move-only captures (a moved buffer, a UniqueFd, a promise), which is what
// cross-shard messages carry. Callables up to kInlineSize bytes with nothrow moves live
// inline (no allocation: the common small lambda); larger ones go to the heap.
//
// Task is the unit of work a shard runs; Poller is the per-turn callback of a shard.
// Not thread-safe; a Task is moved from one shard to another, never shared.

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "freshet/base/assert.h"

namespace freshet::shard {

template <typename Signature>
class UniqueFunction;

template <typename R, typename... Args>
class UniqueFunction<R(Args...)> {
 public:
  // 48 bytes inline plus the ops pointer makes one object exactly one 64-byte cache line.
  static constexpr size_t kInlineSize = 48;
  static constexpr size_t kInlineAlign = alignof(std::max_align_t);

  UniqueFunction() noexcept = default;
  UniqueFunction(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)

  template <typename F, typename D = std::decay_t<F>>
  requires(!std::is_same_v<D, UniqueFunction> && std::is_invocable_r_v<R, D&, Args...>)
      UniqueFunction(F&& f) {  // NOLINT(google-explicit-constructor): lambdas convert implicitly
    if constexpr (kFitsInline<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &kInlineOps<D>;
    } else {
      ::new (static_cast<void*>(storage_)) D*(new D(std::forward<F>(f)));
      ops_ = &kHeapOps<D>;
    }
  }

  UniqueFunction(UniqueFunction&& other) noexcept { take(other); }
  UniqueFunction& operator=(UniqueFunction&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  UniqueFunction(const UniqueFunction&) = delete;
  UniqueFunction& operator=(const UniqueFunction&) = delete;
  ~UniqueFunction() { reset(); }

  // May be called more than once (timers and pollers repeat).
  R operator()(Args... args) {
    FRESHET_DCHECK(ops_ != nullptr, "calling an empty UniqueFunction");
    return ops_->invoke(storage_, std::forward<Args>(args)...);
  }
  explicit operator bool() const { return ops_ != nullptr; }
  // True when the callable lives inside the object (no heap allocation).
  bool is_inline() const { return ops_ != nullptr && ops_->is_inline; }

  void reset() {
    if (ops_ != nullptr) ops_->destroy(storage_);
    ops_ = nullptr;
  }

 private:
  struct Ops {
    R (*invoke)(void* self, Args&&... args);
    void (*relocate)(void* dst, void* src) noexcept;  // move-construct into dst, destroy src
    void (*destroy)(void* self) noexcept;
    bool is_inline;
  };

  template <typename D>
  static constexpr bool kFitsInline =
      sizeof(D) <= kInlineSize &&
      alignof(D) <= kInlineAlign&& std::is_nothrow_move_constructible_v<D>;

  template <typename D>
  static D* inline_ptr(void* p) {
    return std::launder(static_cast<D*>(p));
  }
  template <typename D>
  static D* heap_ptr(void* p) {
    return *std::launder(static_cast<D**>(p));
  }

  template <typename D>
  static constexpr Ops kInlineOps = {
      [](void* self, Args&&... args) -> R {
        return static_cast<R>((*inline_ptr<D>(self))(std::forward<Args>(args)...));
      },
      [](void* dst, void* src) noexcept {
        ::new (dst) D(std::move(*inline_ptr<D>(src)));
        inline_ptr<D>(src)->~D();
      },
      [](void* self) noexcept { inline_ptr<D>(self)->~D(); },
      true,
  };

  template <typename D>
  static constexpr Ops kHeapOps = {
      [](void* self, Args&&... args) -> R {
        return static_cast<R>((*heap_ptr<D>(self))(std::forward<Args>(args)...));
      },
      [](void* dst, void* src) noexcept { ::new (dst) D*(heap_ptr<D>(src)); },
      [](void* self) noexcept { delete heap_ptr<D>(self); },
      false,
  };

  void take(UniqueFunction& other) noexcept {
    if (other.ops_ == nullptr) return;
    other.ops_->relocate(storage_, other.storage_);
    ops_ = std::exchange(other.ops_, nullptr);
  }

  alignas(kInlineAlign) unsigned char storage_[kInlineSize];
  const Ops* ops_ = nullptr;
};

// One unit of work run on a shard.
using Task = UniqueFunction<void()>;
// Called every loop turn; returns whether it did any work (the loop sleeps only if none did).
using Poller = UniqueFunction<bool()>;

}  // namespace freshet::shard
