#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "env_impl.h"
#include "freshet/base/time.h"
#include "freshet/config/error_codes.h"
#include "freshet/config/units.h"
#include "freshet/config/unsupported.h"
#include "reader_impl.h"
#include "scalar_position_impl.h"

namespace freshet::config {
namespace {

std::string_view type_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a value";
    default:
      return "empty";
  }
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string join_path(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

}  // namespace

std::string join(const std::vector<std::string_view>& words, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out += sep;
    out += words[i];
  }
  return out;
}

std::string_view best_match(std::string_view word,
                            const std::vector<std::string_view>& candidates) {
  std::string_view m = closest_match(word, candidates);
  if (!m.empty()) return m;
  for (std::string_view c : candidates) {
    if (c.size() != word.size()) continue;
    size_t first = 0;
    while (first < c.size() && c[first] == word[first]) ++first;
    if (first + 1 < c.size() && c[first] == word[first + 1] && c[first + 1] == word[first] &&
        c.substr(first + 2) == word.substr(first + 2))
      return c;
  }
  return {};
}

std::string Entry::path() const { return join_path(scope->path, key); }

Scope Entry::child(std::string what, bool user_named) const {
  return Scope{path(), join_path(scope->schema, user_named ? "*" : key), std::move(what), key_pos,
               static_cast<uint32_t>(std::max<size_t>(1, key.size()))};
}

void Reader::report(std::string_view code, std::string message, SourcePos pos, uint32_t span,
                    std::string label, std::string help) {
  out_.push_back(Diagnostic{std::string(code), std::move(message), pos, std::max(1u, span),
                            std::move(label), std::move(help)});
}

SourcePos Reader::pos_of(const YAML::Node& n) const {
  YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0) return {};
  return {static_cast<uint32_t>(m.line) + 1, static_cast<uint32_t>(m.column) + 1};
}

uint32_t Reader::span_of(const YAML::Node& n) const {
  SourcePos p = pos_of(n);
  if (p.line == 0 || !n.IsScalar()) return 1;
  std::string_view raw = src_.line(p.line);
  if (p.col > raw.size()) return 1;
  std::string_view rest = raw.substr(p.col - 1);
  char q = rest[0];
  if (q == '"' || q == '\'') {
    for (size_t i = 1; i < rest.size(); ++i) {
      if (q == '"' && rest[i] == '\\') {
        ++i;
      } else if (rest[i] == q) {
        if (q == '\'' && i + 1 < rest.size() && rest[i + 1] == '\'') {
          ++i;  // '' is an escaped quote
          continue;
        }
        return static_cast<uint32_t>(i + 1);
      }
    }
    return static_cast<uint32_t>(rest.size());
  }
  if (q == '|' || q == '>') return 1;
  const std::string& text = n.Scalar();
  size_t len = std::min(text.find('\n'), text.size());
  return static_cast<uint32_t>(std::clamp<size_t>(len, 1, rest.size()));
}

