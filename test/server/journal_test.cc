#include "journal.h"

#include <doctest/doctest.h>
#include <fcntl.h>

#include "temp_dir.h"

using namespace freshet;
using freshet::testing::TempDir;
using server::JournalRecord;

namespace {

JournalRecord record(JournalRecord::Kind kind, int32_t partition, TimestampMs wm,
                     std::vector<std::pair<int32_t, Offset>> at) {
  JournalRecord r;
  r.kind = kind;
  r.partition = partition;
  r.wm = wm;
  r.at_offsets = std::move(at);
  return r;
}

std::string contents(const std::string& path) {
  auto& fs = io::posix_file_system();
  auto fd = fs.open(path, O_RDONLY);
  REQUIRE(fd.has_value());
  std::string text(4096, '\0');
  auto got = fs.pread(fd->get(), text.data(), text.size(), 0);
  REQUIRE(got.has_value());
  text.resize(*got);
  return text;
}

}  // namespace

TEST_CASE("every kind of journal record reads back as written, in order") {
  TempDir d;
  auto& fs = io::posix_file_system();
  const std::string path = server::journal_path(d.path, "q", ShardId(1));
  const std::vector<JournalRecord> written{
      record(JournalRecord::Kind::kIdle, 3, kMinTimestamp, {{1, Offset(10)}, {3, Offset(7)}}),
      record(JournalRecord::Kind::kStep, -1, 1764064860000, {{1, Offset(10)}, {3, Offset(7)}}),
      record(JournalRecord::Kind::kRelease, -1, 1764064860000, {{1, Offset(12)}, {3, Offset(7)}}),
      record(JournalRecord::Kind::kResume, 3, 1764064861000, {{1, Offset(12)}, {3, Offset(7)}}),
      record(JournalRecord::Kind::kActive, 3, kMinTimestamp, {{1, Offset(12)}, {3, Offset(9)}}),
  };
  {
    auto w = server::JournalWriter::open(fs, path, false);
    REQUIRE(w.has_value());
    for (const auto& r : written) REQUIRE(w->append(ShardId(1), r).has_value());
    REQUIRE(w->sync().has_value());
  }
  CHECK(contents(path) ==
        "{\"shard\":1,\"idle\":3,\"at_offsets\":{\"1\":10,\"3\":7}}\n"
        "{\"shard\":1,\"wm\":1764064860000,\"at_offsets\":{\"1\":10,\"3\":7}}\n"
        "{\"shard\":1,\"release\":1764064860000,\"at_offsets\":{\"1\":12,\"3\":7}}\n"
        "{\"shard\":1,\"resume\":3,\"wm\":1764064861000,\"at_offsets\":{\"1\":12,\"3\":7}}\n"
        "{\"shard\":1,\"active\":3,\"at_offsets\":{\"1\":12,\"3\":9}}\n");
  auto read = server::read_journal(fs, path);
  REQUIRE(read.has_value());
  REQUIRE(read->size() == written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    CAPTURE(i);
    CHECK((*read)[i].kind == written[i].kind);
    CHECK((*read)[i].partition == written[i].partition);
    CHECK((*read)[i].wm == written[i].wm);
    CHECK((*read)[i].at_offsets == written[i].at_offsets);
  }
  // Reopened without truncating, it appends.
  {
    auto w = server::JournalWriter::open(fs, path, false);
    REQUIRE(w.has_value());
    REQUIRE(w->append(ShardId(1), written[0]).has_value());
    REQUIRE(w->sync().has_value());
  }
  CHECK(server::read_journal(fs, path)->size() == written.size() + 1);
}

TEST_CASE("a torn last journal line is dropped and a bad one is corruption with its line") {
  TempDir d;
  auto& fs = io::posix_file_system();
  const std::string path = d.file("j.jsonl");
  auto write = [&](std::string_view text) {
    auto fd = fs.open(path, O_WRONLY | O_CREAT | O_TRUNC);
    REQUIRE(fd.has_value());
    REQUIRE(fs.pwrite(fd->get(), text.data(), text.size(), 0).has_value());
  };
  write("{\"shard\":0,\"idle\":1,\"at_offsets\":{\"1\":5}}\n{\"shard\":0,\"active\":1,\"at_");
  auto torn = server::read_journal(fs, path);
  REQUIRE(torn.has_value());
  CHECK(torn->size() == 1);
  write("{\"shard\":0,\"idle\":1,\"at_offsets\":{\"1\":5}}\n{\"shard\":0,\"idle\":\"x\"}\n");
  auto bad = server::read_journal(fs, path);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == ErrorCode::kCorruption);
  CHECK(bad.error().message.find("line 2") != std::string::npos);
  CHECK(server::read_journal(fs, d.file("absent.jsonl"))->empty());
}
