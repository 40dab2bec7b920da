#include "freshet/server/topic_catalog.h"

#include <doctest/doctest.h>
#include <fcntl.h>

#include "temp_dir.h"

using namespace freshet;
using freshet::testing::TempDir;

namespace {
config::TopicConfig topic(const std::string& name, int32_t partitions) {
  config::TopicConfig t;
  t.name = name;
  t.partitions = partitions;
  t.key_field = "user";
  t.fsync = config::FsyncPolicy::kAlways;
  t.segment_bytes = 8 << 20;
  return t;
}
}  // namespace

TEST_CASE("a created topic reads back with its settings and partition directories") {
  TempDir d;
  auto& fs = io::posix_file_system();
  server::TopicCatalog c(fs, d.path);
  REQUIRE(c.create(topic("clicks", 3)).has_value());
  auto m = c.read("clicks");
  REQUIRE(m.has_value());
  CHECK(m->config.partitions == 3);
  CHECK(m->config.key_field == "user");
  CHECK(m->config.fsync == config::FsyncPolicy::kAlways);
  CHECK(m->config.segment_bytes == 8u << 20);
  CHECK(m->created_ms > 0);
  for (int p = 0; p < 3; ++p) CHECK(fs.exists(c.partition_dir("clicks", p)).value());
  CHECK_FALSE(fs.exists(c.topic_dir("clicks") + "/topic.json.tmp").value());
  // Creating it again with the same partitions is a no-op; with others it is refused.
  CHECK(c.create(topic("clicks", 3)).has_value());
  auto again = c.create(topic("clicks", 5));
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == ErrorCode::kAlreadyExists);
}

TEST_CASE("list skips directories that are not topics and remove deletes the topic") {
  TempDir d;
  auto& fs = io::posix_file_system();
  server::TopicCatalog c(fs, d.path);
  REQUIRE(c.create(topic("b", 1)).has_value());
  REQUIRE(c.create(topic("a", 2)).has_value());
  REQUIRE(fs.mkdirs(d.path + "/topics/not-a-topic").has_value());
  auto all = c.list();
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].config.name == "a");
  REQUIRE(c.remove("a").has_value());
  CHECK(c.list()->size() == 1);
  CHECK(c.remove("a").error().code == ErrorCode::kNotFound);
}

TEST_CASE("names that are not safe as directories or Kafka topics are refused") {
  TempDir d;
  server::TopicCatalog c(io::posix_file_system(), d.path);
  for (const char* bad : {"", ".", "..", "a/b", "a b", "ü"})
    CHECK(c.create(topic(bad, 1)).error().code == ErrorCode::kInvalidArgument);
  CHECK(server::valid_topic_name("payments.v2_eu-1"));
  CHECK_FALSE(server::valid_topic_name(std::string(250, 'a')));
}

TEST_CASE("resolve prefers the YAML, then the data dir, and says where it looked") {
  TempDir d;
  server::TopicCatalog c(io::posix_file_system(), d.path);
  REQUIRE(c.create(topic("recorded", 2)).has_value());
  config::Config cfg;
  cfg.file = "p.yaml";
  cfg.topics["declared"] = topic("declared", 7);
  CHECK(c.resolve(cfg, "declared")->partitions == 7);
  CHECK(c.resolve(cfg, "recorded")->partitions == 2);
  auto missing = c.resolve(cfg, "nope");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find("p.yaml") != std::string::npos);
  CHECK(missing.error().message.find("freshet topic create nope") != std::string::npos);
}

TEST_CASE("a damaged topic.json is reported as corruption, not guessed at") {
  TempDir d;
  auto& fs = io::posix_file_system();
  server::TopicCatalog c(fs, d.path);
  REQUIRE(c.create(topic("t", 1)).has_value());
  auto fd = fs.open(c.topic_dir("t") + "/topic.json", O_WRONLY | O_TRUNC, 0);
  REQUIRE(fd.has_value());
  REQUIRE(fs.pwrite(fd->get(), "{\"version\":1", 12, 0).has_value());
  auto m = c.read("t");
  REQUIRE_FALSE(m.has_value());
  CHECK(m.error().code == ErrorCode::kCorruption);
  CHECK(m.error().message.find("topic.json") != std::string::npos);
}
