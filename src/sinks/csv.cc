#include <simdjson.h>

#include "freshet/sinks/file_sink.h"

namespace freshet::sinks {
namespace {

void put_field(std::string& out, std::string_view v) {
  const bool quote = v.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string json_row_to_csv(std::string_view json_line, const std::vector<std::string>& columns) {
  // Output rows are low volume next to the input, so a parse per row is fine here; numbers
  // keep their exact text.
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json_line);
  std::string out;
  auto doc = parser.iterate(padded);
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return out;
  size_t i = 0;
  for (auto field : obj) {
    if (i++ > 0) out += ',';
    simdjson::ondemand::value v;
    if (field.value().get(v) != simdjson::SUCCESS) continue;
    simdjson::ondemand::json_type t;
    if (v.type().get(t) != simdjson::SUCCESS) continue;
    if (t == simdjson::ondemand::json_type::string) {
      std::string_view s;
      if (v.get_string().get(s) == simdjson::SUCCESS) put_field(out, s);
    } else if (t != simdjson::ondemand::json_type::null) {
      std::string_view raw = v.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n')) raw.remove_suffix(1);
      put_field(out, raw);
    }
  }
  (void)columns;
  return out;
}

}  // namespace freshet::sinks
