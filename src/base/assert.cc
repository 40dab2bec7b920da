#include "freshet/base/assert.h"

#include <cstdlib>

#include "freshet/base/log.h"

namespace freshet::detail {

void assert_failed(const char* expr, const char* file, int line, const std::string& message) {
  log::error("assertion failed: {} at {}:{}{}{}", expr, file, line, message.empty() ? "" : ": ",
             message);
  __builtin_trap();
}

}  // namespace freshet::detail
