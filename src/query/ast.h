#pragma once
// The parsed form of a query, before names are resolved. Expressions are one generic node
// type so the grammar can grow (arithmetic, CASE, CAST, function calls, OR) without new
// plumbing: the parser already builds calls, boolean operators and arithmetic, and the binder
// (compile.cc) decides what this release supports.

#include <memory>
#include <string>
#include <vector>

#include "lexer.h"

namespace freshet::query {

enum class ExprKind : uint8_t {
  kColumn,    // name = dotted path, e.g. "a.b.c"
  kLiteral,   // literal_type + text
  kStar,      // `*`, only meaningful as COUNT(*)
  kCall,      // name = upper-cased function name; args; distinct
  kCompare,   // name = "=", "!=", "<", "<=", ">", ">="; args[0] op args[1]
  kAnd,       // args[0] AND args[1]
  kOr,        // args[0] OR args[1]
  kNot,       // NOT args[0]
  kArith,     // name = "+", "-", "*", "/"; args[0] op args[1]
  kNegate,    // -args[0] (when not folded into a number literal)
  kInterval,  // INTERVAL 'text' UNIT: text = quantity (also args[0] as a literal), name = unit
  kIsNull,    // args[0] IS [NOT] NULL (negated)
  kIn,        // args[0] [NOT] IN (args[1..])
  kBetween,   // args[0] [NOT] BETWEEN args[1] AND args[2]
  kCase,      // CASE [operand] WHEN w THEN t ... [ELSE e] END: args = [operand] w t ... [e]
  kCast,      // CAST(args[0] AS name[(text)]): name = upper-cased type, text = scale or ""
  kConcatOp,  // args[0] || args[1]
};

enum class LiteralType : uint8_t { kNull, kBool, kNumber, kString };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  Token token;  // where diagnostics point: the column, literal, function name or operator
  std::string name;
  LiteralType literal_type = LiteralType::kNull;
  std::string text;       // literal text (number digits, unquoted string, "TRUE"/"FALSE")
  bool distinct = false;  // for kCall: f(DISTINCT ...)
  bool negated = false;   // kIsNull, kIn, kBetween: the NOT form
  bool has_operand = false, has_else = false;  // kCase
  std::vector<ExprPtr> args;
  Token unit_token;  // for kInterval
};

struct SelectItem {
  ExprPtr expr;
  std::string alias;  // empty if none
  Token alias_token;
};

struct TableRef {
  Token name;                 // topic, or table function name (TUMBLE, HOP, ...)
  bool is_call = false;       // name(args)
  std::vector<ExprPtr> args;  // for table functions
};

struct SelectStmt {
  Token select_token;
  std::vector<SelectItem> items;
  TableRef from;
  ExprPtr where;
  Token group_token;  // kEnd if there is no GROUP BY
  std::vector<ExprPtr> group_by;
  ExprPtr having;
};

// SQL text of an expression in canonical form: upper-case function names, no spaces inside
// calls ("COUNT(*)", "SUM(amount)"); used for unaliased output column names.
std::string to_sql(const Expr& e);

}  // namespace freshet::query
