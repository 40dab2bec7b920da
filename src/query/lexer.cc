#include "lexer.h"

namespace freshet::query {

namespace {

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string to_upper(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return r;
}

bool Token::is_keyword(std::string_view upper) const {
  if (kind != TokenKind::kIdent || text.size() != upper.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

std::vector<Token> tokenize(std::string_view sql, std::vector<LexError>& errors) {
  std::vector<Token> out;
  uint32_t line = 0;
  size_t line_start = 0;
  size_t i = 0;
  auto make = [&](TokenKind kind, size_t begin, size_t end, std::string text) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.offset = static_cast<uint32_t>(begin);
    t.line = line;
    t.col = static_cast<uint32_t>(begin - line_start + 1);
    t.length = static_cast<uint32_t>(end - begin);
    out.push_back(std::move(t));
  };
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\n') {
      ++line;
      line_start = ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {  // comment to end of line
      while (i < sql.size() && sql[i] != '\n') ++i;
      continue;
    }
    size_t b = i;
    if (is_ident_start(c)) {
      while (i < sql.size() && is_ident_char(sql[i])) ++i;
      make(TokenKind::kIdent, b, i, std::string(sql.substr(b, i - b)));
      continue;
    }
    if (is_digit(c) || (c == '.' && i + 1 < sql.size() && is_digit(sql[i + 1]))) {
      while (i < sql.size() && (is_digit(sql[i]) || sql[i] == '.')) ++i;
      if (i < sql.size() && (sql[i] == 'e' || sql[i] == 'E')) {
        size_t j = i + 1;
        if (j < sql.size() && (sql[j] == '+' || sql[j] == '-')) ++j;
        if (j < sql.size() && is_digit(sql[j])) {
          i = j;
          while (i < sql.size() && is_digit(sql[i])) ++i;
        }
      }
      make(TokenKind::kNumber, b, i, std::string(sql.substr(b, i - b)));
      continue;
    }
    if (c == '\'' || c == '"') {
      // Quoted string or identifier; a doubled quote stands for one.
      std::string text;
      ++i;
      bool closed = false;
      while (i < sql.size()) {
        if (sql[i] == c) {
          if (i + 1 < sql.size() && sql[i + 1] == c) {
            text.push_back(c);
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        if (sql[i] == '\n') break;  // quoted text does not span lines
        text.push_back(sql[i++]);
      }
      if (!closed) {
        errors.push_back(
            {c == '\'' ? "unterminated string literal" : "unterminated quoted identifier", line,
             static_cast<uint32_t>(b - line_start + 1), 1});
        break;
      }
      make(c == '\'' ? TokenKind::kString : TokenKind::kQuotedIdent, b, i, std::move(text));
      continue;
    }
    static constexpr std::string_view kTwo[] = {"!=", "<>", "<=", ">=", "==", "||"};
    bool two = false;
    for (auto s : kTwo) {
      if (sql.substr(i, 2) == s) {
        i += 2;
        make(TokenKind::kSymbol, b, i, std::string(s == "==" ? "=" : s));
        two = true;
        break;
      }
    }
    if (two) continue;
    // Any other single character; the parser decides whether it means anything.
    ++i;
    make(TokenKind::kSymbol, b, i, std::string(sql.substr(b, 1)));
  }
  Token end;
  end.kind = TokenKind::kEnd;
  end.offset = static_cast<uint32_t>(sql.size());
  end.line = line;
  end.col = static_cast<uint32_t>(sql.size() - line_start + 1);
  end.length = 1;
  out.push_back(std::move(end));
  return out;
}

}  // namespace freshet::query
