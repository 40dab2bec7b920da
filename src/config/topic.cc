// `topics.<name>`: partitions, log settings and event time.
#include <fmt/format.h>

#include <array>

#include "freshet/config/error_codes.h"
#include "freshet/config/units.h"
#include "sections_impl.h"

namespace freshet::config {
namespace {

constexpr std::array<std::string_view, 10> kTopicKeys{
    "partitions",  "key",   "retention",      "retention_bytes", "segment_bytes",
    "segment_age", "fsync", "fsync_interval", "schema",          "event_time"};
constexpr std::array<std::string_view, 6> kEventTimeKeys{
    "field", "watermark_delay", "idle_timeout", "max_future_skew", "idle_progress", "max_drift"};
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

// `none` or `wallclock(<duration>)`.
std::optional<IdleProgress> idle_progress(Reader& r, const Entry& e) {
  auto s = r.scalar(e);
  if (!s) return std::nullopt;
  const std::string_view text = s->text;
  constexpr std::string_view kOpen = "wallclock(";
  const std::string help =
      "`none` (windows wait for data) or `wallclock(<max_delay>)`, e.g. "
      "`wallclock(30s)`: while every partition is idle, the watermark "
      "follows the clock, max_delay behind";
  if (text == "none") return IdleProgress{};
  if (!text.starts_with(kOpen) || !text.ends_with(")")) {
    r.report(codes::kBadEnum,
             fmt::format("`{}` is not a valid `idle_progress` {}", text, e.scope->what), s->pos,
             s->span, text.starts_with("wallclock") ? "write `wallclock(<max_delay>)`" : "", help);
    return std::nullopt;
  }
  const std::string_view inner = text.substr(kOpen.size(), text.size() - kOpen.size() - 1);
  auto d = parse_duration(inner);
  if (!d) {
    r.report(codes::kBadDuration,
             fmt::format("{} in `idle_progress` {}", d.error().message, e.scope->what), s->pos,
             s->span, d.error().hint, help);
    return std::nullopt;
  }
  return IdleProgress{IdleProgress::Mode::kWallclock, *d};
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
    } else if (f.key == "idle_progress") {
      if (auto p = idle_progress(r, f)) out.idle_progress = *p;
    } else if (f.key == "max_drift") {
      if (auto d = positive_duration(r, f)) out.max_drift = *d;
    }
  }
  if (out.idle_progress.mode == IdleProgress::Mode::kWallclock && !out.idle_timeout)
    r.missing(scope, "idle_timeout",
              "`idle_progress: wallclock(...)` acts while every partition is idle, and a "
              "partition is idle only after `idle_timeout` without appends");
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
