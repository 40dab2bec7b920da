// Whole files: DESIGN §7, defaults, the unsupported-feature table and load_file.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "freshet/config/error_codes.h"
#include "freshet/config/unsupported.h"
#include "test_util.h"

using namespace freshet;
using namespace freshet::config;
using namespace freshet::config::testing;

namespace {

std::string case_path(const std::string& name) {
  const char* root = std::getenv("FRESHET_SOURCE_ROOT");
  return std::string(root ? root : ".") + "/test/config/cases/" + name;
}

std::string read_case(const std::string& name) {
  std::ifstream in(case_path(name));
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("the DESIGN example without unsupported keys parses into the expected structs") {
  LoadResult r = parse_yaml(read_case("supported_example.yaml"));
  INFO(rendered(r));
  REQUIRE(r.diagnostics.empty());
  REQUIRE(r.config);
  const Config& c = *r.config;
  CHECK(c.version == 1);
  CHECK(c.data_dir == "./data");
  CHECK(c.file == "t.yaml");
  CHECK(c.server.shards == 0);
  CHECK(!c.server.kafka);
  CHECK(!c.checkpoint);

  REQUIRE(c.topics.count("payments"));
  const TopicConfig& t = c.topics.at("payments");
  CHECK(t.name == "payments");
  CHECK(t.pos.line == 7);
  CHECK(t.pos.col == 3);
  CHECK(t.partitions == 4);
  CHECK(t.key_field == "card_id");
  CHECK(t.segment_bytes == 128ull << 20);
  CHECK(t.fsync == FsyncPolicy::kInterval);
  CHECK(t.fsync_interval == 10);
  REQUIRE(t.event_time);
  CHECK(t.event_time->field == "ts");
  CHECK(t.event_time->watermark_delay == 5000);
  CHECK(t.event_time->idle_timeout == 30000);

  const SourceConfig& s = c.sources.at("demo");
  CHECK(s.type == SourceType::kGenerator);
  CHECK(s.to == "payments");
  CHECK(s.to_pos.line == 15);
  CHECK(s.to_pos.col == 36);
  CHECK(s.profile == "payments");
  CHECK(s.rate_per_sec == doctest::Approx(10000));
  CHECK(!s.count);
  CHECK(s.seed == 1);
  CHECK(s.max_out_of_order == 2000);

  const QueryConfig& q = c.queries.at("big_spenders");
  CHECK(q.sql.rfind("SELECT card_id, window_start", 0) == 0);
  CHECK(q.sql.find("HAVING COUNT(*) >= 5\n") != std::string::npos);
  REQUIRE(q.sql_line_origins.size() == 5);
  CHECK(q.sql_line_origins[0].line == 19);
  CHECK(q.sql_line_origins[0].col == 7);
  CHECK(q.sql_line_origins[4].line == 23);
  CHECK(q.allowed_lateness == 0);
  CHECK(q.late == LatePolicy::kFile);

  const SinkConfig& k = c.sinks.at("alerts");
  CHECK(k.type == SinkType::kFile);
  CHECK(k.inputs == std::vector<std::string>{"big_spenders"});
  REQUIRE(k.input_pos.size() == 1);
  CHECK(k.input_pos[0].line == 29);
  CHECK(k.input_pos[0].col == 14);
  CHECK(k.path == "./out/big_spenders.jsonl");
  CHECK(k.format == SinkFormat::kJsonl);
  CHECK(k.delivery == Delivery::kAtLeastOnce);
  CHECK(k.rotate_max_bytes == 256ull << 20);
  CHECK(k.rotate_max_age == 3'600'000);
}

TEST_CASE("the full DESIGN example fails with exactly the unsupported features, by name") {
  LoadResult r = parse_yaml(read_case("design_example.yaml"));
  INFO(rendered(r));
  CHECK(!r.config);
  struct Expected {
    uint32_t line, col;
    const char* message;
  };
  std::vector<Expected> want{
      {5, 3, "`server.kafka` is not supported yet by this build"},
      {6, 3, "`server.http` is not supported yet by this build"},
  };
  REQUIRE(r.diagnostics.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const Diagnostic& d = r.diagnostics[i];
    CAPTURE(i);
    CHECK(d.code == codes::kUnsupported);
    CHECK(d.message == want[i].message);
    CHECK(d.pos.line == want[i].line);
    CHECK(d.pos.col == want[i].col);
    CHECK(!d.help.empty());
  }
}

TEST_CASE("checkpoint: makes exactly_once the sinks' default; exactly_once needs it") {
  const std::string sinks =
      "queries: { q: { sql: SELECT 1 } }\n"
      "sinks:\n"
      "  a: { type: file, inputs: [q], path: ./a.jsonl }\n"
      "  b: { type: file, inputs: [q], path: ./b.jsonl, delivery: at_least_once }\n";
  LoadResult with =
      parse_yaml("version: 1\n" + sinks + "checkpoint: { interval: 2s, retained: 4 }\n");
  INFO(rendered(with));
  REQUIRE(with.config);
  REQUIRE(with.config->checkpoint);
  CHECK(with.config->checkpoint->interval == 2000);
  CHECK(with.config->checkpoint->retained == 4);
  CHECK(with.config->sinks.at("a").delivery == Delivery::kExactlyOnce);
  CHECK(with.config->sinks.at("b").delivery == Delivery::kAtLeastOnce);

  LoadResult without = parse_yaml("version: 1\n" + sinks);
  REQUIRE(without.config);
  CHECK(without.config->sinks.at("a").delivery == Delivery::kAtLeastOnce);

  LoadResult bad = parse_yaml(
      "version: 1\nqueries: { q: { sql: SELECT 1 } }\nsinks:\n"
      "  k: { type: file, inputs: [q], path: ./o.jsonl, delivery: exactly_once }\n");
  REQUIRE(!bad.config);
  REQUIRE(bad.diagnostics.size() == 1);
  CHECK(bad.diagnostics[0].code == codes::kNeedsCheckpoint);
  CHECK(bad.diagnostics[0].pos.line == 4);
  CHECK(bad.diagnostics[0].pos.col == 60);  // at `exactly_once`
  CHECK(contains(bad.diagnostics[0].help, "checkpoint:"));
}

TEST_CASE("every row of the unsupported table is rejected by name") {
  // One config per row; a row added without a snippet here fails the test on purpose.
  std::map<std::string, std::string> snippet{
      {"server.kafka", "server:\n  kafka: { listen: 127.0.0.1:9092 }\n"},
      {"server.http", "server:\n  http: { listen: 127.0.0.1:8080 }\n"},
      {"topics.*.retention", "topics:\n  t:\n    retention: 7d\n"},
      {"topics.*.retention_bytes", "topics:\n  t:\n    retention_bytes: 10GiB\n"},
      {"sources.*.type",
       "topics: { t: {} }\nsources:\n  s: { type: file, path: ./x.jsonl, to: t }\n"},
  };
  CHECK(!unsupported_features().empty());
  for (const UnsupportedFeature& f : unsupported_features()) {
    CAPTURE(f.path);
    REQUIRE(snippet.count(std::string(f.path)));
    LoadResult r = parse_yaml("version: 1\n" + snippet[std::string(f.path)]);
    Diagnostic d = only_error(r);
    CHECK(d.code == codes::kUnsupported);
    CHECK(contains(d.message, "is not supported yet by this build"));
    std::string_view leaf = f.path.substr(f.path.rfind('.') + 1);
    CHECK(contains(d.message, leaf));
    if (!f.value.empty()) CHECK(contains(d.message, f.value));
    CHECK(d.help == f.help);
  }
}

TEST_CASE("defaults fill what the file leaves out") {
  LoadResult r = parse_yaml(kMinimal);
  INFO(rendered(r));
  REQUIRE(r.config);
  const Config& c = *r.config;
  CHECK(c.data_dir == "./data");
  const TopicConfig& t = c.topics.at("payments");
  CHECK(t.key_field.empty());
  CHECK(!t.retention);
  CHECK(!t.retention_bytes);
  CHECK(t.segment_bytes == 128ull << 20);
  CHECK(t.fsync == FsyncPolicy::kInterval);
  CHECK(t.fsync_interval == 10);
  CHECK(!t.event_time);
  const SourceConfig& s = c.sources.at("demo");
  CHECK(s.profile == "payments");
  CHECK(s.rate_per_sec == doctest::Approx(1000));
  CHECK(s.seed == 1);
  CHECK(!s.start_time);
  CHECK(s.max_out_of_order == 2000);
  const QueryConfig& q = c.queries.at("q");
  CHECK(q.sql == "SELECT * FROM payments");
  CHECK(q.late == LatePolicy::kFile);
  const SinkConfig& k = c.sinks.at("out");
  CHECK(k.format == SinkFormat::kJsonl);
  CHECK(k.delivery == Delivery::kAtLeastOnce);
  CHECK(!k.rotate_max_bytes);
}

TEST_CASE("generator settings, shards and csv sinks are read") {
  LoadResult r = parse_yaml(R"(version: 1
data_dir: /var/lib/freshet
server: { shards: 3 }
topics: { t: { fsync: always } }
sources:
  g:
    type: generator
    to: t
    rate: 600/m
    count: 5000
    seed: 42
    start_time: 2026-11-25T10:00:00Z
    out_of_order: 250ms
queries: { q: { sql: SELECT 1, late: drop, allowed_lateness: 1m } }
sinks:
  a: { type: file, inputs: [q], path: ./out/a.csv }
  b: { type: file, inputs: [q], path: ./out/b.txt, format: csv }
)");
  INFO(rendered(r));
  REQUIRE(r.config);
  const Config& c = *r.config;
  CHECK(c.data_dir == "/var/lib/freshet");
  CHECK(c.server.shards == 3);
  CHECK(c.topics.at("t").fsync == FsyncPolicy::kAlways);
  const SourceConfig& s = c.sources.at("g");
  CHECK(s.rate_per_sec == doctest::Approx(10));
  CHECK(s.count == 5000u);
  CHECK(s.seed == 42);
  CHECK(s.start_time == 1'795'600'800'000);
  CHECK(s.max_out_of_order == 250);
  CHECK(c.queries.at("q").late == LatePolicy::kDrop);
  CHECK(c.queries.at("q").allowed_lateness == 60'000);
  CHECK(c.sinks.at("a").format == SinkFormat::kCsv);  // from the extension
  CHECK(c.sinks.at("b").format == SinkFormat::kCsv);
}

TEST_CASE("YAML 1.1 booleans never turn into enum values") {
  LoadResult r = parse_yaml("version: 1\ntopics:\n  t: { fsync: no }\n");
  Diagnostic d = only_error(r);
  CHECK(d.code == codes::kBadEnum);
  CHECK(d.message == "`no` is not a valid `fsync` in topic `t`");
  CHECK(d.help == "valid values: always, interval, never");
}

TEST_CASE("load_file reports a missing file as kNotFound") {
  auto r = load_file("/nonexistent/freshet/pipeline.yaml");
  REQUIRE(!r);
  CHECK(r.error().code == ErrorCode::kNotFound);
  CHECK(contains(r.error().message, "/nonexistent/freshet/pipeline.yaml"));
}

TEST_CASE("load_file reports a directory as kIo") {
  auto r = load_file("/");
  REQUIRE(!r);
  CHECK(r.error().code == ErrorCode::kIo);
}

TEST_CASE("load_file parses a file and names it in diagnostics") {
  std::string path = case_path("five_errors.yaml");
  auto r = load_file(path);
  REQUIRE(r);
  CHECK(r->source.name() == path);
  CHECK(r->diagnostics.size() == 5);
  std::string out = render_all(r->diagnostics, r->source, DiagnosticFormat::kHuman, false);
  CHECK(contains(out, "--> " + path + ":5:17"));
  CHECK(contains(out, "5 errors; configuration not valid"));
}

TEST_CASE("a topic sink names its topic, which must exist") {
  LoadResult good = parse_yaml(
      "version: 1\ntopics: { alerts: { key: card }, t: {} }\n"
      "queries: { q: { sql: SELECT 1 FROM t } }\n"
      "sinks:\n  k: { type: topic, inputs: [q], topic: alerts, key: card }\n"
      "checkpoint: { interval: 1s }\n");
  INFO(rendered(good));
  REQUIRE(good.config);
  const SinkConfig& k = good.config->sinks.at("k");
  CHECK(k.type == SinkType::kTopic);
  CHECK(k.topic == "alerts");
  CHECK(k.key_field == "card");
  CHECK(k.path.empty());
  CHECK(k.delivery == Delivery::kExactlyOnce);

  LoadResult bad = parse_yaml(
      "version: 1\ntopics: { alerts: {} }\nqueries: { q: { sql: SELECT 1 } }\n"
      "sinks:\n  k: { type: topic, inputs: [q], topic: alert }\n");
  REQUIRE(!bad.config);
  REQUIRE(bad.diagnostics.size() == 1);
  CHECK(bad.diagnostics[0].code == codes::kUnknownTopic);
  CHECK(bad.diagnostics[0].pos.line == 5);
  CHECK(contains(bad.diagnostics[0].label, "alerts"));
}

TEST_CASE("emit: early with early_every; final is the default") {
  LoadResult r = parse_yaml(
      "version: 1\ntopics: { t: {} }\nqueries:\n"
      "  a: { sql: SELECT 1 FROM t }\n"
      "  b: { sql: SELECT 1 FROM t, emit: early, early_every: 2s }\n"
      "  c: { sql: SELECT 1 FROM t, emit: on_window_close }\n");
  INFO(rendered(r));
  REQUIRE(r.config);
  CHECK(r.config->queries.at("a").emit == EmitPolicy::kFinal);
  CHECK(r.config->queries.at("b").emit == EmitPolicy::kEarly);
  CHECK(r.config->queries.at("b").early_every == 2000);
  CHECK(r.config->queries.at("c").emit == EmitPolicy::kFinal);
  LoadResult bad = parse_yaml(
      "version: 1\ntopics: { t: {} }\nqueries:\n"
      "  a: { sql: SELECT 1 FROM t, emit: eraly }\n");
  REQUIRE(!bad.config);
  REQUIRE(bad.diagnostics.size() == 1);
  CHECK(bad.diagnostics[0].pos.line == 4);
  CHECK(contains(bad.diagnostics[0].label, "early"));
}
