#pragma once
// Reader: the checks every part of the schema shares, on top of yaml-cpp nodes. It walks maps
// (rejecting duplicate, unknown and unsupported keys), converts scalars to typed values (from
// their text, so YAML 1.1 booleans like `no` never sneak in), expands ${VAR}, and appends
// one Diagnostic per problem so the caller can keep going and report everything at once.
// Lifetime: one Reader per parse(); it borrows the source, the env lookup and the output.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/base/diagnostic.h"
#include "freshet/config/config.h"

namespace freshet::config {

// Where a YAML map sits, for messages and for the unsupported-feature table.
struct Scope {
  std::string path;    // concrete dotted path: "topics.payments"; "" at the top level
  std::string schema;  // the same with user-chosen names as `*`: "topics.*"
  std::string what;    // in messages: "topic `payments`"
  SourcePos pos;       // the key naming this map, for "missing key" errors
  uint32_t span = 1;
};

// One key of a map that passed the duplicate and unknown-key checks.
struct Entry {
  std::string key;
  SourcePos key_pos;
  uint32_t key_col0 = 0;  // 0-based column, the base of `|2` indentation indicators
  YAML::Node value;
  const Scope* scope = nullptr;  // the map holding it; outlives the Entry

  std::string path() const;  // "topics.payments.partitions"
  // The scope of the map this entry's value is, e.g. for `event_time:` in a topic.
  Scope child(std::string what, bool user_named = false) const;
};

// A scalar value after ${VAR} expansion.
struct Scalar {
  std::string text;
  SourcePos pos;
  uint32_t span = 1;
};

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

class Reader {
 public:
  Reader(const SourceText& src, const EnvLookup& env, std::vector<Diagnostic>& out)
      : src_(src), env_(env), out_(out) {}

  void report(std::string_view code, std::string message, SourcePos pos, uint32_t span,
              std::string label, std::string help);

  SourcePos pos_of(const YAML::Node& n) const;
  // The width of a node's text on its first line, for carets: quotes included.
  uint32_t span_of(const YAML::Node& n) const;

  // The entries of `map` in file order. Duplicates and keys not in `keys` are reported and
  // left out (an empty `keys` accepts any key: maps of user-chosen names). Keys listed in the
  // unsupported table are reported and kept, so their values are still checked.
  std::vector<Entry> entries(const YAML::Node& map, const Scope& scope,
                             std::span<const std::string_view> keys);
  // Reports kWrongType unless the entry's value is a map / a list.
  bool expect_map(const Entry& e);
  bool expect_list(const Entry& e);
  void missing(const Scope& scope, std::string_view key, std::string help);
  // Reports kBadName unless `name` is [A-Za-z_][A-Za-z0-9_-]*.
  bool check_name(const Entry& e, std::string_view kind);

  std::optional<Scalar> scalar(const Entry& e);
  std::optional<Scalar> scalar(const YAML::Node& n, const Entry& owner);
  std::optional<std::string> string(const Entry& e);  // non-empty
  std::optional<DurationMs> duration(const Entry& e);
  std::optional<uint64_t> size(const Entry& e);
  std::optional<double> rate(const Entry& e);
  std::optional<int64_t> integer(const Entry& e, int64_t lo, int64_t hi);
  std::optional<bool> boolean(const Entry& e);
  std::optional<TimestampMs> timestamp(const Entry& e);
  std::optional<ListenConfig> listen(const Entry& e);

  template <typename E>
  std::optional<E> enumeration(const Entry& e, std::span<const EnumName<E>> names) {
    auto s = scalar(e);
    if (!s) return std::nullopt;
    std::vector<std::string_view> valid;
    for (const auto& n : names) {
      if (n.name == s->text) return n.value;
      valid.push_back(n.name);
    }
    bad_enum(e, *s, valid);
    return std::nullopt;
  }

  const SourceText& source() const { return src_; }

 private:
  void bad_enum(const Entry& e, const Scalar& s, const std::vector<std::string_view>& valid);
  void wrong_type(const Entry& e, std::string_view expected, std::string help);

  const SourceText& src_;
  const EnvLookup& env_;
  std::vector<Diagnostic>& out_;
};

std::string join(const std::vector<std::string_view>& words, std::string_view sep);

// closest_match, plus one swap of adjacent letters ("dorp" for "drop"), which Levenshtein
// counts as two edits and so misses in short words.
std::string_view best_match(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace freshet::config
