#pragma once
// Splits query SQL into tokens. Keywords are not special here: they are identifiers that
// the parser compares case-insensitively, so a misspelt keyword still reaches the parser as
// an identifier it can suggest a correction for.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace freshet::query {

enum class TokenKind : uint8_t {
  kIdent,        // bare identifier or keyword
  kQuotedIdent,  // "double quoted" identifier; text() is unquoted
  kNumber,       // 12, 1.5, 1e3
  kString,       // 'single quoted'; text() is unquoted with '' folded
  kSymbol,       // ( ) , . * = != <> < <= > >= + - / ; and any other single character
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  uint32_t offset = 0;  // byte offset in the SQL
  uint32_t line = 0;    // 0-based SQL line
  uint32_t col = 1;     // 1-based byte column in that line
  uint32_t length = 1;  // bytes of SQL the token spans (on its first line)

  bool is_symbol(std::string_view s) const { return kind == TokenKind::kSymbol && text == s; }
  // Case-insensitive keyword test; never true for quoted identifiers.
  bool is_keyword(std::string_view upper) const;
};

struct LexError {
  std::string message;
  uint32_t line = 0, col = 1, length = 1;
};

// Tokenizes all of `sql`, ending with a kEnd token. Stops at the first lexical error
// (unterminated string or quoted identifier) and reports it.
std::vector<Token> tokenize(std::string_view sql, std::vector<LexError>& errors);

std::string to_upper(std::string_view s);

}  // namespace freshet::query
