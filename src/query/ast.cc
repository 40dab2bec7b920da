#include "ast.h"

namespace freshet::query {

std::string to_sql(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kColumn:
      return e.name;
    case ExprKind::kLiteral:
      if (e.literal_type == LiteralType::kString) {
        std::string s = "'";
        for (char c : e.text) {
          if (c == '\'') s.push_back('\'');
          s.push_back(c);
        }
        return s + "'";
      }
      return e.literal_type == LiteralType::kNull ? "NULL" : e.text;
    case ExprKind::kStar:
      return "*";
    case ExprKind::kCall: {
      std::string s = e.name + "(";
      if (e.distinct) s += "DISTINCT ";
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (i > 0) s += ", ";
        s += to_sql(*e.args[i]);
      }
      return s + ")";
    }
    case ExprKind::kCompare:
    case ExprKind::kArith:
      return to_sql(*e.args[0]) + " " + e.name + " " + to_sql(*e.args[1]);
    case ExprKind::kAnd:
      return to_sql(*e.args[0]) + " AND " + to_sql(*e.args[1]);
    case ExprKind::kOr:
      return to_sql(*e.args[0]) + " OR " + to_sql(*e.args[1]);
    case ExprKind::kNot:
      return "NOT " + to_sql(*e.args[0]);
    case ExprKind::kNegate:
      return "-" + to_sql(*e.args[0]);
    case ExprKind::kInterval:
      return "INTERVAL '" + e.text + "' " + e.name;
    case ExprKind::kIsNull:
      return to_sql(*e.args[0]) + (e.negated ? " IS NOT NULL" : " IS NULL");
    case ExprKind::kIn: {
      std::string s = to_sql(*e.args[0]) + (e.negated ? " NOT IN (" : " IN (");
      for (size_t i = 1; i < e.args.size(); ++i) s += (i > 1 ? ", " : "") + to_sql(*e.args[i]);
      return s + ")";
    }
    case ExprKind::kBetween:
      return to_sql(*e.args[0]) + (e.negated ? " NOT BETWEEN " : " BETWEEN ") + to_sql(*e.args[1]) +
             " AND " + to_sql(*e.args[2]);
    case ExprKind::kCase: {
      std::string s = "CASE";
      size_t i = 0;
      if (e.has_operand) s += " " + to_sql(*e.args[i++]);
      size_t end = e.args.size() - (e.has_else ? 1 : 0);
      for (; i + 1 < end; i += 2)
        s += " WHEN " + to_sql(*e.args[i]) + " THEN " + to_sql(*e.args[i + 1]);
      if (e.has_else) s += " ELSE " + to_sql(*e.args.back());
      return s + " END";
    }
    case ExprKind::kCast:
      return "CAST(" + to_sql(*e.args[0]) + " AS " + e.name +
             (e.text.empty() ? "" : "(" + e.text + ")") + ")";
    case ExprKind::kConcatOp:
      return to_sql(*e.args[0]) + " || " + to_sql(*e.args[1]);
  }
  return "";
}

}  // namespace freshet::query
