#include "freshet/io/ring.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "freshet/io/file_system.h"
#include "temp_dir.h"

using namespace freshet;
using namespace freshet::io;
using freshet::testing::TempDir;

namespace {

// Records the result of one operation.
struct Recorder final : Completion {
  void complete(int32_t r, uint32_t /*flags*/) override {
    res = r;
    ++count;
  }
  int32_t res = 0;
  int count = 0;
};

// io_uring may be unavailable (seccomp in a container): such test cases skip with a note.
std::unique_ptr<Ring> make_ring(unsigned entries = 64) {
  auto ring = Ring::create(RingOptions{entries, 0});
  if (!ring) {
    MESSAGE("skipping: " << ring.error().message);
    return nullptr;
  }
  return std::move(*ring);
}

void reap_until(Ring& ring, const int& count, int want) {
  for (int i = 0; i < 1000 && count < want; ++i) ring.reap(true, 100'000'000);
}

}  // namespace

TEST_CASE("Ring write, fsync and read round-trip a real file") {
  auto ring = make_ring();
  if (!ring) return;
  TempDir dir;
  auto fd = posix_file_system().open(dir.file("data"), O_RDWR | O_CREAT);
  REQUIRE(fd.has_value());

  const std::string payload = "freshet ring round trip";
  Recorder wrote;
  ring->write(fd->get(), payload.data(), static_cast<unsigned>(payload.size()), 100, &wrote);
  CHECK(ring->in_flight() == 1);
  reap_until(*ring, wrote.count, 1);
  REQUIRE(wrote.count == 1);
  CHECK(wrote.res == static_cast<int32_t>(payload.size()));

  Recorder synced;
  ring->fsync(fd->get(), /*datasync=*/true, &synced);
  reap_until(*ring, synced.count, 1);
  CHECK(synced.res == 0);

  std::string back(payload.size(), '\0');
  Recorder readback;
  ring->read(fd->get(), back.data(), static_cast<unsigned>(back.size()), 100, &readback);
  reap_until(*ring, readback.count, 1);
  CHECK(readback.res == static_cast<int32_t>(payload.size()));
  CHECK(back == payload);
  CHECK(ring->in_flight() == 0);
}

TEST_CASE("Ring queues more operations than the SQ holds by submitting early") {
  auto ring = make_ring(4);
  if (!ring) return;
  TempDir dir;
  auto fd = posix_file_system().open(dir.file("data"), O_RDWR | O_CREAT);
  REQUIRE(fd.has_value());
  constexpr int kOps = 100;
  std::vector<Recorder> done(kOps);
  std::vector<char> bytes(kOps);
  for (int i = 0; i < kOps; ++i) {
    bytes[i] = static_cast<char>('a' + i % 26);
    ring->write(fd->get(), &bytes[i], 1, static_cast<uint64_t>(i), &done[i]);
  }
  int completed = 0;
  for (int spin = 0; spin < 1000 && completed < kOps; ++spin) {
    ring->reap(true, 100'000'000);
    completed = 0;
    for (const auto& d : done) completed += d.count;
  }
  CHECK(completed == kOps);
  for (const auto& d : done) CHECK(d.res == 1);
  std::vector<char> back(kOps);
  REQUIRE(posix_file_system().pread(fd->get(), back.data(), back.size(), 0).value() == kOps);
  CHECK(back == bytes);
}

TEST_CASE("Ring timeout expires with -ETIME and cancel stops a pending poll") {
  auto ring = make_ring();
  if (!ring) return;
  __kernel_timespec ts{0, 1'000'000};  // 1 ms
  Recorder timer;
  ring->timeout(&ts, 0, &timer);
  reap_until(*ring, timer.count, 1);
  CHECK(timer.res == -ETIME);

  int pipefd[2];
  REQUIRE(::pipe2(pipefd, O_CLOEXEC) == 0);
  Recorder poll;
  Recorder cancel;
  ring->poll_add(pipefd[0], POLLIN, &poll);
  ring->submit();
  ring->cancel(&poll, &cancel);
  reap_until(*ring, poll.count, 1);
  reap_until(*ring, cancel.count, 1);
  CHECK(poll.res == -ECANCELED);
  CHECK(cancel.res == 0);
  ::close(pipefd[0]);
  ::close(pipefd[1]);
}

TEST_CASE("Ring reap with a timeout returns after the timeout when nothing completes") {
  auto ring = make_ring();
  if (!ring) return;
  CHECK(ring->reap(true, 2'000'000) == 0);
  CHECK(ring->reap(false, 0) == 0);
}
