#pragma once
// JSON text helpers shared by the modules that write JSON (query rows, late and dead-letter
// records).

#include <string>
#include <string_view>

namespace freshet {

// Appends `s` as a JSON string: quoted; `"`, `\` and control characters escaped; other
// bytes (UTF-8) as they are.
void append_json_string(std::string& out, std::string_view s);

}  // namespace freshet
