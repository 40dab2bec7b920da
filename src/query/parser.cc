#include "parser.h"

#include <fmt/format.h>

namespace freshet::query {

namespace {

// Words that end an expression or a list, so they are never taken as implicit aliases.
const std::vector<std::string_view> kReserved = {
    "SELECT", "FROM",  "WHERE",  "GROUP",    "BY",       "HAVING", "ORDER", "LIMIT", "AND",
    "OR",     "NOT",   "AS",     "JOIN",     "INNER",    "LEFT",   "RIGHT", "FULL",  "CROSS",
    "ON",     "UNION", "WINDOW", "INTERVAL", "DISTINCT", "CASE",   "WHEN",  "THEN",  "ELSE",
    "END",    "IS",    "IN",     "LIKE",     "BETWEEN",  "EMIT"};
// Clause keywords a misspelt word is compared against.
const std::vector<std::string_view> kClauses = {"FROM",   "WHERE", "GROUP",
                                                "HAVING", "ORDER", "LIMIT"};

class Parser {
 public:
  Parser(std::vector<Token> tokens, DiagSink& diags) : toks_(std::move(tokens)), diags_(diags) {}

  std::optional<SelectStmt> parse();

 private:
  const Token& peek(size_t ahead = 0) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  const Token& next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool accept_keyword(std::string_view kw) {
    if (!peek().is_keyword(kw)) return false;
    next();
    return true;
  }
  bool accept_symbol(std::string_view s) {
    if (!peek().is_symbol(s)) return false;
    next();
    return true;
  }
  bool reserved(const Token& t) const {
    if (t.kind != TokenKind::kIdent) return false;
    for (auto kw : kReserved)
      if (t.is_keyword(kw)) return true;
    return false;
  }
  // Reports a syntax error at the current token and stops parsing.
  void fail(std::string expected) {
    if (failed_) return;
    failed_ = true;
    const Token& t = peek();
    std::string found = t.kind == TokenKind::kEnd ? "end of query" : fmt::format("`{}`", t.text);
    diags_.error(kESyntax, t, fmt::format("expected {}, found {}", expected, found),
                 fmt::format("expected {}", expected));
  }
  void unsupported(const Token& t, std::string what, std::string help = {}) {
    diags_.error(kEUnsupported, t, fmt::format("{} is not supported yet", what),
                 "not supported yet", std::move(help));
  }
  // Expects a keyword; a plausible misspelling is reported as such.
  bool expect_keyword(std::string_view kw, const std::vector<std::string_view>& alternatives);

  ExprPtr parse_expr() { return parse_or(); }
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_additive();
  ExprPtr parse_multiplicative();
  ExprPtr parse_unary();
  ExprPtr parse_primary();
  ExprPtr parse_call(const Token& name);
  ExprPtr parse_case();
  ExprPtr parse_cast();
  ExprPtr binary(ExprKind kind, const Token& op, std::string name, ExprPtr l, ExprPtr r) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->token = op;
    e->name = std::move(name);
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return e;
  }
  void parse_select_items(SelectStmt& s);
  void parse_from(SelectStmt& s);
  void parse_tail(SelectStmt& s);