std::vector<Entry> Reader::entries(const YAML::Node& map, const Scope& scope,
                                   std::span<const std::string_view> keys) {
  std::vector<Entry> result;
  if (!map.IsMap()) return result;
  std::map<std::string, SourcePos, std::less<>> seen;
  for (const auto& kv : map) {
    // Copies: yaml-cpp's iterator hands out a temporary pair, so no references into it.
    YAML::Node k = kv.first;
    if (!k.IsScalar()) {
      report(codes::kWrongType, fmt::format("a key {} is {}, not a name", scope.what, type_name(k)),
             pos_of(k), 1, "expected a plain name", "");
      continue;
    }
    Entry e{k.Scalar(), pos_of(k), static_cast<uint32_t>(std::max(0, k.Mark().column)), kv.second,
            &scope};
    uint32_t key_span = static_cast<uint32_t>(std::max<size_t>(1, e.key.size()));
    if (auto first = seen.find(e.key); first != seen.end()) {
      report(codes::kDuplicateKey, fmt::format("duplicate key `{}` {}", e.key, scope.what),
             e.key_pos, key_span, fmt::format("first defined on line {}", first->second.line),
             "YAML silently keeps only one of them; remove or rename the other");
      continue;
    }
    seen.emplace(e.key, e.key_pos);
    if (!keys.empty() && std::find(keys.begin(), keys.end(), e.key) == keys.end()) {
      std::vector<std::string_view> valid(keys.begin(), keys.end());
      std::string_view meant = best_match(e.key, valid);
      report(codes::kUnknownKey, fmt::format("unknown key `{}` {}", e.key, scope.what), e.key_pos,
             key_span, meant.empty() ? "unknown key" : fmt::format("did you mean `{}`?", meant),
             fmt::format("valid keys: {}", join(valid, ", ")));
      continue;
    }
    if (const UnsupportedFeature* f = find_unsupported(join_path(scope.schema, e.key), "")) {
      report(codes::kUnsupported, fmt::format("`{}` is not supported yet by this build", e.path()),
             e.key_pos, key_span, "not supported yet", std::string(f->help));
    }
    result.push_back(std::move(e));
  }
  return result;
}

void Reader::wrong_type(const Entry& e, std::string_view expected, std::string help) {
  SourcePos p = e.value.IsNull() ? e.key_pos : pos_of(e.value);
  uint32_t span = e.value.IsNull() ? static_cast<uint32_t>(e.key.size()) : span_of(e.value);
  report(
      codes::kWrongType,
      fmt::format("`{}` {} must be {}, not {}", e.key, e.scope->what, expected, type_name(e.value)),
      p, span, fmt::format("expected {}", expected), std::move(help));
}

bool Reader::expect_map(const Entry& e) {
  // An empty value (`server:` with everything commented out) counts as an empty map.
  if (e.value.IsMap() || e.value.IsNull()) return true;
  wrong_type(
      e, "a map",
      fmt::format("put its keys on the lines below `{}:`, indented, or write `{}: {{ ... }}`",
                  e.key, e.key));
  return false;
}

bool Reader::expect_list(const Entry& e) {
  if (e.value.IsSequence()) return true;
  std::string example = e.value.IsScalar() ? e.value.Scalar() : "a, b";
  wrong_type(e, "a list", fmt::format("write `{}: [{}]`", e.key, example));
  return false;
}

void Reader::missing(const Scope& scope, std::string_view key, std::string help) {
  report(codes::kMissingKey, fmt::format("missing `{}` {}", key, scope.what), scope.pos, scope.span,
         fmt::format("`{}` is required", key), std::move(help));
}

