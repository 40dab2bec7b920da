#pragma once
// The pipeline configuration: one YAML file (DESIGN §7) turned into plain structs that keep
// the source positions of what they came from, so later stages (the SQL compiler, the server
// wiring topics to sources) can report their own errors at the right line and column.
//
// parse() reports every problem it finds in one pass as Diagnostics (see error_codes.h for the
// stable codes) and only returns a Config when there are none. Nothing here throws; yaml-cpp's
// exceptions are caught inside the module. The structs are values: copy them freely.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "freshet/base/diagnostic.h"
#include "freshet/base/ids.h"
#include "freshet/base/result.h"

namespace freshet::config {

enum class FsyncPolicy { kAlways, kInterval, kNever };
enum class SourceType { kGenerator, kFile };
enum class LatePolicy { kFile, kDrop };
enum class SinkType { kFile, kTopic };
enum class EmitPolicy { kFinal, kEarly };
enum class SinkFormat { kJsonl, kCsv };
enum class Delivery { kExactlyOnce, kAtLeastOnce };
// Declared type of a field in a topic's `schema:` (src/config/README.md lists the spellings
// and what each accepts).
enum class FieldType { kString, kInt, kDouble, kBool, kTimestamp };

// The spelling used in the YAML ("interval", "at_least_once", ...).
std::string_view to_string(FsyncPolicy v);
std::string_view to_string(SourceType v);
std::string_view to_string(LatePolicy v);
std::string_view to_string(SinkType v);
std::string_view to_string(SinkFormat v);
std::string_view to_string(Delivery v);
std::string_view to_string(FieldType v);

struct ListenConfig {
  std::string host;  // as written; IPv6 without brackets ("::1")
  uint16_t port = 0;
  SourcePos pos;
};

struct ServerConfig {
  uint32_t shards = 0;  // 0 = auto: the CPUs the process may use
  std::optional<ListenConfig> kafka;
  std::optional<ListenConfig> http;
};

// `idle_progress: none | wallclock(<max_delay>)`. kNone (the default) lets windows wait for
// data; kWallclock moves the watermark to max(W_event, now - max_delay) while every partition
// is idle, and journals each such step so a replay repeats it (semantics §3.3, §3.8).
struct IdleProgress {
  enum class Mode { kNone, kWallclock };
  Mode mode = Mode::kNone;
  DurationMs max_delay = 0;
};

struct EventTimeConfig {
  std::string field;  // JSON field of the record value, nested by dots
  SourcePos field_pos;
  DurationMs watermark_delay = 0;
  std::optional<DurationMs> idle_timeout;
  // Records stamped later than now + this do not advance the watermark (they still count);
  // unset: no guard, as replaying history stamped in the future must work.
  std::optional<DurationMs> max_future_skew;
  // What moves the watermark while every partition is idle (semantics §3.3).
  IdleProgress idle_progress;
  // Watermark alignment (Flink's `scan.watermark.alignment.max-drift`): a query's reader does
  // not read further into a partition whose watermark is more than this ahead of the lowest
  // watermark of the topic's active partitions, on any shard. Only the read order changes,
  // never the results. Unset: partitions are read as fast as they come.
  std::optional<DurationMs> max_drift;
  SourcePos pos;
};

// One typed column of a topic: a JSON field of the record value, nested by dots.
struct SchemaField {
  std::string name;  // "geo.lat"
  FieldType type = FieldType::kString;
  SourcePos pos;  // the field's name in the YAML
};

struct TopicConfig {
  std::string name;
  int32_t partitions = 1;
  std::string key_field;                    // "" when records are partitioned round-robin
  std::optional<DurationMs> retention;      // unset = keep forever
  std::optional<uint64_t> retention_bytes;  // per partition; unset = no size limit
  uint64_t segment_bytes = 128ull << 20;
  std::optional<DurationMs> segment_age;  // roll a segment this long after its first append
                                          // (Kafka segment.ms); unset = by size only
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  DurationMs fsync_interval = 10;
  std::optional<EventTimeConfig> event_time;
  // `schema:`, in file order; empty when the topic declares none, and then columns are typed
  // record by record as today.
  std::vector<SchemaField> schema;
  SourcePos pos;  // the topic's name in the YAML
};

struct SourceConfig {
  std::string name;
  SourceType type = SourceType::kGenerator;
  std::string to;  // topic name
  SourcePos pos;
  SourcePos to_pos;
  // type: generator
  std::string profile = "payments";
  double rate_per_sec = 1000;
  std::optional<uint64_t> count;  // unset = unbounded
  uint64_t seed = 1;
  std::optional<TimestampMs> start_time;  // key `start_time`, RFC 3339; unset = wall clock
  DurationMs max_out_of_order = 2000;     // key `out_of_order`
  // type: file
  std::string path;
  bool read_from_beginning = false;  // key `read_from`; defaults to beginning when bounded
  bool bounded = false;
};

struct QueryConfig {
  std::string name;
  std::string sql;
  // YAML position of the first byte of each SQL line: SQL line k (0-based), column c (1-based)
  // is at YAML (origins[k].line, origins[k].col + c - 1). Exact for `|` block scalars and
  // one-line scalars; for folded (`>`) and multi-line flow scalars each origin is the source
  // line the SQL line starts on, found by searching the raw text. An ${VAR} substitution on
  // a line shifts the columns after it by the length difference.
  std::vector<SourcePos> sql_line_origins;
  DurationMs allowed_lateness = 0;
  LatePolicy late = LatePolicy::kFile;
  // final (alias on_window_close): one row per window when it closes. early: also, every
  // `early_every` of processing time, the current value of each changed open window
  // (`_final: false`), then the final row (`_final: true`); consumers upsert on the key and
  // window bounds (semantics §3.5).
  EmitPolicy emit = EmitPolicy::kFinal;
  DurationMs early_every = 10'000;
  SourcePos pos;
};

struct SinkConfig {
  std::string name;
  SinkType type = SinkType::kFile;
  std::vector<std::string> inputs;  // query names
  std::vector<SourcePos> input_pos;
  std::string path;
  SourcePos path_pos;
  SinkFormat format = SinkFormat::kJsonl;  // default: csv when path ends in ".csv"
  // Default: exactly_once when the config has `checkpoint:` (rows appear at each commit),
  // at_least_once without it (nothing would ever commit). Resolved after parsing.
  Delivery delivery = Delivery::kAtLeastOnce;
  SourcePos delivery_pos;  // where `delivery:` was written; line 0 when left to the default
  std::optional<uint64_t> rotate_max_bytes;
  std::optional<DurationMs> rotate_max_age;
  // type: topic: the rows go into this topic of the log, partitioned by `key_field` (default:
  // the topic's own key). With exactly_once they are appended when the checkpoint commits.
  std::string topic;
  SourcePos topic_pos;
  std::string key_field;
  SourcePos pos;
};

struct CheckpointConfig {
  DurationMs interval = 10'000;
  uint32_t retained = 3;
  SourcePos pos;
};

struct Config {
  int version = 1;
  std::string data_dir = "./data";  // as written; relative paths are relative to the cwd
  ServerConfig server;
  std::map<std::string, TopicConfig> topics;
  std::map<std::string, SourceConfig> sources;
  std::map<std::string, QueryConfig> queries;
  std::map<std::string, SinkConfig> sinks;
  std::optional<CheckpointConfig> checkpoint;
  std::string file;  // path of the YAML, as given to parse()/load_file()
};

struct LoadResult {
  std::optional<Config> config;  // set only when diagnostics is empty
  std::vector<Diagnostic> diagnostics;
  SourceText source;  // for render_all(diagnostics, source, ...)
};

// Looks up an environment variable for ${VAR} interpolation; nullopt = unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// getenv(3).
EnvLookup process_env();

// Parses and validates a whole config. `file_name` is used in diagnostics and Config::file.
// ${VAR}, ${VAR:-default}, ${VAR:?message} and $$ are expanded in scalar values after YAML
// parsing, so positions stay those of the file.
LoadResult parse(std::string file_name, std::string text);
LoadResult parse(std::string file_name, std::string text, const EnvLookup& env);

// Reads and parses a file. The Error is kNotFound when the file does not exist (the CLI exits
// 66) and kIo for other read failures; config errors are in LoadResult::diagnostics instead.
Result<LoadResult> load_file(const std::string& path);

}  // namespace freshet::config
