// Where sources and sinks run: from opposite ends of the shards, so one source and one sink
// do not share a shard when there are two.

#include <doctest/doctest.h>

#include "pipeline.h"

using namespace freshet;
using namespace freshet::server;

TEST_CASE("one source and one sink on two shards run on different shards") {
  CHECK(source_shard(0, 2) == ShardId(0));
  CHECK(sink_shard(0, 2) == ShardId(1));
}

TEST_CASE("sources count up from the first shard, sinks down from the last, and wrap") {
  CHECK(source_shard(1, 3) == ShardId(1));
  CHECK(source_shard(3, 3) == ShardId(0));
  CHECK(sink_shard(0, 3) == ShardId(2));
  CHECK(sink_shard(1, 3) == ShardId(1));
  CHECK(sink_shard(2, 3) == ShardId(0));
  CHECK(sink_shard(3, 3) == ShardId(2));
}

TEST_CASE("one shard runs everything") {
  CHECK(source_shard(0, 1) == ShardId(0));
  CHECK(source_shard(5, 1) == ShardId(0));
  CHECK(sink_shard(0, 1) == ShardId(0));
  CHECK(sink_shard(4, 1) == ShardId(0));
}
