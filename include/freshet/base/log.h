#pragma once
// The process logger. One line per event on stderr, with a journald priority prefix
// ("<3>" error ... "<7>" debug) when stderr is not a terminal, so `journalctl -p warning`
// works under systemd; on a terminal it prints a coloured level word instead. Each line is
// written with one write(2), so lines from different shards never interleave.
// Thread-safe; never call it per record on a hot path.

#include <fmt/format.h>

#include <string_view>

namespace freshet::log {

enum class Level { kError = 3, kWarn = 4, kInfo = 6, kDebug = 7 };

void set_level(Level level);
Level level();
bool enabled(Level level);
// The component written at the head of lines from this thread, e.g. "shard 1".
void set_thread_tag(std::string_view tag);
void write(Level level, std::string_view message);

template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace freshet::log
