#pragma once
// Where the bytes of a scalar's value sit in the raw YAML text. yaml-cpp only gives the mark
// of the node's first token (the `|` of a block scalar, the opening quote of a quoted one),
// so the SQL compiler and ${VAR} errors need this to point inside a value.

#include <yaml-cpp/yaml.h>

#include <string_view>
#include <vector>

#include "freshet/base/diagnostic.h"

namespace freshet::config {

// One origin per line of node.Scalar() (a trailing newline does not start a line): the 1-based
// YAML position of that line's first byte. `owner_col0` is the 0-based column of the key that
// owns the scalar; it is the base of an explicit indentation indicator such as `|2`.
// Exact for literal block scalars (`|`, `|-`, `|+`, `|2`) and one-line scalars; for folded and
// multi-line flow scalars it finds each line's start by searching the raw text.
std::vector<SourcePos> scalar_line_origins(const SourceText& src, const YAML::Node& node,
                                           uint32_t owner_col0);

// The YAML position of byte `offset` of `value`, given its line origins.
SourcePos locate_in_scalar(const std::vector<SourcePos>& origins, std::string_view value,
                           size_t offset);

}  // namespace freshet::config
