#include "freshet/log/record_batch.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "freshet/base/crc32c.h"
#include "freshet/log/segment_format.h"

using namespace freshet;
using namespace freshet::log;

TEST_CASE("a batch round-trips keys, values, nulls and out-of-order timestamps") {
  std::string buf;
  BatchBuilder b(buf, 1000);
  b.add(std::string_view("k1"), "v1", 1000);
  b.add(std::nullopt, "", 990);  // earlier than the base: a negative delta
  b.add(std::string_view(""), std::string(300, 'x'), 5000);
  const size_t size = b.finish(Offset(42));
  CHECK(size == buf.size());
  auto v = BatchView::parse(buf.data(), buf.size());
  REQUIRE(v.has_value());
  CHECK(v->base_offset() == Offset(42));
  CHECK(v->last_offset() == Offset(44));
  CHECK(v->record_count() == 3);
  CHECK(v->max_timestamp() == 5000);
  auto it = v->records();
  RecordView r;
  REQUIRE(it.next(r));
  CHECK(r.offset == Offset(42));
  CHECK(*r.key == "k1");
  CHECK(*r.value == "v1");
  CHECK(r.timestamp == 1000);
  REQUIRE(it.next(r));
  CHECK_FALSE(r.key.has_value());
  CHECK(r.value->empty());
  CHECK(r.timestamp == 990);
  REQUIRE(it.next(r));
  CHECK(r.key->empty());
  CHECK(r.value->size() == 300);
  CHECK(r.offset == Offset(44));
  CHECK_FALSE(it.next(r));
  CHECK_FALSE(it.error().has_value());
}

TEST_CASE("the header is Kafka's: magic 2 at byte 16, CRC-32C from byte 21") {
  std::string buf;
  BatchBuilder b(buf, 7);
  b.add(std::nullopt, "hello", 7);
  b.finish(Offset(0));
  CHECK(buf[kMagicOffset] == 2);
  const uint32_t crc = (uint32_t(uint8_t(buf[17])) << 24) | (uint32_t(uint8_t(buf[18])) << 16) |
                       (uint32_t(uint8_t(buf[19])) << 8) | uint32_t(uint8_t(buf[20]));
  CHECK(crc == crc32c(0, buf.data() + 21, buf.size() - 21));
  // batchLength counts the bytes after itself.
  CHECK(BatchView::peek_batch_length(buf.data()) == buf.size() - 12);
}

TEST_CASE("setting the base offset leaves the CRC valid") {
  std::string buf;
  BatchBuilder b(buf, 0);
  b.add(std::nullopt, "a", 0);
  b.finish(Offset(0));
  set_base_offset(buf.data(), Offset(1234567));
  auto v = BatchView::parse(buf.data(), buf.size());
  REQUIRE(v.has_value());
  CHECK(v->base_offset() == Offset(1234567));
}

TEST_CASE("every single-bit flip in a batch is detected") {
  std::string buf;
  BatchBuilder b(buf, 0);
  b.add(std::string_view("key"), "value", 3);
  b.finish(Offset(0));
  // Bytes 0-16 (offset, length, epoch, magic) are outside the CRC by Kafka's design: a flip
  // there shows as a bad length, magic or offset sequence, which recovery checks separately.
  for (size_t byte = kAttributesOffset; byte < buf.size(); ++byte)
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = buf;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      CHECK_FALSE(BatchView::parse(bad.data(), bad.size()).has_value());
    }
}

TEST_CASE("truncated batches are rejected with the reason") {
  std::string buf;
  BatchBuilder b(buf, 0);
  b.add(std::nullopt, "value", 3);
  b.finish(Offset(0));
  for (size_t len = 0; len < buf.size(); ++len) {
    auto v = BatchView::parse(buf.data(), len);
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().code == ErrorCode::kCorruption);
  }
}

TEST_CASE("base and max timestamps come from the records, not the builder's hint") {
  // Regression: maxTimestamp started at the constructor's hint, so a batch whose records were
  // all older claimed a newer maximum, and time lookups returned a batch too early.
  std::string buf;
  BatchBuilder b(buf, 1000);
  b.add(std::nullopt, "a", 990);
  b.add(std::nullopt, "b", 995);
  b.add(std::nullopt, "c", 985);
  b.finish(Offset(0));
  auto v = BatchView::parse(buf.data(), buf.size());
  REQUIRE(v.has_value());
  CHECK(v->max_timestamp() == 995);
  auto it = v->records();
  RecordView r;
  std::vector<TimestampMs> ts;
  while (it.next(r)) ts.push_back(r.timestamp);
  CHECK(ts == std::vector<TimestampMs>{990, 995, 985});
  CHECK((static_cast<uint8_t>(buf[27 + 7]) | (static_cast<uint8_t>(buf[27 + 6]) << 8)) == 990);
}

