#!/usr/bin/env python3
"""Nexmark on freshet, side by side with the parse-only limit and DuckDB, in one sitting.

    bench/nexmark/run.py BUILD_DIR [--events N] [--density 100000/s] [--runs 3]
                         [--queries q7,q12] [--shards 1,2]

BUILD_DIR is a release build with benches (meson setup build/bench --buildtype=release).
The input is generated once by `freshet bench nexmark-data` (deterministic) into BUILD_DIR and
reused. freshet runs config/nexmark/<q>.yaml over it: file -> log (fsync: never) -> query ->
JSONL sink, the whole pipeline timed as a process (wall, and user+sys CPU). The parse-only
limit reads the query's fields with simdjson On-Demand and nothing else. DuckDB (npm
@duckdb/node-api, installed here on first use) runs the same aggregation on one thread; its
time excludes Node's start-up. Medians of --runs runs.
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIELDS = {"q0": ["type", "auction", "bidder", "price", "dateTime", "extra"],
          "q1": ["type", "auction", "bidder", "price", "dateTime", "extra"],
          "q2": ["type", "auction", "price"], "q5": ["type", "auction", "dateTime"],
          "q7": ["type", "price", "dateTime"], "q11": ["type", "bidder", "dateTime"],
          "q12": ["type", "bidder", "dateTime"]}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def data_file(build, events, density):
    path = os.path.join(build, f"nexmark-{events}-{density.replace('/', 'per')}.jsonl")
    if not os.path.exists(path):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            subprocess.run([os.path.join(build, "src/cli/freshet"), "bench", "nexmark-data",
                            "-n", str(events), "--density", density], stdout=f, check=True)
        os.rename(tmp, path)
    return path


def ensure_duckdb():
    if not os.path.isdir(os.path.join(HERE, "node_modules", "@duckdb", "node-api")):
        sh(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=HERE)


def run_freshet(build, query, data, shards):
    d = tempfile.mkdtemp(prefix="freshet-nexmark-")
    env = dict(os.environ, NEXMARK_FILE=data, NEXMARK_SHARDS=str(shards),
               NEXMARK_DATA=f"{d}/data", NEXMARK_OUT=f"{d}/out")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([os.path.join(build, "src/cli/freshet"), "run", "-c",
                        os.path.join(ROOT, f"config/nexmark/{query}.yaml"), "--log-level", "warn"],
                       env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rows = sum(1 for _ in open(f"{d}/out/{query}.jsonl")) if p.returncode == 0 else -1
    shutil.rmtree(d, ignore_errors=True)
    if p.returncode != 0:
        sys.exit(f"freshet {query} failed ({p.returncode}):\n{p.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--events", type=int, default=2_000_000)
    ap.add_argument("--density", default="100000/s")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--queries", default="q7,q12")
    ap.add_argument("--shards", default="1,2")
    a = ap.parse_args()
    data = data_file(a.build, a.events, a.density)
    size = os.path.getsize(data)
    ensure_duckdb()
    print(f"# Nexmark, {a.events:,} events ({size / 1e6:.0f} MB), event-time density {a.density}, "
          f"median of {a.runs}; {os.cpu_count()} CPUs")
    print(f"# command: {' '.join(sys.argv)}")
    print(f"{'query':<6} {'engine':<22} {'wall s':>7} {'cpu s':>7} {'M ev/s':>7} {'M ev/s/core':>11} "
          f"{'M ev/cpu-s':>10} {'rows':>8}")
    for q in a.queries.split(","):
        po = [sh([os.path.join(a.build, "bench/nexmark/nexmark_parse_only"), data] + FIELDS[q]).stdout.split()
              for _ in range(a.runs)]
        po_s = statistics.median(float(x[1]) for x in po)
        print(f"{q:<6} {'parse-only (1 core)':<22} {po_s:>7.2f} {po_s:>7.2f} {a.events / po_s / 1e6:>7.2f} "
              f"{a.events / po_s / 1e6:>11.2f} {a.events / po_s / 1e6:>10.2f} {'-':>8}")
        dk = [sh(["node", os.path.join(HERE, "duckdb_query.mjs"), data, q]).stdout.split() for _ in range(a.runs)]
        dk_s = statistics.median(float(x[1]) for x in dk)
        print(f"{q:<6} {'DuckDB (1 thread)':<22} {dk_s:>7.2f} {dk_s:>7.2f} {a.events / dk_s / 1e6:>7.2f} "
              f"{a.events / dk_s / 1e6:>11.2f} {a.events / dk_s / 1e6:>10.2f} {dk[0][0]:>8}")
        per_core = {}
        for shards in [int(s) for s in a.shards.split(",")]:
            res = [run_freshet(a.build, q, data, shards) for _ in range(a.runs)]
            w = statistics.median(r[0] for r in res)
            c = statistics.median(r[1] for r in res)
            per_core[shards] = a.events / w / shards
            print(f"{q:<6} {f'freshet ({shards} shard)':<22} {w:>7.2f} {c:>7.2f} {a.events / w / 1e6:>7.2f} "
                  f"{a.events / w / shards / 1e6:>11.2f} {a.events / c / 1e6:>10.2f} {res[0][2]:>8}")
        best = max(per_core.values())
        print(f"# {q}: freshet per core = {best / (a.events / po_s):.2f}x the parse-only limit, "
              f"{per_core.get(1, best) / (a.events / dk_s):.2f}x DuckDB (1 shard vs 1 thread)")


if __name__ == "__main__":
    main()
