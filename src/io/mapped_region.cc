#include "freshet/io/mapped_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace freshet::io {

MappedRegion::MappedRegion(MappedRegion&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      writable_(other.writable_) {}

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    writable_ = other.writable_;
  }
  return *this;
}

void MappedRegion::reset() {
  if (data_ != nullptr && size_ > 0) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

Status MappedRegion::populate() {
  if (data_ == nullptr || size_ == 0) return ok();
  int advice = writable_ ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
  if (::madvise(data_, size_, advice) == 0) return ok();
  int err = errno;
  // EINVAL: kernel older than 5.14 without the advice. Anything else is a real failure
  // (EFAULT/ENOMEM: the file is shorter than the mapping or the disk is full).
  if (err != EINVAL) return errno_error(err, "pre-fault mapping (madvise MADV_POPULATE)");
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  for (size_t off = 0; off < size_; off += page) {
    volatile std::byte* p = data_ + off;
    if (writable_) {
      *p = *p;  // a write fault allocates the page; the value is unchanged
    } else {
      (void)*p;
    }
  }
  return ok();
}

Status MappedRegion::sync(size_t offset, size_t len) {
  if (offset > size_ || len > size_ - offset) {
    return make_error(ErrorCode::kInvalidArgument,
                      "msync range [{}, +{}) outside a {}-byte mapping", offset, len, size_);
  }
  if (len == 0) return ok();
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t start = offset / page * page;  // msync needs a page-aligned address
  if (::msync(data_ + start, offset + len - start, MS_SYNC) != 0) {
    return errno_error(errno, "msync mapping");
  }
  return ok();
}

}  // namespace freshet::io
