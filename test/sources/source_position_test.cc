#include "freshet/sources/source_position.h"

#include <doctest/doctest.h>

#include "crash_util.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::sources;
using namespace freshet::sources::testing;
using freshet::testing::TempDir;

namespace {

// One batch of `n` records; the first carries `source`'s position `value` unless it is empty.
std::string batch(int n, std::string_view source, std::string_view value) {
  std::string buf;
  log::BatchBuilder b(buf, 0);
  for (int i = 0; i < n; ++i) b.add(std::nullopt, std::string(100, 'x'), i);
  const std::string key = position_header_key(source);
  if (!value.empty()) {
    const log::RecordHeader h[] = {{key, value}};
    b.set_first_record_headers(h);
  }
  b.finish(Offset(0));
  return buf;
}

}  // namespace

TEST_CASE("positions encode as text and decode back; anything else is rejected") {
  const GeneratorPosition g{123456789012, -5, 1764064800000};
  CHECK(g.encode() == "gen/1 next=123456789012 start=-5 paced=1764064800000");
  CHECK(GeneratorPosition::decode(g.encode()).value() == g);
  const FilePosition f{42, 1000, "/in/a b=c 7:x.jsonl", 17, "/in/\n0.jsonl"};
  CHECK(FilePosition::decode(f.encode()).value() == f);
  // Numbers are written at a fixed width, so only the paths change the size...
  CHECK(FilePosition{0, 0, f.path, 0, f.origin_path}.encode().size() == f.encode().size());
  const FilePosition widest{UINT64_MAX, UINT64_MAX, f.path, UINT64_MAX, f.origin_path};
  CHECK(widest.encode().size() == f.encode().size());
  CHECK(FilePosition::decode(widest.encode()).value() == widest);
  // ...and logs written before that, with plain numbers, still resume.
  CHECK(FilePosition::decode("file/1 line=42 offset=1000 origin=17 path=5:/a/b011:/in/0.jsonl")
            .value() == FilePosition{42, 1000, "/a/b0", 17, "/in/0.jsonl"});
  for (std::string_view bad : {"", "gen/1", "gen/1 next=1 start=2", "gen/1 next=1 start=2 paced=3 ",
                               "gen/2 next=1", "gen/1 next=-1 start=2 paced=3",
                               "gen/1 next=1 start=2 paced=3x", "gen/1 start=2 next=1 paced=3"})
    CHECK(GeneratorPosition::decode(bad).error().code == ErrorCode::kCorruption);
  for (std::string_view bad : {"file/1 line=1 offset=2 origin=3 path=5:abc3:abc",
                               "file/1 line=1 offset=2 origin=3 path=3:abc3:abcd",
                               "file/1 line=1 offset=2 origin=3 path=3:abc", "file/1"})
    CHECK(FilePosition::decode(bad).error().code == ErrorCode::kCorruption);
  CHECK(position_header_key("demo") == "freshet.source.demo");
}

TEST_CASE("the last position of a source is found past other sources' and clients' batches") {
  TempDir d;
  Parts parts = open_parts(d.path, 1);
  log::PartitionLog& l = *parts[0];
  CHECK_FALSE(last_source_position(l, "a").value().has_value());  // empty partition
  auto append = [&](std::string b) { REQUIRE(l.append(b).has_value()); };
  append(batch(3, "a", "a-1"));
  append(batch(2, "a", "a-2"));
  append(batch(4, "b", "b-1"));
  CHECK(last_source_position(l, "a").value() == "a-2");
  CHECK(last_source_position(l, "b").value() == "b-1");
  CHECK_FALSE(last_source_position(l, "c").value().has_value());
  // Thousands of batches without a position of `a` after its last one, over several
  // segments: the backward windows must reach it.
  for (int i = 0; i < 3000; ++i) append(batch(1 + i % 5, "", ""));
  append(batch(1, "b", "b-2"));
  REQUIRE(l.segment_count() > 1);
  CHECK(last_source_position(l, "a").value() == "a-2");
  CHECK(last_source_position(l, "b").value() == "b-2");
  append(batch(7, "a", "a-3"));
  CHECK(last_source_position(l, "a").value() == "a-3");
}

TEST_CASE("a torn last batch loses its position with it, after recovery") {
  TempDir d;
  {
    Parts parts = open_parts(d.path, 1);
    for (int i = 0; i < 20; ++i) {
      std::string b = batch(5, "a", "a-" + std::to_string(i));
      REQUIRE(parts[0]->append(b).has_value());
    }
  }
  crash_cut(d.path + "/0", 12, /*torn=*/true);
  Parts parts = open_parts(d.path, 1);
  CHECK(parts[0]->bytes_dropped_at_recovery() > 0);
  CHECK(last_source_position(*parts[0], "a").value() == "a-11");
}
