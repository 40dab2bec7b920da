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

case "${1:-}" in
  install) install_missing ;;
  *) echo "usage: packaging/dev.sh demo|test|install" >&2; exit 64 ;;
esac
