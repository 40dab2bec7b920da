#include "freshet/base/diagnostic.h"

#include <doctest/doctest.h>

using namespace freshet;

TEST_CASE("a diagnostic quotes the line and puts carets under the span") {
  SourceText src("pipeline.yaml", "version: 1\ntopics:\n  payments:\n    retension: 7d\n");
  Diagnostic d{"E0102",
               "unknown key `retension` in topic `payments`",
               {4, 5},
               9,
               "did you mean `retention`?",
               "valid keys: partitions, key, retention"};
  std::string out = render(d, src, DiagnosticFormat::kHuman, false);
  CHECK(out.find("error[E0102]: unknown key `retension` in topic `payments`") != std::string::npos);
  CHECK(out.find("--> pipeline.yaml:4:5") != std::string::npos);
  CHECK(out.find("4 |     retension: 7d\n") != std::string::npos);
  CHECK(out.find("  |     ^^^^^^^^^ did you mean `retention`?") != std::string::npos);
  CHECK(out.find("= help: valid keys") != std::string::npos);
  std::string short_form = render(d, src, DiagnosticFormat::kShort, false);
  CHECK(short_form.rfind("pipeline.yaml:4:5: error: unknown key", 0) == 0);
}

TEST_CASE("render_all ends with the error count") {
  SourceText src("a.yaml", "x: 1\n");
  std::vector<Diagnostic> ds(2, Diagnostic{"E1", "bad", {1, 1}, 1, "", ""});
  CHECK(render_all(ds, src, DiagnosticFormat::kHuman, false)
            .find("2 errors; configuration not valid") != std::string::npos);
}

TEST_CASE("source positions of byte offsets") {
  SourceText src("a", "ab\ncde\n\nf");
  CHECK(src.pos_of(0).line == 1);
  CHECK(src.pos_of(4).line == 2);
  CHECK(src.pos_of(4).col == 2);
  CHECK(src.pos_of(8).line == 4);
  CHECK(src.line(2) == "cde");
  CHECK(src.line(3) == "");
  CHECK(src.line(9) == "");
}

TEST_CASE("closest_match suggests plausible typos only") {
  std::vector<std::string_view> keys{"retention", "retention_bytes", "partitions", "key"};
  CHECK(closest_match("retension", keys) == "retention");
  CHECK(closest_match("partition", keys) == "partitions");
  CHECK(closest_match("zzzzzzzz", keys).empty());
  CHECK(edit_distance("kitten", "sitting") == 3);
}
