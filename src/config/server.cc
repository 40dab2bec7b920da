// `server:` and `checkpoint:`, the process-wide settings.
#include <fmt/format.h>

#include <array>
#include <charconv>

#include "freshet/config/error_codes.h"
#include "sections_impl.h"

namespace freshet::config {
namespace {

constexpr std::array<std::string_view, 3> kServerKeys{"shards", "kafka", "http"};
constexpr std::array<std::string_view, 1> kListenerKeys{"listen"};
constexpr std::array<std::string_view, 2> kCheckpointKeys{"interval", "retained"};
constexpr uint32_t kMaxShards = 4096;

std::optional<ListenConfig> read_listener(Reader& r, const Entry& e) {
  if (!r.expect_map(e)) return std::nullopt;
  Scope scope = e.child(fmt::format("in `server.{}`", e.key));
  std::optional<ListenConfig> out;
  bool seen = false;
  for (const Entry& f : r.entries(e.value, scope, kListenerKeys)) {
    seen = true;
    out = r.listen(f);
  }
  if (!seen) r.missing(scope, "listen", "write `listen: 127.0.0.1:<port>`");
  return out;
}

}  // namespace

void read_server(Reader& r, const Entry& e, ServerConfig& out) {
  Scope scope = e.child("in `server`");
  for (const Entry& f : r.entries(e.value, scope, kServerKeys)) {
    if (f.key == "shards") {
      // `auto` (the default) or a count; read from the text so a typo gets a precise hint.
      auto s = r.scalar(f);
      if (!s || s->text == "auto") continue;
      uint32_t n = 0;
      auto [p, ec] = std::from_chars(s->text.data(), s->text.data() + s->text.size(), n);
      if (ec == std::errc() && p == s->text.data() + s->text.size() && n >= 1 && n <= kMaxShards) {
        out.shards = n;
      } else {
        r.report(codes::kBadNumber,
                 fmt::format("`{}` is not a shard count for `shards` in `server`", s->text), s->pos,
                 s->span, "expected `auto` or a number",
                 fmt::format("write `auto` (one shard per usable CPU) or 1 to {}", kMaxShards));
      }
    } else if (f.key == "kafka") {
      out.kafka = read_listener(r, f);
    } else if (f.key == "http") {
      out.http = read_listener(r, f);
    }
  }
}

void read_checkpoint(Reader& r, const Entry& e, CheckpointConfig& out) {
  Scope scope = e.child("in `checkpoint`");
  out.pos = e.key_pos;
  for (const Entry& f : r.entries(e.value, scope, kCheckpointKeys)) {
    if (f.key == "interval") {
      auto d = r.duration(f);
      if (d && *d == 0) {
        r.report(codes::kBadDuration, "`interval` in `checkpoint` must be more than 0",
                 r.pos_of(f.value), r.span_of(f.value), "zero", "e.g. `interval: 10s`");
      } else if (d) {
        out.interval = *d;
      }
    } else if (f.key == "retained") {
      if (auto n = r.integer(f, 1, 1000)) out.retained = static_cast<uint32_t>(*n);
    }
  }
}

}  // namespace freshet::config
