#pragma once
// Scratch bytes for strings that expressions make (LOWER, CONCAT, CAST ... AS VARCHAR). Blocks
// are kept across reset(), so once warmed up the per-record path allocates nothing; views
// into the arena stay valid until the next reset().
//
// Not thread-safe; owned by one operator.

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace freshet::query {

class StringArena {
 public:
  void reset() {
    block_ = 0;
    used_ = 0;
  }

  // `n` writable bytes, valid until reset().
  char* alloc(size_t n) {
    for (;;) {
      if (block_ < blocks_.size() && used_ + n <= blocks_[block_].size) {
        char* p = blocks_[block_].data.get() + used_;
        used_ += n;
        return p;
      }
      if (block_ < blocks_.size() && used_ != 0) {
        ++block_;
        used_ = 0;
        continue;
      }
      if (block_ < blocks_.size() && blocks_[block_].size >= n) continue;
      size_t size = n > kBlock ? n : kBlock;
      Block b{std::make_unique<char[]>(size), size};
      if (block_ < blocks_.size()) {
        blocks_[block_] = std::move(b);  // too small even when empty: replace
      } else {
        blocks_.push_back(std::move(b));
      }
    }
  }

  std::string_view copy(std::string_view s) {
    if (s.empty()) return {};
    char* p = alloc(s.size());
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }

 private:
  static constexpr size_t kBlock = 16 * 1024;
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size = 0;
  };
  std::vector<Block> blocks_;
  size_t block_ = 0;
  size_t used_ = 0;
};

}  // namespace freshet::query
