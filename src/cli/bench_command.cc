// `freshet bench`: inputs for benchmarks. `bench nexmark-data` writes the Nexmark event
// stream as JSON lines to stdout, deterministically, so every run and every system compared
// reads the same file.

#include <cstdio>

#include "commands.h"
#include "freshet/base/exit_codes.h"
#include "freshet/config/units.h"
#include "freshet/sources/nexmark.h"

namespace freshet::cli {

int bench_nexmark_data(const NexmarkDataArgs& a) {
  sources::NexmarkOptions o;
  o.seed = a.seed;
  auto rate = config::parse_rate(a.density);
  if (!rate) {
    std::fprintf(stderr, "freshet bench nexmark-data: --density %s: %s\n", a.density.c_str(),
                 rate.error().message.c_str());
    return kExitUsage;
  }
  o.density = *rate;
  sources::NexmarkGenerator g(o);
  std::string event, out;
  out.reserve(1 << 20);
  for (uint64_t n = 0; n < a.events; ++n) {
    g.event(n, event);
    out += event;
    out += '\n';
    if (out.size() >= (1 << 20)) {
      if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) return kExitIoErr;
      out.clear();
    }
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) return kExitIoErr;
  return std::fflush(stdout) == 0 ? kExitOk : kExitIoErr;
}

}  // namespace freshet::cli