namespace {

std::vector<std::pair<std::string, std::optional<std::string>>> headers_of(const RecordView& r) {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  auto it = r.headers.iterate();
  RecordHeader h;
  while (it.next(h))
    out.emplace_back(h.key, h.value ? std::optional<std::string>(*h.value) : std::nullopt);
  REQUIRE_FALSE(it.error().has_value());
  return out;
}

}  // namespace

TEST_CASE("record headers round-trip, null values and empty keys included") {
  std::string buf;
  BatchBuilder b(buf, 0);
  const RecordHeader hs[] = {{"trace", std::string_view("abc")},
                             {"", std::nullopt},
                             {"bin", std::string_view("\0\xff", 2)}};
  b.add(std::string_view("k"), "v1", 5, hs);
  b.add(std::nullopt, "v2", 6);
  b.finish(Offset(7));
  auto v = BatchView::parse(buf.data(), buf.size());
  REQUIRE(v.has_value());
  auto it = v->records();
  RecordView r;
  REQUIRE(it.next(r));
  CHECK(*r.key == "k");
  CHECK(*r.value == "v1");
  using H = std::vector<std::pair<std::string, std::optional<std::string>>>;
  CHECK(headers_of(r) ==
        H{{"trace", "abc"}, {"", std::nullopt}, {"bin", std::string("\0\xff", 2)}});
  REQUIRE(it.next(r));
  CHECK(*r.value == "v2");
  CHECK(r.offset == Offset(8));
  CHECK(r.headers.count == 0);
  CHECK(headers_of(r).empty());
  CHECK_FALSE(it.next(r));
  CHECK_FALSE(it.error().has_value());
}

TEST_CASE("a record with a header is encoded byte for byte as Kafka's DefaultRecord") {
  // Kafka 2.x DefaultRecord.writeTo for key=null, value="v", one header h="x", deltas 0:
  // length 11 (zig-zag 0x16), attributes 0, timestampDelta 0, offsetDelta 0, keyLength -1
  // (0x01), valueLength 1 (0x02) 'v', headerCount 1 (0x02), keyLength 1 'h', valueLength 1 'x'.
  std::string buf;
  BatchBuilder b(buf, 100);
  const RecordHeader h[] = {{"h", std::string_view("x")}};
  b.add(std::nullopt, "v", 100, h);
  b.finish(Offset(0));
  const std::string expected("\x16\x00\x00\x00\x01\x02v\x02\x02h\x02x", 12);
  CHECK(buf.substr(kBatchHeaderSize) == expected);
  CHECK(BatchView::peek_batch_length(buf.data()) == buf.size() - 12);
  CHECK(BatchView::parse(buf.data(), buf.size()).has_value());
}

TEST_CASE("headers set on the first record after the batch is complete keep it valid") {
  SUBCASE("a short first record") {
    std::string buf = "prefix";  // the builder appends after what the buffer holds
    BatchBuilder b(buf, 0);
    b.add(std::string_view("k0"), "first", 10);
    b.add(std::nullopt, "second", 11);
    b.add(std::string_view("k2"), "third", 9);
    const RecordHeader pos[] = {{"freshet.source.x", std::string_view("position after third")}};
    b.set_first_record_headers(pos);
    b.finish(Offset(3));
    auto v = BatchView::parse(buf.data() + 6, buf.size() - 6);
    REQUIRE(v.has_value());
    CHECK(v->size() == buf.size() - 6);
    auto it = v->records();
    RecordView r;
    REQUIRE(it.next(r));
    CHECK(*r.key == "k0");
    CHECK(*r.value == "first");
    CHECK(r.timestamp == 10);
    using H = std::vector<std::pair<std::string, std::optional<std::string>>>;
    CHECK(headers_of(r) == H{{"freshet.source.x", "position after third"}});
    REQUIRE(it.next(r));
    CHECK(*r.value == "second");
    CHECK(r.headers.count == 0);
    REQUIRE(it.next(r));
    CHECK(*r.value == "third");
    CHECK(r.offset == Offset(5));
    CHECK_FALSE(it.next(r));
    CHECK_FALSE(it.error().has_value());
  }
  SUBCASE("replacing headers, and the length prefix growing a byte") {
    // A first record of 8 180 bytes has a two-byte length; the header pushes it past 8 191,
    // where the zig-zag varint needs three.
    const std::string big(8170, 'b');
    std::string buf;
    BatchBuilder b(buf, 0);
    const RecordHeader old[] = {{"old", std::string_view("1")}, {"gone", std::nullopt}};
    b.add(std::nullopt, big, 1, old);
    b.add(std::nullopt, "tail", 2);
    const std::string value(40, 'p');
    const RecordHeader pos[] = {{"freshet.source.y", std::string_view(value)}};
    b.set_first_record_headers(pos);
    b.finish(Offset(0));
    auto v = BatchView::parse(buf.data(), buf.size());
    REQUIRE(v.has_value());
    auto it = v->records();
    RecordView r;
    REQUIRE(it.next(r));
    CHECK(*r.value == big);
    using H = std::vector<std::pair<std::string, std::optional<std::string>>>;
    CHECK(headers_of(r) == H{{"freshet.source.y", value}});
    REQUIRE(it.next(r));
    CHECK(*r.value == "tail");
    CHECK_FALSE(it.next(r));
    CHECK_FALSE(it.error().has_value());
  }
}

