#include "freshet/io/unique_fd.h"

#include <unistd.h>

namespace freshet::io {

void UniqueFd::reset(int fd) {
  // Never retry close() on EINTR: on Linux the fd is already released and may be reused.
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
}

}  // namespace freshet::io
