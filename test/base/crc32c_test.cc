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

TEST_CASE("the interleaved hardware crc32c agrees with the portable one around its block sizes") {
  // Three streams over 3 x 8192 and 3 x 256 byte blocks, joined by shifting: lengths on
  // both sides of each block boundary, at every alignment mod 8, and a chained split.
  std::mt19937 rng(11);
  std::vector<uint8_t> buf(3 * 8192 * 2 + 3 * 256 * 2 + 64);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  std::vector<size_t> lengths;
  for (size_t block : {size_t{256}, size_t{8192}})
    for (size_t n : {3 * block - 1, 3 * block, 3 * block + 1, 3 * block + 8, 6 * block + 7})
      lengths.push_back(n);
  lengths.push_back(buf.size() - 8);
  for (size_t len : lengths) {
    for (size_t align = 0; align < 8; ++align) {
      const uint8_t* p = buf.data() + align;
      const uint32_t want = crc32c_portable(0x12345678u, p, len);
      CHECK(crc32c(0x12345678u, p, len) == want);
      CHECK(crc32c(crc32c(0x12345678u, p, len / 3), p + len / 3, len - len / 3) == want);
    }
  }
}
