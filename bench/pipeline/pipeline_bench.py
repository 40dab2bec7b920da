#!/usr/bin/env python3
"""Demo-pipeline throughput: a bounded payments generator -> 4-partition topic -> the demo's
TUMBLE queries -> JSONL/CSV sinks, run by the real binary, against a baseline of the same
pipeline without queries (generator -> log only) in the same sitting.

Reports events per wall second and per CPU-second (user+sys of the freshet process, as the
Flink Nexmark runner counts "throughput/cores"). Usage:
    bench/pipeline/pipeline_bench.py BUILD_DIR [--events N] [--runs R]
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

CONFIG = """\
version: 1
data_dir: {dir}/data
server: {{ shards: {shards} }}
topics:
  payments:
    partitions: 4
    key: card_id
    segment_bytes: 256MiB
    fsync: never
    event_time: {{ field: ts, watermark_delay: 3s }}
sources:
  gen: {{ type: generator, to: payments, profile: payments, rate: 1000000000/s, count: {events},
         seed: 7, start_time: "2026-11-25T10:00:00Z" }}
{queries}
"""

QUERIES = """\
queries:
  big_spenders:
    sql: |
      SELECT card_id, window_start, window_end, COUNT(*) AS n, SUM(amount) AS total
      FROM TUMBLE(payments, ts, INTERVAL '10' SECOND)
      WHERE amount > 0
      GROUP BY card_id, window_start, window_end
      HAVING COUNT(*) >= 100
  by_country:
    sql: |
      SELECT country, window_start, window_end, COUNT(*) AS payments,
             SUM(amount) AS volume, AVG(amount) AS avg_amount, MAX(amount) AS largest
      FROM TUMBLE(payments, ts, INTERVAL '10' SECOND)
      GROUP BY country, window_start, window_end
sinks:
  alerts: {{ type: file, inputs: [big_spenders], path: {dir}/out/alerts.jsonl, delivery: at_least_once }}
  countries: {{ type: file, inputs: [by_country], path: {dir}/out/countries.csv, delivery: at_least_once }}
"""


def run_once(binary, shards, events, with_queries):
    d = tempfile.mkdtemp(prefix="freshet-bench-")
    try:
        cfg = os.path.join(d, "bench.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(dir=d, shards=shards, events=events,
                                  queries=QUERIES.format(dir=d) if with_queries else ""))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = subprocess.run([binary, "run", "--config", cfg, "--log-level", "warn"],
                           capture_output=True, text=True)
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            sys.exit(f"freshet failed ({p.returncode}):\n{p.stderr}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    binary = os.path.join(a.build_dir, "src/cli/freshet")
    print(f"# demo pipeline, {a.events:,} payments events, {a.runs} runs each, median shown")
    print(f"# machine: {os.cpu_count()} CPUs; command: {' '.join(sys.argv)}")
    print(f"{'case':<34} {'shards':>6} {'wall s':>8} {'cpu s':>8} {'M ev/s':>8} {'M ev/cpu-s':>11}")
    results = {}
    for with_queries in (False, True):
        for shards in (1, 2):
            walls, cpus = [], []
            for _ in range(a.runs):
                w, c = run_once(binary, shards, a.events, with_queries)
                walls.append(w)
                cpus.append(c)
            w, c = statistics.median(walls), statistics.median(cpus)
            name = "generator+log+2 queries+sinks" if with_queries else "baseline: generator+log only"
            results[(with_queries, shards)] = (w, c)
            print(f"{name:<34} {shards:>6} {w:>8.2f} {c:>8.2f} {a.events / w / 1e6:>8.2f} "
                  f"{a.events / c / 1e6:>11.2f}")
    for shards in (1, 2):
        full, base = results[(True, shards)], results[(False, shards)]
        print(f"# {shards} shard(s): full pipeline costs {full[1] / base[1]:.2f}x the baseline's CPU")


if __name__ == "__main__":
    main()
