#pragma once
// MappedRegion: one shared mmap of a file (MAP_SHARED), unmapped on destruction. Move-only.
// Log segments are written through it and read in place by consumers and queries.
//
// Ownership and threads: the region owns the mapping, not the fd (the mapping stays valid
// after the fd is closed). The object itself is not synchronised; the shard that owns the
// segment owns the region. Other shards may read bytes below a published durable end.

#include <cstddef>
#include <cstdint>
#include <span>

#include "freshet/base/result.h"

namespace freshet::io {

class MappedRegion {
 public:
  MappedRegion() = default;
  // Adopts an existing mapping of `size` bytes at `data` (as returned by mmap).
  MappedRegion(void* data, size_t size, bool writable)
      : data_(static_cast<std::byte*>(data)), size_(size), writable_(writable) {}
  MappedRegion(MappedRegion&& other) noexcept;
  MappedRegion& operator=(MappedRegion&& other) noexcept;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;
  ~MappedRegion() { reset(); }

  std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  bool writable() const { return writable_; }
  std::span<std::byte> bytes() const { return {data_, size_}; }
  explicit operator bool() const { return data_ != nullptr; }

  // Pre-faults every page so the hot append path takes no page faults. Uses
  // MADV_POPULATE_WRITE (read for read-only maps) and falls back to touching one byte per
  // page on kernels before 5.14. Blocks: call it off the hot path, ahead of need.
  [[nodiscard]] Status populate();
  // msync(MS_SYNC) of [offset, offset + len), widened to page boundaries. On return the
  // bytes are durable (as far as the device honours flushes).
  [[nodiscard]] Status sync(size_t offset, size_t len);
  // Unmaps now.
  void reset();

 private:
  std::byte* data_ = nullptr;
  size_t size_ = 0;
  bool writable_ = false;
};

}  // namespace freshet::io
