#include "freshet/base/crc32c.h"

#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

using namespace freshet;

TEST_CASE("crc32c matches the RFC 3720 check values") {
  const char* s = "123456789";
  CHECK(crc32c(0, s, 9) == 0xe3069283u);
  CHECK(crc32c_portable(0, s, 9) == 0xe3069283u);
  std::vector<uint8_t> zeros(32, 0), ones(32, 0xff);
  CHECK(crc32c(0, zeros.data(), 32) == 0x8a9136aau);
  CHECK(crc32c(0, ones.data(), 32) == 0x62a8ab43u);
}

TEST_CASE("hardware and portable crc32c agree at every length and can be chained") {
  std::mt19937 rng(7);
  std::vector<uint8_t> buf(1000);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t len = 0; len <= buf.size(); len += 13) {
    CHECK(crc32c(0, buf.data(), len) == crc32c_portable(0, buf.data(), len));
    uint32_t chained = crc32c(crc32c(0, buf.data(), len / 2), buf.data() + len / 2, len - len / 2);
    CHECK(chained == crc32c(0, buf.data(), len));
  }
}
