#include "freshet/base/result.h"

#include <doctest/doctest.h>

#include "freshet/base/ids.h"

#include <cerrno>

using namespace freshet;

namespace {
Result<int> parse_positive(int v) {
  if (v <= 0) return make_error(ErrorCode::kInvalidArgument, "{} is not positive", v);
  return v;
}
Result<int> doubled(int v) {
  FRESHET_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}
Status check(int v) {
  FRESHET_TRY(parse_positive(v));
  return ok();
}
}  // namespace

TEST_CASE("errors propagate through FRESHET_TRY and FRESHET_ASSIGN_OR_RETURN") {
  CHECK(doubled(4).value() == 8);
  auto bad = doubled(-1);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  CHECK(bad.error().message == "-1 is not positive");
  CHECK(check(1).has_value());
  CHECK_FALSE(check(0).has_value());
}

TEST_CASE("errno_error keeps the errno and names it") {
  Error e = errno_error(ENOENT, "open x").value();
  CHECK(e.code == ErrorCode::kNotFound);
  CHECK(e.sys_errno == ENOENT);
  CHECK(e.message.find("open x: ") == 0);
}

TEST_CASE("context prefixes the message") {
  Error e{ErrorCode::kIo, "disk full", 0};
  Error wrapped = std::move(e).context("append segment");
  CHECK(wrapped.message == "append segment: disk full");
}

TEST_CASE("strong ids compare and do arithmetic within their own type") {
  Offset a(5), b(7);
  CHECK(a < b);
  CHECK(b - a == 2);
  CHECK((a + 2) == b);
  static_assert(!std::is_convertible_v<Offset, PartitionId>);
}
