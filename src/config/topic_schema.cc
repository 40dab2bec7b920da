// `topics.<name>.schema`: the typed view of a topic's JSON record values that SQL compiles
// against (DESIGN §4), and the check that the topic's event-time field fits it.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "freshet/config/error_codes.h"
#include "sections_impl.h"

namespace freshet::config {
namespace {

// The canonical spellings first: they are what help texts list.
constexpr size_t kCanonicalTypes = 5;
// SQL spellings people paste from Flink or RisingWave DDL are accepted too. Numbers stay exact
// decimals while they fit whatever the declared type, so decimal and numeric are double.
constexpr std::array<EnumName<FieldType>, 16> kTypeNames{{
    {"string", FieldType::kString},
    {"int", FieldType::kInt},
    {"double", FieldType::kDouble},
    {"bool", FieldType::kBool},
    {"timestamp", FieldType::kTimestamp},
    {"varchar", FieldType::kString},
    {"text", FieldType::kString},
    {"bigint", FieldType::kInt},
    {"integer", FieldType::kInt},
    {"long", FieldType::kInt},
    {"float", FieldType::kDouble},
    {"real", FieldType::kDouble},
    {"decimal", FieldType::kDouble},
    {"numeric", FieldType::kDouble},
    {"boolean", FieldType::kBool},
    {"datetime", FieldType::kTimestamp},
}};

std::string canonical_list() {
  std::vector<std::string_view> names;
  for (size_t i = 0; i < kCanonicalTypes; ++i) names.push_back(kTypeNames[i].name);
  return join(names, ", ");
}

// Dotted paths with no empty part: `geo.lat`, not `geo..lat` or `.lat`.
bool valid_path(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') return false;
  return name.find("..") == std::string_view::npos;
}

std::optional<FieldType> read_type(Reader& r, const Entry& f) {
  if (f.value.IsMap()) {
    r.report(codes::kWrongType,
             fmt::format("`{}` {} must be a type, not a map", f.key, f.scope->what),
             r.pos_of(f.value), r.span_of(f.value), "expected a type",
             fmt::format("write nested fields with dots, e.g. `{}.lat: double`", f.key));
    return std::nullopt;
  }
  auto s = r.scalar(f);
  if (!s) return std::nullopt;
  // Types are SQL words, so case does not matter (BIGINT, Timestamp).
  std::string lower = s->text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string_view> spellings;
  for (const auto& n : kTypeNames) {
    if (n.name == lower) return n.value;
    spellings.push_back(n.name);
  }
  std::string_view meant = best_match(lower, spellings);
  r.report(codes::kUnknownType,
           fmt::format("unknown type `{}` for field `{}` {}", s->text, f.key, f.scope->what),
           s->pos, s->span,
           meant.empty() ? fmt::format("expected one of: {}", canonical_list())
                         : fmt::format("did you mean `{}`?", meant),
           fmt::format("types: {}", canonical_list()));
  return std::nullopt;
}

// `geo: string` next to `geo.lat: double` cannot both hold for one record: reported at the
// later of the two.
void check_nesting(Reader& r, std::string_view topic, const std::vector<SchemaField>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    for (size_t j = 0; j < fields.size(); ++j) {
      const SchemaField& outer = fields[i];
      const SchemaField& inner = fields[j];
      if (inner.name.size() <= outer.name.size() || inner.name[outer.name.size()] != '.' ||
          inner.name.compare(0, outer.name.size(), outer.name) != 0)
        continue;
      const SchemaField& later = outer.pos.line > inner.pos.line ? outer : inner;
      const SchemaField& earlier = &later == &outer ? inner : outer;
      r.report(codes::kSchemaConflict,
               fmt::format("field `{}` is nested in `{}`, which the schema of topic `{}` declares "
                           "as {}",
                           inner.name, outer.name, topic, to_string(outer.type)),
               later.pos, static_cast<uint32_t>(later.name.size()),
               fmt::format("conflicts with `{}` on line {}", earlier.name, earlier.pos.line),
               "a field either holds a value or holds nested fields; keep one of the two");
    }
  }
}

}  // namespace

std::string_view to_string(FieldType v) {
  for (size_t i = 0; i < kCanonicalTypes; ++i)
    if (kTypeNames[i].value == v) return kTypeNames[i].name;
  return "?";
}

bool read_schema(Reader& r, const Entry& e, std::string_view topic, std::vector<SchemaField>& out) {
  Scope scope = e.child(fmt::format("in the schema of topic `{}`", topic));
  std::vector<Entry> fields = r.entries(e.value, scope, {});
  if (fields.empty() && e.value.size() == 0) {
    r.report(codes::kEmptyValue, fmt::format("the schema of topic `{}` declares no fields", topic),
             e.key_pos, static_cast<uint32_t>(e.key.size()), "no fields",
             "list the fields as `name: type`, or remove `schema:` to type values record by "
             "record");
    return false;
  }
  bool complete = fields.size() == e.value.size();
  for (const Entry& f : fields) {
    if (!valid_path(f.key)) {
      complete = false;
      r.report(codes::kBadName, fmt::format("`{}` is not a valid field name", f.key), f.key_pos,
               static_cast<uint32_t>(std::max<size_t>(1, f.key.size())), "empty part",
               "nested fields are written with one dot between names, e.g. `geo.lat`");
      continue;
    }
    if (auto t = read_type(r, f))
      out.push_back(SchemaField{f.key, *t, f.key_pos});
    else
      complete = false;
  }
  check_nesting(r, topic, out);
  return complete;
}

void check_event_time_schema(Reader& r, const TopicConfig& t) {
  if (t.schema.empty() || !t.event_time || t.event_time->field.empty()) return;
  const EventTimeConfig& et = *t.event_time;
  auto span = static_cast<uint32_t>(et.field.size());
  auto it = std::find_if(t.schema.begin(), t.schema.end(),
                         [&](const SchemaField& f) { return f.name == et.field; });
  if (it == t.schema.end()) {
    std::vector<std::string_view> names;
    for (const SchemaField& f : t.schema) names.push_back(f.name);
    std::string_view meant = best_match(et.field, names);
    r.report(
        codes::kEventTimeNotInSchema,
        fmt::format("event-time field `{}` is not in the schema of topic `{}`", et.field, t.name),
        et.field_pos, span,
        meant.empty() ? "not in `schema`" : fmt::format("did you mean `{}`?", meant),
        fmt::format("add `{}: timestamp` to the schema; its fields: {}", et.field,
                    join(names, ", ")));
    return;
  }
  if (it->type == FieldType::kTimestamp || it->type == FieldType::kInt) return;
  r.report(codes::kEventTimeType,
           fmt::format("event-time field `{}` of topic `{}` is declared {}", et.field, t.name,
                       to_string(it->type)),
           et.field_pos, span,
           fmt::format("declared `{}` on line {}", to_string(it->type), it->pos.line),
           "event time is epoch milliseconds or an RFC 3339 string: declare it `timestamp` "
           "(either form) or `int` (milliseconds)");
}

}  // namespace freshet::config
