#!/usr/bin/env bash
# The two README commands: `packaging/dev.sh demo` and `packaging/dev.sh test`.
# Both install what is missing from Debian, build, and run. Safe to re-run.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

# Everything the build, the tests and the benches need, as Debian 12 names them.
packages=(
  meson ninja-build pkg-config cmake g++ python3
  liburing-dev libsimdjson-dev libfmt-dev doctest-dev libyaml-cpp-dev
  libcli11-dev libexpected-dev libxxhash-dev
)

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

jobs=$(nproc 2>/dev/null || echo 2)

build() { # build DIR meson-setup-args...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir" -j "$jobs" >&2
}

# `demo`: a release build running config/demo.yaml for FRESHET_DEMO_SECONDS (default 30;
# 0 = until Ctrl-C), then a look at what it wrote.
demo() {
  install_missing
  say "building (release)"
  build build/release --buildtype=release -Dtests=false -Dbenches=false
  local secs=${FRESHET_DEMO_SECONDS:-30}
  local duration=()
  [ "$secs" != 0 ] && duration=(--duration "${secs}s")
  say "running config/demo.yaml${duration:+ for ${secs}s} (Ctrl-C stops it cleanly)"
  say "follow the results in another terminal:"
  printf '      tail -F %s/out/big_spenders.jsonl\n      tail -F %s/out/by_country.csv\n' "$top" "$top" >&2
  build/release/src/cli/freshet run --config config/demo.yaml --reset "${duration[@]}"
  for f in out/big_spenders.jsonl out/by_country.csv; do
    say "$f: $(wc -l <"$f") lines; the last ones:"
    tail -n 3 "$f" >&2
  done
}

# `test`: a debug build with ASan and UBSan, every suite, and one closing line
# `N passed, N failed` that counts doctest cases and e2e tests one by one.
test_all() {
  install_missing
  say "building (debug, ASan+UBSan)"
  if ! build build/asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false; then
    say "the build failed"
    echo "0 passed, 1 failed"   # CI reads this line: a build that fails is a failed test
    return 1
  fi
  say "running the tests"
  local rc=0
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build/asan --num-processes "$jobs" --print-errorlogs >&2 || rc=$?
  python3 packaging/count_tests.py build/asan/meson-logs/testlog.json
  return $rc
}

case "${1:-}" in
  demo) demo ;;
  test) test_all ;;
  install) install_missing ;;
  *) echo "usage: packaging/dev.sh demo|test|install" >&2; exit 64 ;;
esac