  std::vector<Token> toks_;
  size_t pos_ = 0;
  DiagSink& diags_;
  bool failed_ = false;
};

bool Parser::expect_keyword(std::string_view kw,
                            const std::vector<std::string_view>& alternatives) {
  if (accept_keyword(kw)) return true;
  const Token& t = peek();
  if (t.kind == TokenKind::kIdent) {
    std::vector<std::string_view> cands = alternatives;
    cands.push_back(kw);
    if (auto m = keyword_typo(t.text, cands); !m.empty()) {
      diags_.error(kEUnknownKeyword, t, fmt::format("unknown keyword `{}`", t.text),
                   fmt::format("did you mean `{}`?", m));
      failed_ = true;
      return false;
    }
  }
  fail(fmt::format("`{}`", kw));
  return false;
}

std::optional<SelectStmt> Parser::parse() {
  SelectStmt s;
  s.select_token = peek();
  if (!expect_keyword("SELECT", {})) return std::nullopt;
  if (peek().is_keyword("DISTINCT")) unsupported(next(), "SELECT DISTINCT");
  parse_select_items(s);
  if (failed_) return std::nullopt;
  if (!expect_keyword("FROM", kClauses)) return std::nullopt;
  parse_from(s);
  if (failed_) return std::nullopt;
  parse_tail(s);
  if (failed_) return std::nullopt;
  return s;
}

void Parser::parse_select_items(SelectStmt& s) {
  do {
    SelectItem item;
    if (peek().is_symbol("*")) {
      unsupported(peek(), "SELECT *", "list the columns and aggregates to output");
      auto e = std::make_unique<Expr>();
      e->kind = ExprKind::kStar;
      e->token = next();
      item.expr = std::move(e);
    } else {
      item.expr = parse_expr();
    }
    if (failed_) return;
    if (accept_keyword("AS")) {
      const Token& a = peek();
      if (a.kind != TokenKind::kIdent && a.kind != TokenKind::kQuotedIdent) {
        fail("an alias after AS");
        return;
      }
      item.alias = a.text;
      item.alias_token = next();
    } else if ((peek().kind == TokenKind::kIdent && !reserved(peek())) ||
               peek().kind == TokenKind::kQuotedIdent) {
      // An implicit alias, unless it looks like a misspelt clause keyword ("FORM").
      const Token& a = peek();
      if (a.kind == TokenKind::kIdent) {
        if (auto m = keyword_typo(a.text, kClauses); !m.empty()) {
          diags_.error(kEUnknownKeyword, a, fmt::format("unknown keyword `{}`", a.text),
                       fmt::format("did you mean `{}`?", m));
          failed_ = true;
          return;
        }
      }
      item.alias = a.text;
      item.alias_token = next();
    }
    s.items.push_back(std::move(item));
  } while (accept_symbol(","));
}

void Parser::parse_from(SelectStmt& s) {
  const Token& t = peek();
  if (t.is_symbol("(")) {
    unsupported(t, "a subquery in FROM");
    failed_ = true;
    return;
  }
  if (t.kind != TokenKind::kIdent && t.kind != TokenKind::kQuotedIdent) {
    fail("a window function such as TUMBLE(topic, ts, INTERVAL '1' MINUTE)");
    return;
  }
  s.from.name = next();
  if (accept_symbol("(")) {
    s.from.is_call = true;
    if (!peek().is_symbol(")")) {
      do {
        // Flink spells the arguments TABLE t and DESCRIPTOR(ts); accept the plain forms only.
        s.from.args.push_back(parse_expr());
        if (failed_) return;
      } while (accept_symbol(","));
    }
    if (!accept_symbol(")")) {
      fail("`,` or `)`");
      return;
    }
  }
  // Optional table alias.
  if (peek().kind == TokenKind::kIdent && !reserved(peek())) {
    if (auto m = keyword_typo(peek().text, kClauses); !m.empty()) {
      diags_.error(kEUnknownKeyword, peek(), fmt::format("unknown keyword `{}`", peek().text),
                   fmt::format("did you mean `{}`?", m));
      failed_ = true;
      return;
    }
    next();
  } else if (accept_keyword("AS")) {
    next();
  }
  const Token& j = peek();
  if (j.is_symbol(",") || j.is_keyword("JOIN") || j.is_keyword("INNER") || j.is_keyword("LEFT") ||
      j.is_keyword("RIGHT") || j.is_keyword("FULL") || j.is_keyword("CROSS")) {
    unsupported(j, "a join");
    failed_ = true;
  }
}

void Parser::parse_tail(SelectStmt& s) {
  if (accept_keyword("WHERE")) {
    s.where = parse_expr();
    if (failed_) return;
  }
  s.group_token = peek();
  if (peek().is_keyword("GROUP")) {
    next();
    if (!expect_keyword("BY", {})) return;
    do {
      s.group_by.push_back(parse_expr());
      if (failed_) return;
    } while (accept_symbol(","));
  } else {
    s.group_token = Token{};
  }
  if (accept_keyword("HAVING")) {
    s.having = parse_expr();
    if (failed_) return;
  }
  while (peek().is_keyword("ORDER") || peek().is_keyword("LIMIT") || peek().is_keyword("UNION") ||
         peek().is_keyword("WINDOW") || peek().is_keyword("EMIT")) {
    const Token& t = peek();
    unsupported(t, to_upper(t.text) == "ORDER" ? "ORDER BY" : to_upper(t.text),
                "rows come out ordered by window_end, then window_start, then group key");
    // Skip the clause to look for further errors.
    next();
    while (peek().kind != TokenKind::kEnd && !peek().is_symbol(";") &&
           !peek().is_keyword("ORDER") && !peek().is_keyword("LIMIT") &&
           !peek().is_keyword("UNION") && !peek().is_keyword("WINDOW") &&
           !peek().is_keyword("EMIT"))
      next();
  }
  accept_symbol(";");
  if (peek().kind != TokenKind::kEnd) {
    const Token& t = peek();
    if (t.kind == TokenKind::kIdent) {
      if (auto m = keyword_typo(t.text, kClauses); !m.empty()) {
        diags_.error(kEUnknownKeyword, t, fmt::format("unknown keyword `{}`", t.text),
                     fmt::format("did you mean `{}`?", m));
        failed_ = true;
        return;
      }
    }
    fail(s.group_token.kind == TokenKind::kEnd ? "WHERE, GROUP BY or the end of the query"
                                               : "HAVING or the end of the query");
  }
}

ExprPtr Parser::parse_or() {
  ExprPtr l = parse_and();
  while (!failed_ && peek().is_keyword("OR")) {
    const Token& op = next();
    l = binary(ExprKind::kOr, op, "OR", std::move(l), parse_and());
  }
  return l;
}

ExprPtr Parser::parse_and() {
  ExprPtr l = parse_not();
  while (!failed_ && peek().is_keyword("AND")) {
    const Token& op = next();
    l = binary(ExprKind::kAnd, op, "AND", std::move(l), parse_not());
  }
  return l;
}

ExprPtr Parser::parse_not() {
  if (peek().is_keyword("NOT")) {
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::kNot;
    e->token = next();
    e->args.push_back(parse_not());
    return e;
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
  ExprPtr l = parse_additive();
  if (failed_) return l;
  const Token& t = peek();
  static constexpr std::string_view kOps[] = {"=", "!=", "<>", "<", "<=", ">", ">="};
  for (auto op : kOps) {
    if (t.is_symbol(op)) {
      const Token& tok = next();
      return binary(ExprKind::kCompare, tok, op == "<>" ? "!=" : std::string(op), std::move(l),
                    parse_additive());
    }
  }
  if (t.is_keyword("IS")) {
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::kIsNull;
    e->token = next();
    e->negated = accept_keyword("NOT");
    if (!accept_keyword("NULL")) {
      fail("NULL after IS");
      return e;
    }
    e->args.push_back(std::move(l));
    return e;
  }
  bool negated = false;
  if (t.is_keyword("NOT") &&
      (peek(1).is_keyword("IN") || peek(1).is_keyword("BETWEEN") || peek(1).is_keyword("LIKE"))) {
    next();
    negated = true;
  }
  const Token& k = peek();
  if (k.is_keyword("IN")) {
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::kIn;
    e->token = next();
    e->negated = negated;
    e->args.push_back(std::move(l));
    if (!accept_symbol("(")) {
      fail("`(` after IN");
      return e;
    }
    if (peek().is_keyword("SELECT")) {
      unsupported(peek(), "a subquery");
      failed_ = true;
      return e;
    }
    do {
      e->args.push_back(parse_expr());
      if (failed_) return e;
    } while (accept_symbol(","));
    if (!accept_symbol(")")) fail("`,` or `)`");
    return e;
  }
  if (k.is_keyword("BETWEEN")) {
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::kBetween;
    e->token = next();
    e->negated = negated;
    e->args.push_back(std::move(l));
    e->args.push_back(parse_additive());  // not parse_and: the AND belongs to BETWEEN
    if (failed_) return e;
    if (!expect_keyword("AND", {})) return e;
    e->args.push_back(parse_additive());
    return e;
  }
  if (k.is_keyword("LIKE")) {
    unsupported(k, "LIKE");
    failed_ = true;
  }
  return l;
}

ExprPtr Parser::parse_additive() {
  ExprPtr l = parse_multiplicative();
  while (!failed_ && (peek().is_symbol("+") || peek().is_symbol("-") || peek().is_symbol("||"))) {
    const Token& op = next();
    l = binary(op.text == "||" ? ExprKind::kConcatOp : ExprKind::kArith, op, op.text, std::move(l),
               parse_multiplicative());
  }
  return l;
}

ExprPtr Parser::parse_multiplicative() {
  ExprPtr l = parse_unary();
  while (!failed_ && (peek().is_symbol("*") || peek().is_symbol("/") || peek().is_symbol("%"))) {
    const Token& op = next();
    l = binary(ExprKind::kArith, op, op.text, std::move(l), parse_unary());
  }
  return l;
}

ExprPtr Parser::parse_unary() {
  if (peek().is_symbol("-")) {
    Token minus = next();
    if (peek().kind == TokenKind::kNumber) {
      // Fold into the literal so "-5" is one number token for diagnostics and values.
      Token num = next();
      auto e = std::make_unique<Expr>();
      e->kind = ExprKind::kLiteral;
      e->literal_type = LiteralType::kNumber;
      e->text = "-" + num.text;
      e->token = minus;
      e->token.length = num.offset + num.length - minus.offset;
      return e;
    }
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::kNegate;
    e->token = minus;
    e->args.push_back(parse_unary());
    return e;
  }
  if (peek().is_symbol("+")) next();
  return parse_primary();
}

ExprPtr Parser::parse_primary() {
  const Token& t = peek();
  auto e = std::make_unique<Expr>();
  e->token = t;
  switch (t.kind) {
    case TokenKind::kNumber:
      e->kind = ExprKind::kLiteral;
      e->literal_type = LiteralType::kNumber;
      e->text = next().text;
      return e;
    case TokenKind::kString:
      e->kind = ExprKind::kLiteral;
      e->literal_type = LiteralType::kString;
      e->text = next().text;
      return e;
    case TokenKind::kSymbol:
      if (t.is_symbol("(")) {
        next();
        if (peek().is_keyword("SELECT")) {
          unsupported(peek(), "a subquery");
          failed_ = true;
          return e;
        }
        ExprPtr inner = parse_expr();
        if (!failed_ && !accept_symbol(")")) fail("`)`");
        return inner;
      }
      if (t.is_symbol("*")) {
        e->kind = ExprKind::kStar;
        next();
        return e;
      }
      fail("an expression");
      return e;
    case TokenKind::kEnd:
      fail("an expression");
      return e;
    case TokenKind::kIdent:
    case TokenKind::kQuotedIdent:
      break;
  }
  if (t.kind == TokenKind::kIdent) {
    if (t.is_keyword("TRUE") || t.is_keyword("FALSE")) {
      e->kind = ExprKind::kLiteral;
      e->literal_type = LiteralType::kBool;
      e->text = to_upper(next().text);
      return e;
    }
    if (t.is_keyword("NULL")) {
      next();
      e->kind = ExprKind::kLiteral;
      e->literal_type = LiteralType::kNull;
      return e;
    }
    if (t.is_keyword("INTERVAL")) {
      next();
      e->kind = ExprKind::kInterval;
      const Token& q = peek();
      if (q.kind != TokenKind::kString && q.kind != TokenKind::kNumber) {
        fail("a quantity such as '1' after INTERVAL");
        return e;
      }
      auto quantity = std::make_unique<Expr>();
      quantity->kind = ExprKind::kLiteral;
      quantity->literal_type =
          q.kind == TokenKind::kString ? LiteralType::kString : LiteralType::kNumber;
      quantity->token = q;
      quantity->text = q.text;
      e->text = next().text;
      e->args.push_back(std::move(quantity));
      e->unit_token = peek();
      if (peek().kind != TokenKind::kIdent) {
        fail("a unit such as SECOND or MINUTE");
        return e;
      }
      e->name = to_upper(next().text);
      return e;
    }
    if (t.is_keyword("CASE")) return parse_case();
    if (t.is_keyword("CAST") && peek(1).is_symbol("(")) return parse_cast();
    if (reserved(t)) {
      fail("an expression");
      return e;
    }
  }
  const Token& name = next();
  if (name.kind == TokenKind::kIdent && peek().is_symbol("(")) return parse_call(name);
  // A column, possibly nested: a.b.c
  e->kind = ExprKind::kColumn;
  e->name = name.text;
  uint32_t end = name.offset + name.length;
  bool one_line = true;
  while (peek().is_symbol(".")) {
    next();
    const Token& part = peek();
    if (part.kind != TokenKind::kIdent && part.kind != TokenKind::kQuotedIdent) {
      fail("a field name after `.`");
      return e;
    }
    e->name += ".";
    e->name += part.text;
    end = part.offset + part.length;
    one_line = one_line && part.line == name.line;
    next();
  }
  if (one_line) e->token.length = end - name.offset;
  return e;
}

ExprPtr Parser::parse_call(const Token& name) {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::kCall;
  e->token = name;
  e->name = to_upper(name.text);
  next();  // (
  if (peek().is_keyword("DISTINCT")) {
    e->distinct = true;
    next();
  }
  if (!peek().is_symbol(")")) {
    do {
      e->args.push_back(parse_expr());
      if (failed_) return e;
    } while (accept_symbol(","));
  }
  if (!accept_symbol(")")) fail("`,` or `)`");
  return e;
}

ExprPtr Parser::parse_case() {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::kCase;
  e->token = next();  // CASE
  if (!peek().is_keyword("WHEN")) {
    e->has_operand = true;
    e->args.push_back(parse_expr());
    if (failed_) return e;
  }
  if (!peek().is_keyword("WHEN")) {
    fail("WHEN");
    return e;
  }
  while (accept_keyword("WHEN")) {
    e->args.push_back(parse_expr());
    if (failed_) return e;
    if (!expect_keyword("THEN", {})) return e;
    e->args.push_back(parse_expr());
    if (failed_) return e;
  }
  if (accept_keyword("ELSE")) {
    e->has_else = true;
    e->args.push_back(parse_expr());
    if (failed_) return e;
  }
  expect_keyword("END", {});
  return e;
}

ExprPtr Parser::parse_cast() {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::kCast;
  e->token = next();  // CAST
  next();             // (
  e->args.push_back(parse_expr());
  if (failed_) return e;
  if (!expect_keyword("AS", {})) return e;
  e->unit_token = peek();
  if (peek().kind != TokenKind::kIdent) {
    fail("a type such as BIGINT, DOUBLE, DECIMAL, VARCHAR, BOOLEAN or TIMESTAMP");
    return e;
  }
  e->name = to_upper(next().text);
  if (e->name == "DOUBLE" && peek().is_keyword("PRECISION")) next();
  if (accept_symbol("(")) {
    // DECIMAL(p, s) / VARCHAR(n): keep the last number (the scale for DECIMAL).
    while (!failed_ && !peek().is_symbol(")") && peek().kind != TokenKind::kEnd) {
      if (peek().kind == TokenKind::kNumber) e->text = peek().text;
      next();
    }
    if (!accept_symbol(")")) fail("`)`");
    if (e->name != "DECIMAL" && e->name != "NUMERIC") e->text.clear();
  }
  if (!failed_ && !accept_symbol(")")) fail("`)`");
  return e;
}

}  // namespace

std::optional<SelectStmt> parse_select(std::string_view sql, DiagSink& diags) {
  std::vector<LexError> lex_errors;
  std::vector<Token> tokens = tokenize(sql, lex_errors);
  if (!lex_errors.empty()) {
    for (const auto& le : lex_errors)
      diags.error_at(kESyntax, le.line, le.col, le.length, le.message);
    return std::nullopt;
  }
  Parser p(std::move(tokens), diags);
  return p.parse();
}

}  // namespace freshet::query
