#pragma once
// Diagnostics about user input (config files, SQL), reported all at once in the rustc style:
//
//   error[E0102]: unknown key `retension` in topic `payments`
//     --> pipeline.yaml:21:5
//      |
//   21 |     retension: 7d
//      |     ^^^^^^^^^ did you mean `retention`?
//
// Positions are 1-based lines and columns of the original file, so the query compiler maps
// SQL positions back to the YAML block they came from before reporting.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace freshet {

struct SourcePos {
  uint32_t line = 0;  // 1-based; 0 = no position (e.g. the file as a whole)
  uint32_t col = 0;   // 1-based, in bytes
};

struct Diagnostic {
  std::string code;     // stable id such as "E0102", for docs and tests
  std::string message;  // one line, lower case, no trailing period
  SourcePos pos;
  uint32_t span = 1;  // carets to draw under the offending text
  std::string label;  // printed after the carets
  std::string help;   // "= help: ..." line, optional
};

// A file's text, kept to quote the offending line in a diagnostic.
class SourceText {
 public:
  SourceText() = default;
  SourceText(std::string name, std::string text);
  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }
  // The line without its newline; empty when out of range.
  std::string_view line(uint32_t line_1based) const;
  // Line/column of a byte offset into text().
  SourcePos pos_of(size_t offset) const;

 private:
  std::string name_;
  std::string text_;
  std::vector<size_t> line_starts_;
};

enum class DiagnosticFormat { kHuman, kShort };

// Renders one diagnostic; `color` adds ANSI colour for terminals.
std::string render(const Diagnostic& d, const SourceText& src, DiagnosticFormat format, bool color);
// Renders them all plus the closing "error: N errors; configuration not valid" line.
std::string render_all(const std::vector<Diagnostic>& ds, const SourceText& src,
                       DiagnosticFormat format, bool color);

// Levenshtein distance with an early exit; for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word` if it is close enough to be a plausible typo, else "".
std::string_view closest_match(std::string_view word,
                               const std::vector<std::string_view>& candidates);

}  // namespace freshet
