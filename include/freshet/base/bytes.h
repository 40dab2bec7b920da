#pragma once
// Little-endian fixed-width encoding for snapshot files: ByteWriter appends to a string,
// ByteReader reads back with bounds checks. A reader that runs past the end or finds a length
// longer than what is left turns `ok()` false and returns zeros from then on, so a truncated
// or garbled file is one check at the end, never a crash.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace freshet {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  template <typename T>
  requires std::is_integral_v<T>
  void put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // x86-64 and aarch64 Linux are little-endian
    out_.append(b, sizeof(T));
  }
  void put_bytes(std::string_view s) {
    put<uint32_t>(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string& out() { return out_; }

 private:
  std::string& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  template <typename T>
  requires std::is_integral_v<T> T get() {
    T v{};
    if (!take(sizeof(T))) return v;
    std::memcpy(&v, in_.data() + pos_ - sizeof(T), sizeof(T));
    return v;
  }
  bool get_bool() { return get<uint8_t>() != 0; }
  // A view into the input; valid as long as the input is.
  std::string_view get_bytes() {
    const auto n = get<uint32_t>();
    if (!take(n)) return {};
    return in_.substr(pos_ - n, n);
  }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  // A count about to be used to size a container: more elements than bytes left is garbage.
  bool plausible(uint64_t count, size_t min_bytes_each = 1) {
    if (count * min_bytes_each > in_.size() - pos_) ok_ = false;
    return ok_;
  }

 private:
  bool take(size_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace freshet
