#include "freshet/base/diagnostic.h"

#include <fmt/format.h>

#include <algorithm>

namespace freshet {

SourceText::SourceText(std::string name, std::string text)
    : name_(std::move(name)), text_(std::move(text)) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

std::string_view SourceText::line(uint32_t n) const {
  if (n == 0 || n > line_starts_.size()) return {};
  size_t begin = line_starts_[n - 1];
  size_t end = n < line_starts_.size() ? line_starts_[n] - 1 : text_.size();
  if (end > begin && text_[end - 1] == '\r') --end;
  return std::string_view(text_).substr(begin, end - begin);
}

SourcePos SourceText::pos_of(size_t offset) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  size_t line = static_cast<size_t>(it - line_starts_.begin());
  return SourcePos{static_cast<uint32_t>(line),
                   static_cast<uint32_t>(offset - line_starts_[line - 1] + 1)};
}

std::string render(const Diagnostic& d, const SourceText& src, DiagnosticFormat format,
                   bool color) {
  const char* bold = color ? "\033[1m" : "";
  const char* red = color ? "\033[1;31m" : "";
  const char* blue = color ? "\033[1;34m" : "";
  const char* reset = color ? "\033[0m" : "";
  std::string where =
      d.pos.line == 0 ? src.name() : fmt::format("{}:{}:{}", src.name(), d.pos.line, d.pos.col);
  if (format == DiagnosticFormat::kShort) {
    std::string out = fmt::format("{}: error: {}", where, d.message);
    if (!d.label.empty()) out += fmt::format(" ({})", d.label);
    if (!d.help.empty()) out += fmt::format("; help: {}", d.help);
    return out + "\n";
  }
  std::string out =
      fmt::format("{}error[{}]{}{}: {}{}\n", red, d.code, reset, bold, d.message, reset);
  out += fmt::format("  {}-->{} {}\n", blue, reset, where);
  std::string_view text = src.line(d.pos.line);
  if (d.pos.line != 0 && (!text.empty() || d.pos.col <= 1)) {
    std::string num = std::to_string(d.pos.line);
    std::string pad(num.size(), ' ');
    out += fmt::format("{} {}|{}\n", pad, blue, reset);
    out += fmt::format("{}{} |{} {}\n", blue, num, reset, text);
    // Tabs in the quoted line keep their width in the caret line.
    std::string lead;
    for (uint32_t i = 0; i + 1 < d.pos.col && i < text.size(); ++i)
      lead += text[i] == '\t' ? '\t' : ' ';
    uint32_t span = std::max<uint32_t>(1, d.span);
    out += fmt::format("{} {}|{} {}{}{}{}{}\n", pad, blue, reset, lead, red, std::string(span, '^'),
                       d.label.empty() ? "" : " " + d.label, reset);
  } else if (!d.label.empty()) {
    out += fmt::format("   = note: {}\n", d.label);
  }
  if (!d.help.empty()) out += fmt::format("   {}= help:{} {}\n", blue, reset, d.help);
  return out;
}

std::string render_all(const std::vector<Diagnostic>& ds, const SourceText& src,
                       DiagnosticFormat format, bool color) {
  std::string out;
  for (const auto& d : ds) {
    out += render(d, src, format, color);
    if (format == DiagnosticFormat::kHuman) out += "\n";
  }
  if (format == DiagnosticFormat::kHuman && !ds.empty()) {
    out +=
        fmt::format("{}error{}: {} error{}; configuration not valid\n", color ? "\033[1;31m" : "",
                    color ? "\033[0m" : "", ds.size(), ds.size() == 1 ? "" : "s");
  }
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string_view closest_match(std::string_view word,
                               const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_d = SIZE_MAX;
  for (auto c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // Plausible typo: at most a third of the word wrong, and never more than 3 edits.
  size_t limit = std::min<size_t>(3, std::max<size_t>(1, word.size() / 3));
  return best_d <= limit ? best : std::string_view{};
}

}  // namespace freshet
