#pragma once
// Query diagnostics: the error codes the SQL compiler reports, and a sink that maps SQL
// token positions to the YAML file the query came from.
//
//   E0301 syntax error             E0306 GROUP BY lacks window_start/window_end
//   E0302 unknown (misspelt) keyword  E0307 unknown function or bad aggregate arguments
//   E0303 not supported yet        E0308 invalid window interval
//   E0304 unknown topic            E0309 invalid WHERE or HAVING condition
//   E0305 column not grouped       E0310 duplicate output column name
//   E0311 column not in the input topic's schema
//   E0312 type error against the schema (SUM of a string, string = number, ...)

#include <string>
#include <vector>

#include "freshet/base/diagnostic.h"
#include "lexer.h"

namespace freshet::query {

inline constexpr const char* kESyntax = "E0301";
inline constexpr const char* kEUnknownKeyword = "E0302";
inline constexpr const char* kEUnsupported = "E0303";
inline constexpr const char* kEUnknownTopic = "E0304";
inline constexpr const char* kENotGrouped = "E0305";
inline constexpr const char* kEWindowGroup = "E0306";
inline constexpr const char* kEFunction = "E0307";
inline constexpr const char* kEInterval = "E0308";
inline constexpr const char* kECondition = "E0309";
inline constexpr const char* kEDuplicateColumn = "E0310";
inline constexpr const char* kEUnknownColumn = "E0311";
inline constexpr const char* kEType = "E0312";

class DiagSink {
 public:
  // `origins`: the YAML position of the first byte of each SQL line (may be empty: then
  // positions stay SQL-relative). Both references must outlive the sink.
  DiagSink(const std::vector<SourcePos>& origins, std::vector<Diagnostic>& out)
      : origins_(origins), out_(out) {}

  void error(const char* code, const Token& at, std::string message, std::string label = {},
             std::string help = {});
  void error_at(const char* code, uint32_t sql_line, uint32_t sql_col, uint32_t span,
                std::string message, std::string label = {}, std::string help = {});
  size_t count() const { return count_; }

 private:
  const std::vector<SourcePos>& origins_;
  std::vector<Diagnostic>& out_;
  size_t count_ = 0;
};

// The keyword `word` is most plausibly a misspelling of, or "" (case-insensitive; counts an
// adjacent transposition such as FORM/FROM as one edit).
std::string_view keyword_typo(std::string_view word, const std::vector<std::string_view>& keywords);

// The name `word` most plausibly stands for: closest_match, else the one candidate that
// `word` is a prefix of ("card" -> "card_id"); "" if none.
std::string_view closest_name(std::string_view word, const std::vector<std::string_view>& names);

}  // namespace freshet::query
