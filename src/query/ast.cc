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
  }
  return "";
}

}  // namespace freshet::query
