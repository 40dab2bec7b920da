#!/usr/bin/env python3
"""Nexmark on freshet, side by side with the parse-only limit and DuckDB, in one sitting.

    bench/nexmark/run.py BUILD_DIR [--events N] [--density 100000/s] [--runs 3]
                         [--queries q7,q12] [--shards 1,2]

BUILD_DIR is a release build with benches (meson setup build/bench --buildtype=release).
The input is generated once by `freshet bench nexmark-data` (deterministic) into BUILD_DIR and
reused. Rows per query:
- parse-only: simdjson On-Demand reading the query's fields and nothing else. Its per-core
  figure is events per CPU-second of the process: iterate_many parses the next batch on a
  second thread, so its wall time counts up to two cores as one.
- DuckDB (npm @duckdb/node-api, installed here on first use): the same aggregation on one
  thread, timed without Node's start-up.
- freshet: config/nexmark/<q>.yaml over the file: file -> log (fsync: never) -> query ->
  JSONL sink, the whole pipeline timed as a process (wall, and user+sys CPU).
- freshet ingest: config/nexmark/ingest.yaml, the file source appending to the log with no
  query: the floor under every freshet row above, since each event is written to the log
  before any query reads it.
- freshet replay: `freshet run --replay-journal` over the log the 1-shard run left: the
  engine alone (log -> query -> JSONL sink), the part comparable with what DuckDB does. One
  replay first goes uncounted (its start-up frees the segments' reserved blocks).
Medians of --runs runs, each freshet run started after a sync (no writeback of the previous
run's log in its time). Per-core figures divide wall throughput by the shard count.
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


def freshet_cmd(build, config, extra=()):
    return [os.path.join(build, "src/cli/freshet"), "run", "-c",
            os.path.join(ROOT, f"config/nexmark/{config}.yaml"), "--log-level", "warn", *extra]


def timed(cmd, env):
    # The previous run left up to a gigabyte of dirty page cache (its log, its output): written
    # back while this run is timed, it throttles this run's writes and takes its memory
    # bandwidth, by up to 2x on whole-pipeline runs. Start every timed run from a clean cache.
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_freshet(build, query, data, shards, replay=False):
    """Times one run; with `replay`, times a replay of the log it left instead."""
    d = tempfile.mkdtemp(prefix="freshet-nexmark-")
    env = dict(os.environ, NEXMARK_FILE=data, NEXMARK_SHARDS=str(shards),
               NEXMARK_DATA=f"{d}/data", NEXMARK_OUT=f"{d}/out")
    try:
        wall, cpu = timed(freshet_cmd(build, query), env)
        if replay:
            timed(freshet_cmd(build, query, ["--replay-journal"]), env)
            wall, cpu = timed(freshet_cmd(build, query, ["--replay-journal"]), env)
        out = f"{d}/out/{query}.jsonl"
        rows = sum(1 for _ in open(out)) if os.path.exists(out) else 0
        return wall, cpu, rows
    finally:
        shutil.rmtree(d, ignore_errors=True)


def row(q, engine, events, wall, cpu, per_core, rows):
    print(f"{q:<6} {engine:<22} {wall:>7.2f} {cpu:>7.2f} {events / wall / 1e6:>7.2f} "
          f"{per_core / 1e6:>11.2f} {events / cpu / 1e6:>10.2f} {rows:>8}")


def cpu_model():
    with open("/proc/cpuinfo") as f:
        return next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")


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
          f"median of {a.runs}; {os.cpu_count()} CPUs, {cpu_model()}")
    print(f"# command: {' '.join(sys.argv)}")
    print(f"{'query':<6} {'engine':<22} {'wall s':>7} {'cpu s':>7} {'M ev/s':>7} {'M ev/s/core':>11} "
          f"{'M ev/cpu-s':>10} {'rows':>8}")
    n = a.events
    ingest = [run_freshet(a.build, "ingest", data, 1) for _ in range(a.runs)]
    iw, ic = (statistics.median(r[i] for r in ingest) for i in (0, 1))
    row("-", "freshet ingest (1 sh.)", n, iw, ic, n / iw, "-")
    for q in a.queries.split(","):
        po = [sh([os.path.join(a.build, "bench/nexmark/nexmark_parse_only"), data] + FIELDS[q])
              .stdout.split() for _ in range(a.runs)]
        po_w = statistics.median(float(x[1]) for x in po)
        po_c = statistics.median(float(x[3]) for x in po)
        row(q, "parse-only", n, po_w, po_c, n / po_c, "-")
        dk = [sh(["node", os.path.join(HERE, "duckdb_query.mjs"), data, q]).stdout.split()
              for _ in range(a.runs)]
        dk_s = statistics.median(float(x[1]) for x in dk)
        row(q, "DuckDB (1 thread)", n, dk_s, dk_s, n / dk_s, dk[0][0])
        per_core = {}
        for shards in [int(s) for s in a.shards.split(",")]:
            res = [run_freshet(a.build, q, data, shards) for _ in range(a.runs)]
            w, c = (statistics.median(r[i] for r in res) for i in (0, 1))
            per_core[shards] = n / w / shards
            row(q, f"freshet ({shards} shard)", n, w, c, per_core[shards], res[0][2])
        res = [run_freshet(a.build, q, data, 1, replay=True) for _ in range(a.runs)]
        rw, rc = (statistics.median(r[i] for r in res) for i in (0, 1))
        row(q, "freshet replay (1 sh.)", n, rw, rc, n / rw, res[0][2])
        best = max(per_core.values())
        print(f"# {q}: freshet per core = {best / (n / po_c):.2f}x the parse-only limit, "
              f"{per_core.get(1, best) / (n / dk_s):.2f}x DuckDB (1 shard vs 1 thread); "
              f"the replay (engine alone) = {(n / rw) / (n / po_c):.2f}x parse-only, "
              f"{(n / rw) / (n / dk_s):.2f}x DuckDB")

if __name__ == "__main__":
    main()
