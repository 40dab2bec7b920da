#include <cctype>
#include <string>

#include "scalar_position_impl.h"

namespace freshet::config {
namespace {

std::vector<std::string_view> split_lines(std::string_view value) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (true) {
    size_t nl = value.find('\n', start);
    if (nl == std::string_view::npos) {
      if (start < value.size() || lines.empty()) lines.push_back(value.substr(start));
      return lines;
    }
    lines.push_back(value.substr(start, nl - start));
    start = nl + 1;
  }
}

uint32_t leading_spaces(std::string_view s) {
  uint32_t n = 0;
  while (n < s.size() && s[n] == ' ') ++n;
  return n;
}

bool blank(std::string_view s) {
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

// For scalars whose value lines do not map one-to-one onto source lines (folding joins lines
// with spaces): find each value line's start in the raw text, moving forward only.
std::vector<SourcePos> search_origins(const SourceText& src,
                                      const std::vector<std::string_view>& lines, SourcePos first) {
  std::vector<SourcePos> origins{first};
  uint32_t at = first.line;
  uint32_t last_line = src.pos_of(src.text().size()).line;
  for (size_t k = 1; k < lines.size(); ++k) {
    std::string_view v = lines[k];
    uint32_t lead = leading_spaces(v);
    std::string_view probe = v.substr(lead, 16);
    bool found = false;
    for (uint32_t s = at + 1; !probe.empty() && s <= last_line; ++s) {
      size_t p = src.line(s).find(probe);
      if (p == std::string_view::npos) continue;
      at = s;
      origins.push_back({s, static_cast<uint32_t>(p >= lead ? p - lead + 1 : 1)});
      found = true;
      break;
    }
    if (!found) origins.push_back({++at, 1});
  }
  return origins;
}

}  // namespace

std::vector<SourcePos> scalar_line_origins(const SourceText& src, const YAML::Node& node,
                                           uint32_t owner_col0) {
  YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0) return {};
  uint32_t line = static_cast<uint32_t>(mark.line) + 1;
  uint32_t col0 = static_cast<uint32_t>(mark.column);
  std::string_view raw = src.line(line);
  std::vector<std::string_view> lines = split_lines(node.Scalar());
  char indicator = col0 < raw.size() ? raw[col0] : '\0';

  if (indicator == '|' || indicator == '>') {
    // Header: indicator, then chomping (+/-) and an indentation digit in either order.
    uint32_t explicit_indent = 0;
    for (size_t i = col0 + 1; i < raw.size() && (raw[i] == '+' || raw[i] == '-' ||
                                                 std::isdigit(static_cast<unsigned char>(raw[i])));
         ++i)
      if (std::isdigit(static_cast<unsigned char>(raw[i]))) explicit_indent = raw[i] - '0';
    uint32_t content = line + 1;
    uint32_t indent = owner_col0 + explicit_indent;
    if (explicit_indent == 0) {
      // Auto-detected: the indentation of the first non-blank content line.
      indent = owner_col0 + 1;
      for (uint32_t s = content; s <= content + lines.size(); ++s) {
        if (!blank(src.line(s))) {
          indent = leading_spaces(src.line(s));
          break;
        }
      }
    }
    if (indicator == '>') return search_origins(src, lines, {content, indent + 1});
    std::vector<SourcePos> origins;
    for (uint32_t k = 0; k < lines.size(); ++k) origins.push_back({content + k, indent + 1});
    return origins;
  }
  // A quote shifts the value one column right of the mark.
  bool quoted = indicator == '"' || indicator == '\'';
  SourcePos first{line, col0 + 1 + (quoted ? 1u : 0u)};
  if (lines.size() == 1) return {first};
  return search_origins(src, lines, first);
}

SourcePos locate_in_scalar(const std::vector<SourcePos>& origins, std::string_view value,
                           size_t offset) {
  if (origins.empty()) return {};
  size_t k = 0;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < value.size(); ++i) {
    if (value[i] == '\n' && k + 1 < origins.size()) {
      ++k;
      line_start = i + 1;
    }
  }
  return {origins[k].line, origins[k].col + static_cast<uint32_t>(offset - line_start)};
}

}  // namespace freshet::config
