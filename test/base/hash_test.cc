#include "freshet/base/hash.h"

#include <doctest/doctest.h>

#include <string>

using namespace freshet;

TEST_CASE("murmur2 matches the Kafka Java client's partitioner") {
  // Vectors from org.apache.kafka.common.utils.UtilsTest#testMurmur2.
  CHECK(static_cast<int32_t>(murmur2("21")) == -973932308);
  CHECK(static_cast<int32_t>(murmur2("foobar")) == -790332482);
  CHECK(static_cast<int32_t>(murmur2("a-little-bit-long-string")) == -985981536);
  CHECK(static_cast<int32_t>(murmur2("a-little-bit-longer-string")) == -1486304829);
  CHECK(static_cast<int32_t>(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")) ==
        -58897971);
  CHECK(static_cast<int32_t>(murmur2(std::string_view("abc", 3))) == 479470107);
}

TEST_CASE("kafka_partition stays in range and is stable") {
  for (int i = 0; i < 1000; ++i) {
    auto key = std::to_string(i);
    int32_t p = kafka_partition(key, 7);
    CHECK(p >= 0);
    CHECK(p < 7);
    CHECK(p == kafka_partition(key, 7));
  }
}

TEST_CASE("hash64 is deterministic and seed-sensitive") {
  CHECK(hash64("card-1") == hash64("card-1"));
  CHECK(hash64("card-1") != hash64("card-2"));
  CHECK(hash64("x", 1, 1) != hash64("x", 1, 2));
}
