#pragma once
// Stable codes of config diagnostics. They appear in `error[E0102]` lines, in
// `--format=json` output and in docs, so never renumber one; retire it instead.
// E03xx is left to the query compiler (SQL errors inside `sql:`).

#include <string_view>

namespace freshet::config::codes {

// The file as YAML.
inline constexpr std::string_view kYamlSyntax = "E0001";     // yaml-cpp could not parse it
inline constexpr std::string_view kEmptyFile = "E0002";      // no document, or not a map
inline constexpr std::string_view kExtraDocument = "E0003";  // a second `---` document

// The shape of the schema.
inline constexpr std::string_view kDuplicateKey = "E0101";
inline constexpr std::string_view kUnknownKey = "E0102";  // also a key of another source type
inline constexpr std::string_view kWrongType = "E0103";   // map vs list vs value
inline constexpr std::string_view kMissingKey = "E0104";
inline constexpr std::string_view kBadName = "E0105";  // not [A-Za-z_][A-Za-z0-9_-]*
inline constexpr std::string_view kBadVersion = "E0106";

// Values.
inline constexpr std::string_view kBadDuration = "E0201";
inline constexpr std::string_view kBadSize = "E0202";
inline constexpr std::string_view kBadRate = "E0203";
inline constexpr std::string_view kBadEnum = "E0204";
inline constexpr std::string_view kBadNumber = "E0205";  // not an integer, or out of range
inline constexpr std::string_view kBadListen = "E0206";
inline constexpr std::string_view kBadBool = "E0207";
inline constexpr std::string_view kBadTimestamp = "E0208";
inline constexpr std::string_view kEmptyValue = "E0209";      // "" where text is needed (sql, path)
inline constexpr std::string_view kUnknownType = "E0210";     // a schema type that does not exist
inline constexpr std::string_view kSchemaConflict = "E0211";  // `geo: string` and `geo.lat`

// References between sections.
inline constexpr std::string_view kUnknownTopic = "E0401";     // source `to`
inline constexpr std::string_view kUnknownQuery = "E0402";     // sink `inputs`
inline constexpr std::string_view kDuplicatePath = "E0403";    // two sinks writing one file
inline constexpr std::string_view kNeedsCheckpoint = "E0404";  // exactly_once without checkpoint
inline constexpr std::string_view kEventTimeNotInSchema = "E0405";  // event_time.field
inline constexpr std::string_view kEventTimeType = "E0406";  // declared string, double or bool

// Environment interpolation.
inline constexpr std::string_view kEnvUnset = "E0501";   // ${VAR} unset, or ${VAR:?msg}
inline constexpr std::string_view kEnvSyntax = "E0502";  // `${` without `}`, bad name

// Valid, but not implemented by this build (unsupported.h).
inline constexpr std::string_view kUnsupported = "E0900";

}  // namespace freshet::config::codes
