#pragma once
// Named integer types, so that an Offset cannot be passed where a PartitionId is expected
// (Redpanda's named_type). Zero cost: one integer, constexpr, trivially copyable.

#include <fmt/format.h>

#include <compare>
#include <cstdint>
#include <functional>

namespace freshet {

template <typename T, typename Tag>
class StrongId {
 public:
  using value_type = T;
  constexpr StrongId() = default;
  constexpr explicit StrongId(T v) : v_(v) {}
  constexpr T value() const { return v_; }
  constexpr auto operator<=>(const StrongId&) const = default;
  constexpr StrongId& operator++() {
    ++v_;
    return *this;
  }
  constexpr StrongId operator+(T d) const { return StrongId(v_ + d); }
  constexpr T operator-(StrongId o) const { return v_ - o.v_; }

 private:
  T v_{};
};

}  // namespace freshet

template <typename T, typename Tag>
struct std::hash<freshet::StrongId<T, Tag>> {
  size_t operator()(freshet::StrongId<T, Tag> id) const noexcept {
    return std::hash<T>{}(id.value());
  }
};

template <typename T, typename Tag>
struct fmt::formatter<freshet::StrongId<T, Tag>> : fmt::formatter<T> {
  auto format(freshet::StrongId<T, Tag> id, format_context& ctx) const {
    return fmt::formatter<T>::format(id.value(), ctx);
  }
};
