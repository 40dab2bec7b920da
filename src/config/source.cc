// `sources.<name>`: the built-in producers. Keys are checked per type, so a generator with a
// `path` is an error that says which type the key belongs to.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "freshet/config/error_codes.h"
#include "sections_impl.h"

namespace freshet::config {
namespace {

constexpr std::array<std::string_view, 2> kCommonKeys{"type", "to"};
constexpr std::array<std::string_view, 6> kGeneratorKeys{"profile", "rate",       "count",
                                                         "seed",    "start_time", "out_of_order"};
constexpr std::array<std::string_view, 3> kFileKeys{"path", "read_from", "bounded"};
constexpr std::array<std::string_view, 11> kAllKeys{
    "type",       "to",           "profile", "rate",      "count",  "seed",
    "start_time", "out_of_order", "path",    "read_from", "bounded"};

constexpr std::array<EnumName<SourceType>, 2> kTypeNames{
    {{"generator", SourceType::kGenerator}, {"file", SourceType::kFile}}};
constexpr std::array<EnumName<bool>, 2> kReadFromNames{{{"beginning", true}, {"end", false}}};
// The record shapes the generator knows; the sources module implements each one.
constexpr std::array<EnumName<int>, 1> kProfileNames{{{"payments", 0}}};

bool contains(std::span<const std::string_view> keys, std::string_view k) {
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}

std::span<const std::string_view> keys_of(SourceType t) {
  if (t == SourceType::kFile) return kFileKeys;
  return kGeneratorKeys;
}

// Reports a key that belongs to the other source type.
bool belongs_to(Reader& r, const Entry& f, std::optional<SourceType> type) {
  if (!type || contains(kCommonKeys, f.key) || contains(keys_of(*type), f.key)) return true;
  std::vector<std::string_view> valid(kCommonKeys.begin(), kCommonKeys.end());
  for (auto k : keys_of(*type)) valid.push_back(k);
  SourceType other = *type == SourceType::kFile ? SourceType::kGenerator : SourceType::kFile;
  r.report(
      codes::kUnknownKey,
      fmt::format("`{}` is not a key of {} sources {}", f.key, to_string(*type), f.scope->what),
      f.key_pos, static_cast<uint32_t>(f.key.size()),
      fmt::format("only for `{}` sources", to_string(other)),
      fmt::format("keys of {} sources: {}", to_string(*type), join(valid, ", ")));
  return false;
}

}  // namespace

void read_source(Reader& r, const Entry& e, SourceConfig& out) {
  Scope scope = e.child(fmt::format("in source `{}`", e.key), true);
  out.name = e.key;
  out.pos = e.key_pos;
  std::vector<Entry> entries = r.entries(e.value, scope, kAllKeys);

  // The type decides which other keys are valid, so read it first.
  std::optional<SourceType> type;
  bool has_type = false;
  for (const Entry& f : entries) {
    if (f.key != "type") continue;
    has_type = true;
    type = r.enumeration<SourceType>(f, kTypeNames);
    if (type) out.type = *type;
  }
  if (!has_type) r.missing(scope, "type", "write `type: generator` or `type: file`");

  bool has_to = false;
  std::optional<bool> read_from;
  for (const Entry& f : entries) {
    if (f.key == "type" || !belongs_to(r, f, type)) continue;
    if (f.key == "to") {
      has_to = true;
      if (auto v = r.string(f)) {
        out.to = *v;
        out.to_pos = r.pos_of(f.value);
      }
    } else if (f.key == "profile") {
      if (auto p = r.enumeration<int>(f, kProfileNames)) out.profile = kProfileNames[*p].name;
    } else if (f.key == "rate") {
      if (auto v = r.rate(f)) out.rate_per_sec = *v;
    } else if (f.key == "count") {
      auto n = r.integer(f, 0, INT64_MAX);
      if (n && *n == 0) {
        r.report(codes::kBadNumber, fmt::format("`count` {} must be at least 1", scope.what),
                 r.pos_of(f.value), r.span_of(f.value), "zero",
                 "leave `count` out for a generator that never stops");
      } else if (n) {
        out.count = static_cast<uint64_t>(*n);
      }
    } else if (f.key == "seed") {
      if (auto n = r.integer(f, 0, INT64_MAX)) out.seed = static_cast<uint64_t>(*n);
    } else if (f.key == "start_time") {
      if (auto t = r.timestamp(f)) out.start_time = *t;
    } else if (f.key == "out_of_order") {
      if (auto d = r.duration(f)) out.max_out_of_order = *d;
    } else if (f.key == "path") {
      if (auto v = r.string(f)) out.path = *v;
    } else if (f.key == "read_from") {
      read_from = r.enumeration<bool>(f, kReadFromNames);
    } else if (f.key == "bounded") {
      if (auto b = r.boolean(f)) out.bounded = *b;
    }
  }
  // A bounded file is history to replay, so it is read from the start unless told otherwise;
  // a live tail starts at the end as Vector's file source does.
  out.read_from_beginning = read_from.value_or(out.bounded);
  if (!has_to) r.missing(scope, "to", "name the topic it writes to, e.g. `to: payments`");
  if (type == SourceType::kFile && out.path.empty() &&
      std::none_of(entries.begin(), entries.end(), [](const Entry& f) { return f.key == "path"; }))
    r.missing(scope, "path", "name the file(s) to read, e.g. `path: ./input/*.jsonl`");
}

}  // namespace freshet::config