bool Reader::check_name(const Entry& e, std::string_view kind) {
  const std::string& n = e.key;
  bool ok = !n.empty() && (std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_');
  for (char c : n) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  if (!ok) {
    report(codes::kBadName, fmt::format("`{}` is not a valid {} name", n, kind), e.key_pos,
           static_cast<uint32_t>(std::max<size_t>(1, n.size())), "not an identifier",
           "names start with a letter or `_` and contain only letters, digits, `_` and `-`");
  }
  return ok;
}

std::optional<Scalar> Reader::scalar(const Entry& e) { return scalar(e.value, e); }

std::optional<Scalar> Reader::scalar(const YAML::Node& n, const Entry& owner) {
  if (n.IsNull()) {
    bool own = n.Mark().is_null() || &n == &owner.value;
    report(codes::kWrongType, fmt::format("`{}` {} has no value", owner.key, owner.scope->what),
           own ? owner.key_pos : pos_of(n), own ? static_cast<uint32_t>(owner.key.size()) : 1,
           "expected a value", "");
    return std::nullopt;
  }
  if (!n.IsScalar()) {
    report(codes::kWrongType,
           fmt::format("`{}` {} must be a single value, not {}", owner.key, owner.scope->what,
                       type_name(n)),
           pos_of(n), span_of(n), "expected a value", "");
    return std::nullopt;
  }
  Scalar s{n.Scalar(), pos_of(n), span_of(n)};
  if (s.text.find('$') != std::string::npos) {
    Interpolated r = interpolate(s.text, env_);
    if (!r.problems.empty()) {
      std::vector<SourcePos> origins = scalar_line_origins(src_, n, owner.key_col0);
      for (const EnvProblem& p : r.problems) {
        report(p.code, p.message, locate_in_scalar(origins, s.text, p.offset),
               static_cast<uint32_t>(p.length), "", p.help);
      }
      return std::nullopt;
    }
    s.text = std::move(r.text);
  }
  if (&n == &owner.value) {
    const UnsupportedFeature* f =
        find_unsupported(join_path(owner.scope->schema, owner.key), s.text);
    if (f && !f->value.empty()) {
      report(codes::kUnsupported,
             fmt::format("`{}: {}` in `{}` is not supported yet by this build", owner.key, s.text,
                         owner.scope->path),
             s.pos, s.span, "not supported yet", std::string(f->help));
    }
  }
  return s;
}

std::optional<std::string> Reader::string(const Entry& e) {
  auto s = scalar(e);
  if (!s) return std::nullopt;
  if (s->text.find_first_not_of(" \t\r\n") == std::string::npos) {
    report(codes::kEmptyValue, fmt::format("`{}` {} is empty", e.key, e.scope->what), s->pos,
           s->span, "expected text", "");
    return std::nullopt;
  }
  return std::move(s->text);
}

std::optional<DurationMs> Reader::duration(const Entry& e) {
  auto s = scalar(e);
  if (!s) return std::nullopt;
  auto r = parse_duration(s->text, ends_with(e.key, "_ms"));
  if (r) return *r;
  report(codes::kBadDuration,
         fmt::format("{} for `{}` {}", r.error().message, e.key, e.scope->what), s->pos, s->span,
         r.error().hint,
         "a duration is a number and a unit (ms, s, m, h, d): 250ms, 5s, 1m, 1h, 7d");
  return std::nullopt;
}

std::optional<uint64_t> Reader::size(const Entry& e) {
  auto s = scalar(e);
  if (!s) return std::nullopt;
  auto r = parse_size(s->text, ends_with(e.key, "_bytes"));
  if (r) return *r;
  report(codes::kBadSize, fmt::format("{} for `{}` {}", r.error().message, e.key, e.scope->what),
         s->pos, s->span, r.error().hint,
         "a size is a number and a unit: B, KB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB "
         "(powers of 1024)");
  return std::nullopt;
}

std::optional<double> Reader::rate(const Entry& e) {
  auto s = scalar(e);
  if (!s) return std::nullopt;
  auto r = parse_rate(s->text);
  if (r) return *r;
  report(codes::kBadRate, fmt::format("{} for `{}` {}", r.error().message, e.key, e.scope->what),
         s->pos, s->span, r.error().hint,
         "a rate is a positive number of events per unit of time: 10000/s, 600/m, 5/ms, 60/h");
  return std::nullopt;
}

std::optional<int64_t> Reader::integer(const Entry& e, int64_t lo, int64_t hi) {
  auto s = scalar(e);
  if (!s) return std::nullopt;
  int64_t v = 0;
  const char* end = s->text.data() + s->text.size();
  auto [p, ec] = std::from_chars(s->text.data(), end, v);
  if (ec == std::errc::result_out_of_range ||
      (ec == std::errc() && p == end && (v < lo || v > hi))) {
    report(codes::kBadNumber,
           fmt::format("`{}` {} must be between {} and {}, not {}", e.key, e.scope->what, lo, hi,
                       s->text),
           s->pos, s->span, "out of range", "");
    return std::nullopt;
  }
  if (ec != std::errc() || p != end) {
    report(codes::kBadNumber,
           fmt::format("`{}` is not a whole number for `{}` {}", s->text, e.key, e.scope->what),
           s->pos, s->span, "expected a whole number", "");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> Reader::boolean(const Entry& e) {
  auto s = scalar(e);
  if (!s) return std::nullopt;
  if (s->text == "true") return true;
  if (s->text == "false") return false;
  static constexpr std::string_view kTruthy[] = {"yes", "Yes", "YES", "on",   "On",
                                                 "ON",  "y",   "Y",   "True", "TRUE"};
  static constexpr std::string_view kFalsy[] = {"no",  "No", "NO", "off",   "Off",
                                                "OFF", "n",  "N",  "False", "FALSE"};
  std::string label = "expected true or false";
  for (auto t : kTruthy)
    if (t == s->text) label = "did you mean `true`?";
  for (auto f : kFalsy)
    if (f == s->text) label = "did you mean `false`?";
  report(codes::kBadBool,
         fmt::format("`{}` is not true or false for `{}` {}", s->text, e.key, e.scope->what),
         s->pos, s->span, label,
         "write `true` or `false`; YAML 1.1 spellings such as yes/no/on/off are not accepted");
  return std::nullopt;
}

std::optional<TimestampMs> Reader::timestamp(const Entry& e) {
  auto s = scalar(e);
  if (!s) return std::nullopt;
  if (auto t = parse_rfc3339(s->text)) return *t;
  report(
      codes::kBadTimestamp,
      fmt::format("`{}` is not an RFC 3339 timestamp for `{}` {}", s->text, e.key, e.scope->what),
      s->pos, s->span, "expected e.g. 2026-11-25T10:00:00Z",
      "write a date, a time and a zone: 2026-11-25T10:00:00Z or 2026-11-25T11:00:00+01:00");
  return std::nullopt;
}

std::optional<ListenConfig> Reader::listen(const Entry& e) {
  auto s = scalar(e);
  if (!s) return std::nullopt;
  const std::string& t = s->text;
  auto fail = [&](std::string why, std::string help) {
    report(
        codes::kBadListen,
        fmt::format("`{}` is not a listen address for `{}` {}: {}", t, e.key, e.scope->what, why),
        s->pos, s->span, "expected host:port", std::move(help));
    return std::nullopt;
  };
  ListenConfig l;
  l.pos = s->pos;
  size_t colon = t.rfind(':');
  if (colon == std::string::npos)
    return fail("no port", fmt::format("write `{}:<port>`, e.g. `127.0.0.1:9092`", t));
  std::string_view host(t.data(), colon);
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']') return fail("unclosed `[`", "write an IPv6 address as `[::1]:9092`");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return fail("an IPv6 address needs brackets", "write it as `[::1]:9092`");
  }
  if (host.empty()) return fail("no host", "write `0.0.0.0:<port>` to listen on every interface");
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' &&
        c != ':' && c != '%')
      return fail(fmt::format("`{}` is not a host name or address", host), "");
  }
  l.host = std::string(host);
  std::string_view port(t.data() + colon + 1, t.size() - colon - 1);
  unsigned v = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || v > 65535)
    return fail(fmt::format("`{}` is not a port number (0-65535)", port), "");
  l.port = static_cast<uint16_t>(v);
  return l;
}

void Reader::bad_enum(const Entry& e, const Scalar& s, const std::vector<std::string_view>& valid) {
  std::string_view meant = best_match(s.text, valid);
  report(codes::kBadEnum, fmt::format("`{}` is not a valid `{}` {}", s.text, e.key, e.scope->what),
         s.pos, s.span,
         meant.empty() ? fmt::format("expected one of: {}", join(valid, ", "))
                       : fmt::format("did you mean `{}`?", meant),
         fmt::format("valid values: {}", join(valid, ", ")));
}

}  // namespace freshet::config
