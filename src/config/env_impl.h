#pragma once
// ${VAR} interpolation of scalar values (Vector and Docker Compose syntax). It runs on values
// yaml-cpp has already parsed, never on the raw text, so a variable cannot inject YAML and
// positions in the file stay right.

#include <string>
#include <string_view>
#include <vector>

#include "freshet/config/config.h"

namespace freshet::config {

struct EnvProblem {
  std::string_view code;  // codes::kEnvUnset or codes::kEnvSyntax
  size_t offset = 0;      // into the original value, where `$` is
  size_t length = 0;      // of the ${...} expression
  std::string message;
  std::string help;
};

struct Interpolated {
  std::string text;
  std::vector<EnvProblem> problems;
};

// Expands ${VAR} (unset: a problem), ${VAR:-default} (default when unset or empty),
// ${VAR:?message} (a problem carrying `message` when unset or empty) and $$ (one `$`).
// A `$` followed by anything else is kept as is, so SQL or paths with a lone `$` still work.
Interpolated interpolate(std::string_view value, const EnvLookup& env);

}  // namespace freshet::config
