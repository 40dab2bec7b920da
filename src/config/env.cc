#include <fmt/format.h>

#include <cctype>
#include <cstdlib>

#include "env_impl.h"
#include "freshet/config/error_codes.h"

namespace freshet::config {
namespace {

bool is_name(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Interpolated interpolate(std::string_view value, const EnvLookup& env) {
  Interpolated out;
  out.text.reserve(value.size());
  size_t i = 0;
  while (i < value.size()) {
    char c = value[i];
    if (c != '$' || i + 1 >= value.size() || (value[i + 1] != '$' && value[i + 1] != '{')) {
      out.text += c;
      ++i;
      continue;
    }
    if (value[i + 1] == '$') {
      out.text += '$';
      i += 2;
      continue;
    }
    size_t close = value.find('}', i + 2);
    if (close == std::string_view::npos) {
      out.problems.push_back({codes::kEnvSyntax, i, value.size() - i, "unterminated `${`",
                              "close it with `}`, or write `$$` for a literal `$`"});
      out.text += value.substr(i);
      break;
    }
    std::string_view expr = value.substr(i + 2, close - i - 2);
    size_t length = close + 1 - i;
    size_t op = expr.find(':');
    std::string_view name = expr.substr(0, op);
    std::string_view arg;
    char kind = 0;  // 0: ${VAR}, '-': default, '?': required with message
    if (op != std::string_view::npos) {
      if (op + 1 < expr.size() && (expr[op + 1] == '-' || expr[op + 1] == '?')) {
        kind = expr[op + 1];
        arg = expr.substr(op + 2);
      } else {
        name = {};  // forces the syntax problem below
      }
    }
    if (!is_name(name)) {
      out.problems.push_back({codes::kEnvSyntax, i, length,
                              fmt::format("`${{{}}}` is not a valid variable reference", expr),
                              "write ${NAME}, ${NAME:-default} or ${NAME:?message}, or `$$` "
                              "for a literal `$`"});
      i = close + 1;
      continue;
    }
    std::optional<std::string> v = env(std::string(name));
    if (kind == '-' && (!v || v->empty())) v = std::string(arg);
    if (kind == '?' && (!v || v->empty())) {
      out.problems.push_back(
          {codes::kEnvUnset, i, length,
           fmt::format("environment variable `{}` is {}: {}", name, v ? "empty" : "not set", arg),
           fmt::format("set {} in the environment of freshet", name)});
    } else if (!v) {
      out.problems.push_back({codes::kEnvUnset, i, length,
                              fmt::format("environment variable `{}` is not set", name),
                              fmt::format("set it, or give a default: ${{{}:-value}}", name)});
    } else {
      out.text += *v;
    }
    i = close + 1;
  }
  return out;
}

}  // namespace freshet::config
