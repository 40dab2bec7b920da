#pragma once
// Errors as values. Module APIs return Result<T> (a T, or an Error saying what failed and
// where); nothing under src/ throws. tl::expected stands in for std::expected until the
// toolchain has C++23.

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace freshet {

enum class ErrorCode {
  kInvalidArgument,  // a caller passed something that can never work
  kNotFound,
  kAlreadyExists,
  kIo,           // the OS refused: the message carries errno's text
  kCorruption,   // bytes on disk or on the wire that fail validation
  kUnsupported,  // valid, but not implemented by this build
  kUnavailable,  // a resource (io_uring, a lock, a port) cannot be had right now
  kConfig,       // a configuration error; details are in the diagnostics
  kCancelled,    // stopped on request
  kInternal,     // a bug: an invariant did not hold
};

std::string_view to_string(ErrorCode code);

// What failed, in words a user can act on. `sys_errno` is kept when the cause was a syscall
// so callers can branch on it (EAGAIN, ENOENT) without parsing text.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  int sys_errno = 0;

  // Prefixes context, outermost last: err.context("open segment") -> "open segment: ...".
  Error&& context(std::string_view what) && {
    message = fmt::format("{}: {}", what, message);
    return std::move(*this);
  }
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message), 0});
}

template <typename... Args>
tl::unexpected<Error> make_error(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  return tl::unexpected<Error>(Error{code, fmt::format(f, std::forward<Args>(args)...), 0});
}

// An Error from errno after a failed syscall: "what: strerror (errno N)".
tl::unexpected<Error> errno_error(int err, std::string_view what);

inline Status ok() { return {}; }

}  // namespace freshet

// Propagates an error from an expression returning Result<T> or Status.
#define FRESHET_TRY(expr)                                                         \
  do {                                                                            \
    if (auto freshet_try_r_ = (expr); !freshet_try_r_)                            \
      return tl::unexpected<::freshet::Error>(std::move(freshet_try_r_).error()); \
  } while (0)

#define FRESHET_CONCAT_INNER_(a, b) a##b
#define FRESHET_CONCAT_(a, b) FRESHET_CONCAT_INNER_(a, b)
// Evaluates a Result<T>, returns its error, or moves its value into `decl`:
//   FRESHET_ASSIGN_OR_RETURN(auto fd, fs.open(path));
#define FRESHET_ASSIGN_OR_RETURN(decl, expr)                       \
  auto FRESHET_CONCAT_(freshet_r_, __LINE__) = (expr);             \
  if (!FRESHET_CONCAT_(freshet_r_, __LINE__))                      \
    return tl::unexpected<::freshet::Error>(                       \
        std::move(FRESHET_CONCAT_(freshet_r_, __LINE__)).error()); \
  decl = std::move(*FRESHET_CONCAT_(freshet_r_, __LINE__))
