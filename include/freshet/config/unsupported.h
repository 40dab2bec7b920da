#pragma once
// Config keys (or key: value pairs) that are part of the schema but not implemented by this
// build. They are rejected by name with kUnsupported (E0900), never silently ignored: a user
// who writes `checkpoint:` must not believe they have checkpoints. The table lives in
// src/config/unsupported.cc; delete a row when its feature lands.

#include <span>
#include <string_view>

namespace freshet::config {

struct UnsupportedFeature {
  // Dotted schema path; `*` stands for a user-chosen name: "topics.*.retention".
  std::string_view path;
  // "" = the key itself is unsupported; otherwise only this scalar value of it is.
  std::string_view value;
  std::string_view help;  // what to do instead; printed as "= help: ..."
};

std::span<const UnsupportedFeature> unsupported_features();

// The row matching a key at `schema_path` whose scalar value is `value` ("" for non-scalars).
const UnsupportedFeature* find_unsupported(std::string_view schema_path, std::string_view value);

}  // namespace freshet::config
