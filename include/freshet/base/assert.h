#pragma once
// FRESHET_ASSERT is always on: it guards invariants that protect data on disk, logs the
// expression with a message, and traps. FRESHET_DCHECK is the same in debug builds only and
// is for hot paths. Neither is for user input: bad input is an Error, never a crash.

#include <fmt/format.h>

namespace freshet::detail {
[[noreturn]] void assert_failed(const char* expr, const char* file, int line,
                                const std::string& message);
}

#define FRESHET_ASSERT(cond, ...)                                                                 \
  do {                                                                                            \
    if (__builtin_expect(!(cond), 0))                                                             \
      ::freshet::detail::assert_failed(#cond, __FILE__, __LINE__, ::fmt::format("" __VA_ARGS__)); \
  } while (0)

#ifdef NDEBUG
#define FRESHET_DCHECK(cond, ...) \
  do {                            \
  } while (0 && (cond))
#else
#define FRESHET_DCHECK(cond, ...) FRESHET_ASSERT(cond, __VA_ARGS__)
#endif
