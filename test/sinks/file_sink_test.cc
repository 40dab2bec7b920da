#include "freshet/sinks/file_sink.h"

#include <doctest/doctest.h>

#include "temp_dir.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using namespace freshet;
using namespace freshet::sinks;

using freshet::testing::TempDir;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Stands in for the shard: performs each write the sink asks for with pwrite.
void drain(FileSink& sink, TimestampMs now, size_t short_by = 0) {
  auto& fs = io::posix_file_system();
  while (auto w = sink.next_write()) {
    size_t len = w->len > short_by ? w->len - short_by : w->len;
    auto n = fs.pwrite(w->fd, w->data, len, w->offset);
    REQUIRE(n.has_value());
    REQUIRE(sink.write_done(static_cast<int32_t>(*n), now).has_value());
  }
}

}  // namespace

TEST_CASE("rows are appended as JSON lines and survive short writes and failed writes") {
  TempDir d;
  FileSinkOptions o;
  o.name = "t";
  o.path = d.path + "/out/rows.jsonl";
  auto sink = FileSink::open(io::posix_file_system(), o);
  REQUIRE(sink.has_value());
  (*sink)->add_row(R"({"a":1})");
  (*sink)->add_row(R"({"a":2})");
  drain(**sink, 0, 3);  // every write comes back 3 bytes short
  (*sink)->add_row(R"({"a":3})");
  auto w = (*sink)->next_write();
  REQUIRE(w.has_value());
  CHECK_FALSE((*sink)->next_write().has_value());  // one write in flight at a time
  CHECK_FALSE((*sink)->write_done(-28 /* ENOSPC */, 0).has_value());
  (*sink)->add_row(R"({"a":4})");
  drain(**sink, 0);
  CHECK(slurp(o.path) == "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n");
  CHECK((*sink)->rows_written() == 4);
  CHECK((*sink)->idle());
}

TEST_CASE("rotation by size renames the live file and starts a new one") {
  TempDir d;
  FileSinkOptions o;
  o.name = "t";
  o.path = d.path + "/rows.jsonl";
  o.rotate_max_bytes = 20;
  auto sink = FileSink::open(io::posix_file_system(), o);
  REQUIRE(sink.has_value());
  for (int i = 0; i < 6; ++i) {
    (*sink)->add_row(R"({"row":)" + std::to_string(i) + "}");
    drain(**sink, 1'764'064'800'000);
  }
  auto files = io::posix_file_system().list_dir(d.path);
  REQUIRE(files.has_value());
  std::sort(files->begin(), files->end());
  CHECK(files->size() == 4);
  CHECK(files->front() == "rows.20251125T100000Z.000001.jsonl");
  std::string all;
  for (const auto& f : *files)
    if (f != "rows.jsonl") all += slurp(d.path + "/" + f);
  all += slurp(o.path);
  CHECK(all.find("{\"row\":0}\n{\"row\":1}\n") == 0);
  CHECK(std::count(all.begin(), all.end(), '\n') == 6);
}

TEST_CASE("csv rows follow the column order with a header and RFC 4180 quoting") {
  TempDir d;
  FileSinkOptions o;
  o.name = "t";
  o.path = d.path + "/rows.csv";
  o.format = Format::kCsv;
  o.columns = {"country", "n", "note"};
  auto sink = FileSink::open(io::posix_file_system(), o);
  REQUIRE(sink.has_value());
  (*sink)->add_row(R"({"country":"DE","n":12.50,"note":"a, \"b\""})");
  (*sink)->add_row(R"({"country":"FR","n":3,"note":null})");
  drain(**sink, 0);
  CHECK(slurp(o.path) == "country,n,note\nDE,12.50,\"a, \"\"b\"\"\"\nFR,3,\n");
}

TEST_CASE("a truncating open starts the live file empty; otherwise it appends") {
  TempDir d;
  FileSinkOptions o;
  o.name = "t";
  o.path = d.path + "/rows.jsonl";
  {
    auto sink = FileSink::open(io::posix_file_system(), o);
    (*sink)->add_row("{}");
    REQUIRE((*sink)->flush_blocking().has_value());
  }
  {
    auto sink = FileSink::open(io::posix_file_system(), o);
    (*sink)->add_row("{}");
    drain(**sink, 0);
  }
  CHECK(slurp(o.path) == "{}\n{}\n");
  o.truncate = true;
  auto sink = FileSink::open(io::posix_file_system(), o);
  REQUIRE(sink.has_value());
  CHECK(slurp(o.path).empty());
}
