#include "diag.h"

#include <algorithm>

namespace freshet::query {

void DiagSink::error(const char* code, const Token& at, std::string message, std::string label,
                     std::string help) {
  error_at(code, at.line, at.col, at.length, std::move(message), std::move(label), std::move(help));
}

void DiagSink::error_at(const char* code, uint32_t sql_line, uint32_t sql_col, uint32_t span,
                        std::string message, std::string label, std::string help) {
  Diagnostic d;
  d.code = code;
  d.message = std::move(message);
  if (origins_.empty()) {
    d.pos = {sql_line + 1, sql_col};
  } else {
    const SourcePos& o = origins_[std::min<size_t>(sql_line, origins_.size() - 1)];
    d.pos = {o.line, o.col + sql_col - 1};
  }
  d.span = span == 0 ? 1 : span;
  d.label = std::move(label);
  d.help = std::move(help);
  out_.push_back(std::move(d));
  ++count_;
}

std::string_view keyword_typo(std::string_view word,
                              const std::vector<std::string_view>& keywords) {
  std::string upper = to_upper(word);
  for (auto kw : keywords)
    if (upper == kw) return {};  // not a typo: the word itself
  if (auto m = closest_match(upper, keywords); !m.empty()) return m;
  for (auto kw : keywords) {
    if (kw.size() != upper.size() || kw.size() < 2) continue;
    size_t diff = 0, first = 0;
    for (size_t i = 0; i < kw.size(); ++i) {
      if (kw[i] != upper[i]) {
        if (diff == 0) first = i;
        ++diff;
      }
    }
    if (diff == 2 && first + 1 < kw.size() && kw[first] == upper[first + 1] &&
        kw[first + 1] == upper[first])
      return kw;
  }
  return {};
}

std::string_view closest_name(std::string_view word, const std::vector<std::string_view>& names) {
  if (auto m = closest_match(word, names); !m.empty()) return m;
  std::string_view found;
  if (word.size() < 3) return {};
  for (auto n : names) {
    if (n.size() > word.size() && n.substr(0, word.size()) == word) {
      if (!found.empty()) return {};  // ambiguous
      found = n;
    }
  }
  return found;
}

}  // namespace freshet::query
