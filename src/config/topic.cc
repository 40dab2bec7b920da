// `topics.<name>`: partitions, log settings and event time.
#include <fmt/format.h>

#include <array>

#include "freshet/config/error_codes.h"
#include "sections_impl.h"

namespace freshet::config {
namespace {

constexpr std::array<std::string_view, 10> kTopicKeys{
    "partitions",  "key",   "retention",      "retention_bytes", "segment_bytes",
    "segment_age", "fsync", "fsync_interval", "schema",          "event_time"};
constexpr std::array<std::string_view, 4> kEventTimeKeys{"field", "watermark_delay", "idle_timeout",
                                                         "max_future_skew"};
constexpr std::array<EnumName<FsyncPolicy>, 3> kFsyncNames{{{"always", FsyncPolicy::kAlways},
                                                            {"interval", FsyncPolicy::kInterval},
                                                            {"never", FsyncPolicy::kNever}}};

constexpr int64_t kMaxPartitions = 100'000;
// Segments are preallocated and mapped whole: a page at least, and offsets inside a segment
// stay 32-bit for the index.
constexpr uint64_t kMinSegmentBytes = 1ull
                                      << 20;  // a Kafka client batch (1 MiB by default) must fit
constexpr uint64_t kMaxSegmentBytes = 4ull << 30;

// A duration that must be more than zero (0 would mean "spin" or "never", neither intended).
std::optional<DurationMs> positive_duration(Reader& r, const Entry& e) {
  auto d = r.duration(e);
  if (d && *d == 0) {
    r.report(codes::kBadDuration, fmt::format("`{}` {} must be more than 0", e.key, e.scope->what),
             r.pos_of(e.value), r.span_of(e.value), "zero", "");
    return std::nullopt;
  }
  return d;
}

void read_event_time(Reader& r, const Entry& e, std::string_view topic, EventTimeConfig& out) {
  Scope scope = e.child(fmt::format("in the `event_time` of topic `{}`", topic));
  out.pos = e.key_pos;
  bool has_field = false;
  for (const Entry& f : r.entries(e.value, scope, kEventTimeKeys)) {
    if (f.key == "field") {
      has_field = true;
      if (auto v = r.string(f)) {
        out.field = *v;
        out.field_pos = r.pos_of(f.value);
      }
    } else if (f.key == "watermark_delay") {
      if (auto d = r.duration(f)) out.watermark_delay = *d;
    } else if (f.key == "idle_timeout") {
      if (auto d = positive_duration(r, f)) out.idle_timeout = *d;
    } else if (f.key == "max_future_skew") {
      if (auto d = positive_duration(r, f)) out.max_future_skew = *d;
    }
  }
  if (!has_field)
    r.missing(scope, "field", "name the JSON field holding the event time, e.g. `field: ts`");
}

}  // namespace

void read_topic(Reader& r, const Entry& e, TopicConfig& out) {
  Scope scope = e.child(fmt::format("in topic `{}`", e.key), true);
  out.name = e.key;
  out.pos = e.key_pos;
  bool schema_complete = true;
  for (const Entry& f : r.entries(e.value, scope, kTopicKeys)) {
    if (f.key == "partitions") {
      if (auto n = r.integer(f, 1, kMaxPartitions)) out.partitions = static_cast<int32_t>(*n);
    } else if (f.key == "key") {
      if (auto v = r.string(f)) out.key_field = *v;
    } else if (f.key == "retention") {
      if (auto d = positive_duration(r, f)) out.retention = *d;
    } else if (f.key == "retention_bytes") {
      if (auto b = r.size(f)) out.retention_bytes = *b;
    } else if (f.key == "segment_bytes") {
      auto b = r.size(f);
      if (b && (*b < kMinSegmentBytes || *b > kMaxSegmentBytes)) {
        r.report(codes::kBadNumber,
                 fmt::format("`segment_bytes` {} must be between 1MiB and 4GiB", scope.what),
                 r.pos_of(f.value), r.span_of(f.value), "out of range", "the default is 128MiB");
      } else if (b) {
        out.segment_bytes = *b;
      }
    } else if (f.key == "fsync") {
      if (auto p = r.enumeration<FsyncPolicy>(f, kFsyncNames)) out.fsync = *p;
    } else if (f.key == "segment_age") {
      if (auto d = positive_duration(r, f)) out.segment_age = *d;
    } else if (f.key == "fsync_interval") {
      if (auto d = positive_duration(r, f)) out.fsync_interval = *d;
    } else if (f.key == "event_time") {
      if (r.expect_map(f)) read_event_time(r, f, e.key, out.event_time.emplace());
    } else if (f.key == "schema") {
      schema_complete = r.expect_map(f) && read_schema(r, f, e.key, out.schema);
    }
  }
  // A field left out for a bad type would echo as "not in the schema".
  if (schema_complete) check_event_time_schema(r, out);
}

}  // namespace freshet::config
