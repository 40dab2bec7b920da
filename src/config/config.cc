// parse() and load_file(): YAML text to a validated Config. yaml-cpp reports syntax errors by
// throwing; they are caught here and become Diagnostics, so nothing escapes the module.
#include "freshet/config/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "freshet/config/error_codes.h"
#include "sections_impl.h"

namespace freshet::config {
namespace {

// A hint for yaml-cpp's terse messages, for the mistakes people actually make.
std::string syntax_help(const std::string& msg, std::string_view line) {
  if (line.find('\t') != std::string_view::npos)
    return "YAML does not allow tabs for indentation; use spaces";
  if (msg.find("map flow") != std::string::npos) return "a `{` is not closed with `}`";
  if (msg.find("sequence flow") != std::string::npos) return "a `[` is not closed with `]`";
  if (msg.find("end of map") != std::string::npos)
    return "check the indentation: keys of one map must start in the same column";
  return "";
}

void parse_into(LoadResult& res, const EnvLookup& env) {
  Reader r(res.source, env, res.diagnostics);
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(res.source.text());
  } catch (const YAML::Exception& ex) {
    SourcePos pos{static_cast<uint32_t>(std::max(0, ex.mark.line)) + 1,
                  static_cast<uint32_t>(std::max(0, ex.mark.column)) + 1};
    r.report(codes::kYamlSyntax, fmt::format("invalid YAML: {}", ex.msg), pos, 1, "",
             syntax_help(ex.msg, res.source.line(pos.line)));
    return;
  }
  if (docs.empty() || docs[0].IsNull()) {
    r.report(codes::kEmptyFile, "the configuration is empty", {1, 1}, 1, "",
             "start with `version: 1` and add topics, sources, queries and sinks");
    return;
  }
  if (!docs[0].IsMap()) {
    r.report(codes::kEmptyFile, "the configuration must be a map of keys such as `version:`",
             r.pos_of(docs[0]), r.span_of(docs[0]), "expected a map", "start with `version: 1`");
    return;
  }
  for (size_t i = 1; i < docs.size(); ++i) {
    r.report(codes::kExtraDocument, "a second YAML document is not allowed", r.pos_of(docs[i]), 1,
             "", "put the whole pipeline in one document, without `---` separators");
  }
  Config c = read_config(r, docs[0]);
  validate_references(r, c);
  c.file = res.source.name();
  if (res.diagnostics.empty()) res.config = std::move(c);
}

}  // namespace

std::string_view to_string(FsyncPolicy v) {
  switch (v) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kInterval:
      return "interval";
    case FsyncPolicy::kNever:
      return "never";
  }
  return "?";
}
std::string_view to_string(SourceType v) {
  return v == SourceType::kGenerator ? "generator" : "file";
}
std::string_view to_string(LatePolicy v) { return v == LatePolicy::kFile ? "file" : "drop"; }
std::string_view to_string(SinkType) { return "file"; }
std::string_view to_string(SinkFormat v) { return v == SinkFormat::kJsonl ? "jsonl" : "csv"; }
std::string_view to_string(Delivery v) {
  return v == Delivery::kExactlyOnce ? "exactly_once" : "at_least_once";
}

LoadResult parse(std::string file_name, std::string text) {
  return parse(std::move(file_name), std::move(text), process_env());
}

LoadResult parse(std::string file_name, std::string text, const EnvLookup& env) {
  LoadResult res;
  res.source = SourceText(std::move(file_name), std::move(text));
  try {
    parse_into(res, env);
  } catch (const std::exception& ex) {
    // yaml-cpp may throw from node accessors too (e.g. on a malformed alias); never let that
    // escape, and never hand out a Config that was not fully checked.
    res.config.reset();
    res.diagnostics.push_back(Diagnostic{std::string(codes::kYamlSyntax),
                                         fmt::format("could not read the YAML: {}", ex.what()),
                                         {},
                                         1,
                                         "",
                                         ""});
  }
  // File order reads best; positionless diagnostics (whole file) go last.
  std::stable_sort(res.diagnostics.begin(), res.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     auto key = [](const Diagnostic& d) {
                       return std::pair(d.pos.line == 0 ? UINT32_MAX : d.pos.line, d.pos.col);
                     };
                     return key(a) < key(b);
                   });
  return res;
}

Result<LoadResult> load_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    if (err == ENOENT) return make_error(ErrorCode::kNotFound, "{}: no such file", path);
    auto e = errno_error(err, path);
    e.value().code = ErrorCode::kIo;
    return e;
  }
  std::string text;
  char buf[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err != 0) {
    auto e = errno_error(err, path);
    e.value().code = ErrorCode::kIo;
    return e;
  }
  return parse(path, std::move(text));
}

}  // namespace freshet::config
