#pragma once
// Recursive-descent parser for one SELECT statement. It accepts a wider grammar than this
// release executes (OR, NOT, arithmetic, arbitrary calls, COUNT(DISTINCT ...)) so that the
// binder can point at exactly what is unsupported. Syntax errors stop parsing; constructs
// that are recognised but unsupported (ORDER BY, DISTINCT, joins, ...) are reported and, where
// the rest still parses, parsing goes on so all errors are found at once.

#include <optional>
#include <string_view>

#include "ast.h"
#include "diag.h"

namespace freshet::query {

// Returns the statement, or nullopt after a syntax error (reported to `diags`). A statement
// may come back with unsupported constructs already reported; the caller checks the count.
std::optional<SelectStmt> parse_select(std::string_view sql, DiagSink& diags);

}  // namespace freshet::query
