#include "row_format.h"

#include "aggregate.h"
#include "freshet/base/time.h"
#include "key_encoding.h"

namespace freshet::query {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + start, i - start);
    start = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + start, s.size() - start);
  out.push_back('"');
}

bool format_row(const PlanSpec& plan, TimestampMs window_start, std::string_view key,
                const AggState* states, const char* bytes, std::string& out) {
  // Group values in key order, so SELECT can list them in any order.
  std::string_view groups[16];
  std::vector<std::string_view> many;
  std::string_view* g = groups;
  size_t n = plan.group_fields.size();
  if (n > 16) {
    many.resize(n);
    g = many.data();
  }
  std::string scratch;
  for (size_t i = 0; i < n; ++i) {
    std::string_view before = key;
    if (!append_key_value_json(key, scratch)) return false;
    g[i] = before.substr(0, before.size() - key.size());
  }
  out.push_back('{');
  char ts[24];
  for (const OutputColumn& c : plan.outputs) {
    out += c.json_prefix;
    switch (c.kind) {
      case OutputKind::kGroup: {
        std::string_view enc = g[c.index];
        append_key_value_json(enc, out);
        break;
      }
      case OutputKind::kWindowStart:
      case OutputKind::kWindowEnd:
        format_rfc3339_ms(
            c.kind == OutputKind::kWindowStart ? window_start : window_start + plan.window_size,
            ts);
        out.push_back('"');
        out.append(ts, 24);
        out.push_back('"');
        break;
      case OutputKind::kAggregate: {
        const AggSpec& a = plan.aggs[static_cast<size_t>(c.index)];
        agg_append_json(a.kind, states[c.index], bytes, out);
        break;
      }
    }
  }
  out.push_back('}');
  return true;
}

}  // namespace freshet::query
