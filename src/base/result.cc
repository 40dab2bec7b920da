#include "freshet/base/result.h"

#include <cstring>

namespace freshet {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kAlreadyExists:
      return "already exists";
    case ErrorCode::kIo:
      return "i/o error";
    case ErrorCode::kCorruption:
      return "corruption";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kConfig:
      return "configuration error";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "unknown error";
}

tl::unexpected<Error> errno_error(int err, std::string_view what) {
  ErrorCode code = ErrorCode::kIo;
  if (err == ENOENT) code = ErrorCode::kNotFound;
  if (err == EEXIST) code = ErrorCode::kAlreadyExists;
  if (err == EINVAL) code = ErrorCode::kInvalidArgument;
  if (err == ENOSYS || err == EOPNOTSUPP) code = ErrorCode::kUnsupported;
  return tl::unexpected<Error>(
      Error{code, fmt::format("{}: {} (errno {})", what, std::strerror(err), err), err});
}

}  // namespace freshet