TEST_CASE("a header running past its record is malformed, not read out of bounds") {
  std::string buf;
  BatchBuilder b(buf, 0);
  const RecordHeader h[] = {{"key", std::string_view("value")}};
  b.add(std::nullopt, "v", 0, h);
  b.finish(Offset(0));
  auto v = BatchView::parse(buf.data(), buf.size());
  REQUIRE(v.has_value());
  auto it = v->records();
  RecordView r;
  REQUIRE(it.next(r));
  RecordHeaders cut = r.headers;
  cut.bytes.remove_suffix(2);  // the value claims 5 bytes, 3 are left
  auto hi = cut.iterate();
  RecordHeader out;
  CHECK_FALSE(hi.next(out));
  REQUIRE(hi.error().has_value());
  CHECK(hi.error()->code == ErrorCode::kCorruption);
}

TEST_CASE("records without headers are Kafka's DefaultRecord byte for byte at every varint width") {
  // A reference encoder straight from the format (segment_format.h), for the builder's fast
  // path and the reader's one- and two-byte varint shortcuts: lengths and deltas on both sides
  // of the one, two and three byte widths, negative ones included.
  auto varint = [](std::string& out, int64_t v) {
    uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
    for (; z >= 0x80; z >>= 7) out.push_back(static_cast<char>((z & 0x7f) | 0x80));
    out.push_back(static_cast<char>(z));
  };
  auto record = [&](int64_t ts_delta, int64_t offset_delta, std::optional<std::string> key,
                    const std::string& value) {
    std::string body(1, '\0');
    varint(body, ts_delta);
    varint(body, offset_delta);
    varint(body, key ? static_cast<int64_t>(key->size()) : -1);
    if (key) body += *key;
    varint(body, static_cast<int64_t>(value.size()));
    body += value;
    body.push_back('\0');
    std::string out;
    varint(out, static_cast<int64_t>(body.size()));
    return out + body;
  };
  const TimestampMs base = 1'700'000'000'000;
  for (size_t value_size : {0, 1, 63, 64, 8191, 8192, 70000}) {
    for (std::optional<std::string> key :
         {std::optional<std::string>(), std::optional<std::string>(""),
          std::optional<std::string>(std::string(64, 'k'))}) {
      for (int64_t delta :
           {int64_t{0}, int64_t{-1}, int64_t{-65}, int64_t{8191}, int64_t{1} << 40}) {
        CAPTURE(value_size);
        CAPTURE(delta);
        const std::string value(value_size, 'v');
        std::string buf;
        BatchBuilder b(buf, base);
        b.add(std::nullopt, "first", base);
        b.add(key ? std::optional<std::string_view>(*key) : std::nullopt, value, base + delta);
        b.finish(Offset(0));
        CHECK(buf.substr(kBatchHeaderSize) ==
              record(0, 0, std::nullopt, "first") + record(delta, 1, key, value));
        auto v = BatchView::parse(buf.data(), buf.size());
        REQUIRE(v.has_value());
        auto it = v->records();
        RecordView r;
        REQUIRE(it.next(r));
        REQUIRE(it.next(r));
        CHECK(r.timestamp == base + delta);
        CHECK(r.offset == Offset(1));
        CHECK(r.key.has_value() == key.has_value());
        if (key) CHECK(*r.key == *key);
        CHECK(*r.value == value);
        CHECK(r.headers.count == 0);
        CHECK_FALSE(it.next(r));
        CHECK_FALSE(it.error().has_value());
      }
    }
  }
}
