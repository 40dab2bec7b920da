#include "freshet/base/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

namespace freshet::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
thread_local std::string t_tag;

bool stderr_is_terminal() {
  static const bool tty = isatty(STDERR_FILENO) == 1 && getenv("NO_COLOR") == nullptr;
  return tty;
}

std::string_view level_word(Level l) {
  switch (l) {
    case Level::kError:
      return "\033[1;31merror\033[0m";
    case Level::kWarn:
      return "\033[1;33mwarn\033[0m";
    case Level::kInfo:
      return "\033[1;32minfo\033[0m";
    case Level::kDebug:
      return "\033[2mdebug\033[0m";
  }
  return "";
}

}  // namespace

void set_level(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }
bool enabled(Level l) { return static_cast<int>(l) <= g_level.load(std::memory_order_relaxed); }
void set_thread_tag(std::string_view tag) { t_tag.assign(tag); }

void write(Level l, std::string_view message) {
  if (!enabled(l)) return;
  std::string line;
  line.reserve(message.size() + 32);
  if (stderr_is_terminal()) {
    line += level_word(l);
    line += ' ';
  } else {
    line += fmt::format("<{}>", static_cast<int>(l));
  }
  if (!t_tag.empty()) {
    line += '[';
    line += t_tag;
    line += "] ";
  }
  line += message;
  line += '\n';
  // One write per line keeps lines whole when several shards log at once.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace freshet::log
