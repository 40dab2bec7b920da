// `queries.<name>` and `sinks.<name>`.
#include <fmt/format.h>

#include <array>

#include "freshet/config/error_codes.h"
#include "scalar_position_impl.h"
#include "sections_impl.h"

namespace freshet::config {
namespace {

constexpr std::array<std::string_view, 5> kQueryKeys{"sql", "allowed_lateness", "late", "emit",
                                                     "early_every"};
constexpr std::array<std::string_view, 8> kSinkKeys{"type",     "inputs", "path",  "format",
                                                    "delivery", "rotate", "topic", "key"};
constexpr std::array<std::string_view, 2> kRotateKeys{"max_bytes", "max_age"};

constexpr std::array<EnumName<LatePolicy>, 2> kLateNames{
    {{"file", LatePolicy::kFile}, {"drop", LatePolicy::kDrop}}};
constexpr std::array<EnumName<EmitPolicy>, 3> kEmitNames{{{"on_window_close", EmitPolicy::kFinal},
                                                          {"final", EmitPolicy::kFinal},
                                                          {"early", EmitPolicy::kEarly}}};
constexpr std::array<EnumName<SinkType>, 2> kSinkTypeNames{
    {{"file", SinkType::kFile}, {"topic", SinkType::kTopic}}};
constexpr std::array<EnumName<SinkFormat>, 2> kFormatNames{
    {{"jsonl", SinkFormat::kJsonl}, {"csv", SinkFormat::kCsv}}};
constexpr std::array<EnumName<Delivery>, 2> kDeliveryNames{
    {{"exactly_once", Delivery::kExactlyOnce}, {"at_least_once", Delivery::kAtLeastOnce}}};

bool has_key(const std::vector<Entry>& entries, std::string_view key) {
  for (const Entry& e : entries)
    if (e.key == key) return true;
  return false;
}

void read_rotate(Reader& r, const Entry& e, std::string_view sink, SinkConfig& out) {
  Scope scope = e.child(fmt::format("in the `rotate` of sink `{}`", sink));
  for (const Entry& f : r.entries(e.value, scope, kRotateKeys)) {
    if (f.key == "max_bytes") {
      if (auto b = r.size(f)) out.rotate_max_bytes = *b;
    } else if (f.key == "max_age") {
      if (auto d = r.duration(f)) out.rotate_max_age = *d;
    }
  }
}

}  // namespace

void read_query(Reader& r, const Entry& e, QueryConfig& out) {
  Scope scope = e.child(fmt::format("in query `{}`", e.key), true);
  out.name = e.key;
  out.pos = e.key_pos;
  std::vector<Entry> entries = r.entries(e.value, scope, kQueryKeys);
  for (const Entry& f : entries) {
    if (f.key == "sql") {
      if (auto v = r.string(f)) {
        out.sql = *v;
        out.sql_line_origins = scalar_line_origins(r.source(), f.value, f.key_col0);
      }
    } else if (f.key == "allowed_lateness") {
      if (auto d = r.duration(f)) out.allowed_lateness = *d;
    } else if (f.key == "late") {
      if (auto p = r.enumeration<LatePolicy>(f, kLateNames)) out.late = *p;
    } else if (f.key == "emit") {
      if (auto p = r.enumeration<EmitPolicy>(f, kEmitNames)) out.emit = *p;
    } else if (f.key == "early_every") {
      auto d = r.duration(f);
      if (d && *d == 0)
        r.report(codes::kBadDuration, "`early_every` must be more than 0", r.pos_of(f.value),
                 r.span_of(f.value), "zero", "e.g. `early_every: 5s`");
      else if (d)
        out.early_every = *d;
    }
  }
  if (!has_key(entries, "sql"))
    r.missing(scope, "sql", "write the query as a block: `sql: |` and the SQL indented below");
}

void read_sink(Reader& r, const Entry& e, SinkConfig& out) {
  Scope scope = e.child(fmt::format("in sink `{}`", e.key), true);
  out.name = e.key;
  out.pos = e.key_pos;
  std::vector<Entry> entries = r.entries(e.value, scope, kSinkKeys);
  bool has_format = false;
  for (const Entry& f : entries) {
    if (f.key == "type") {
      if (auto t = r.enumeration<SinkType>(f, kSinkTypeNames)) out.type = *t;
    } else if (f.key == "inputs") {
      if (!r.expect_list(f)) continue;
      if (f.value.size() == 0) {
        r.report(codes::kEmptyValue, fmt::format("`inputs` {} is empty", scope.what),
                 r.pos_of(f.value), r.span_of(f.value), "expected at least one query",
                 "list the queries whose rows this sink writes, e.g. `inputs: [big_spenders]`");
      }
      for (const YAML::Node& item : f.value) {
        if (auto s = r.scalar(item, f)) {
          out.inputs.push_back(s->text);
          out.input_pos.push_back(s->pos);
        }
      }
    } else if (f.key == "path") {
      if (auto v = r.string(f)) {
        out.path = *v;
        out.path_pos = r.pos_of(f.value);
      }
    } else if (f.key == "format") {
      has_format = true;
      if (auto v = r.enumeration<SinkFormat>(f, kFormatNames)) out.format = *v;
    } else if (f.key == "delivery") {
      if (auto v = r.enumeration<Delivery>(f, kDeliveryNames)) {
        out.delivery = *v;
        out.delivery_pos = r.pos_of(f.value);
      }
    } else if (f.key == "rotate") {
      if (r.expect_map(f)) read_rotate(r, f, e.key, out);
    } else if (f.key == "topic") {
      if (auto v = r.string(f)) {
        out.topic = *v;
        out.topic_pos = r.pos_of(f.value);
      }
    } else if (f.key == "key") {
      if (auto v = r.string(f)) out.key_field = *v;
    }
  }
  // Without `format`, the file name decides: people who write `out.csv` expect CSV.
  if (!has_format && out.path.size() >= 4 && out.path.compare(out.path.size() - 4, 4, ".csv") == 0)
    out.format = SinkFormat::kCsv;
  if (!has_key(entries, "type")) r.missing(scope, "type", "write `type: file` or `type: topic`");
  if (!has_key(entries, "inputs"))
    r.missing(scope, "inputs", "list the queries it writes, e.g. `inputs: [big_spenders]`");
  if (out.type == SinkType::kTopic) {
    if (!has_key(entries, "topic"))
      r.missing(scope, "topic", "name the topic the rows go to, e.g. `topic: alerts`");
  } else if (!has_key(entries, "path")) {
    r.missing(scope, "path", "name the output file, e.g. `path: ./out/alerts.jsonl`");
  }
}

}  // namespace freshet::config
