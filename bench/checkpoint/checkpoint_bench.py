#!/usr/bin/env python3
"""Checkpoint cost and recovery time, with the real binary.

1. overhead: the demo payments pipeline (bounded generator -> 4 partitions -> two TUMBLE
   queries -> two sinks) with `checkpoint: { interval: 1s }` and exactly-once sinks, against
   the same pipeline without checkpoints (at-least-once sinks), alternating in one sitting.
   Target (issue 6): at most 5% lower throughput.
2. recovery with open keys: a TUMBLE 1 h query over --keys distinct keys (all windows open),
   stopped with SIGTERM (final checkpoint), then restarted: the time from exec to the
   "restored checkpoint" log line, and the state size.
3. replay of a log tail: the same pipeline killed with SIGKILL right after its first
   checkpoint, with --tail-mib of records appended after it; the restart's wall time to finish
   (the tail is read and aggregated again).

Usage: bench/checkpoint/checkpoint_bench.py BUILD_DIR [--events N] [--runs R] [--keys K]
       [--tail-mib M]
"""
import argparse
import glob
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

PIPELINE = """\
version: 1
data_dir: {dir}/data
server: {{ shards: 2 }}
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
  alerts: {{ type: file, inputs: [big_spenders], path: {dir}/out/alerts.jsonl{delivery} }}
  countries: {{ type: file, inputs: [by_country], path: {dir}/out/countries.csv{delivery} }}
{checkpoint}
"""

OPEN_KEYS = """\
version: 1
data_dir: {dir}/data
server: {{ shards: 2 }}
topics:
  events:
    partitions: 4
    fsync: never
    event_time: {{ field: ts, watermark_delay: 1s }}
sources:
  in: {{ type: file, path: "{dir}/in.jsonl", to: events, read_from: beginning, bounded: false }}
queries:
  per_key:
    sql: |
      SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS total
      FROM TUMBLE(events, ts, INTERVAL '1' HOUR)
      GROUP BY k, window_start, window_end
sinks:
  out: {{ type: file, inputs: [per_key], path: {dir}/out/per_key.jsonl }}
checkpoint: {{ interval: 1h }}
"""


def timed(cmd, env=None):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p


def overhead(binary, events, runs):
    # none: no checkpoints, at-least-once sinks (io_uring writes as rows fire).
    # final: exactly-once sinks, one checkpoint at the end (interval 1h): the same sink path as
    #        1s, so 1s/final isolates what checkpointing every second costs.
    modes = {"none": ("", ", delivery: at_least_once"),
             "final": ("checkpoint: { interval: 1h }", ""),
             "1s": ("checkpoint: { interval: 1s }", "")}
    res = {m: [] for m in modes}
    for r in range(runs):
        for mode, (ckpt, delivery) in modes.items():
            d = tempfile.mkdtemp(prefix="freshet-ckbench-")
            cfg = f"{d}/p.yaml"
            with open(cfg, "w") as f:
                f.write(PIPELINE.format(dir=d, events=events, delivery=delivery, checkpoint=ckpt))
            wall, cpu, p = timed([binary, "run", "--config", cfg])
            res[mode].append((events / wall, events / cpu))
            shutil.rmtree(d)
    print(f"overhead: {events} generated payments, 2 shards, {runs} runs each, interleaved")
    print(f"{'checkpoints':>12} {'ev/s wall (median)':>20} {'ev/CPU-s (median)':>20}")
    med = {}
    for mode, rows in res.items():
        med[mode] = (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
        print(f"{mode:>12} {med[mode][0]:>20,.0f} {med[mode][1]:>20,.0f}")
    for base in ("final", "none"):
        print(f"ratio 1s/{base}: wall {med['1s'][0] / med[base][0]:.3f}, "
              f"CPU {med['1s'][1] / med[base][1]:.3f} (target >= 0.95)")


def write_keys(path, keys):
    base = 1_764_064_800_000
    with open(path, "w") as f:
        for i in range(keys):
            f.write(f'{{"k":"key-{i:08d}","v":{i % 1000},"ts":{base + (i % 1000)}}}\n')


def recovery(binary, keys):
    d = tempfile.mkdtemp(prefix="freshet-ckrec-")
    write_keys(f"{d}/in.jsonl", keys)
    cfg = f"{d}/p.yaml"
    with open(cfg, "w") as f:
        f.write(OPEN_KEYS.format(dir=d))
    p = subprocess.Popen([binary, "run", "--config", cfg], stderr=subprocess.PIPE, text=True)
    # Wait until every record is in the log and read (the query's state holds every key).
    time.sleep(2)
    deadline = time.monotonic() + 300
    size = os.path.getsize(f"{d}/in.jsonl")
    while time.monotonic() < deadline:
        logs = sum(os.path.getsize(x) for x in glob.glob(f"{d}/data/topics/events/*/*.log"))
        if logs > size:
            break
        time.sleep(0.5)
    time.sleep(3)
    t = time.monotonic()
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate()
    stop = time.monotonic() - t
    state = sum(os.path.getsize(x) for x in glob.glob(f"{d}/data/checkpoints/*/shard-*"))
    p = subprocess.Popen([binary, "run", "--config", cfg], stderr=subprocess.PIPE, text=True)
    t = time.monotonic()
    restored = None
    for line in p.stderr:
        m = re.search(r"restored checkpoint \d+ in ([0-9.]+) ms", line)
        if m:
            restored = time.monotonic() - t
            inner = float(m.group(1))
            break
    p.send_signal(signal.SIGKILL)
    p.communicate()
    shutil.rmtree(d)
    print(f"recovery: {keys:,} open keys, state {state / 1e6:.1f} MB; SIGTERM to exit "
          f"(final checkpoint) {stop:.2f}s; restart to restored {restored:.2f}s "
          f"(restore itself {inner:.0f} ms)")


REPLAY = """\
version: 1
data_dir: {dir}/data
server: {{ shards: 2 }}
topics:
  events:
    partitions: 4
    key: k
    segment_bytes: 256MiB
    fsync: never
    event_time: {{ field: ts, watermark_delay: 1s }}
sources:
  none: {{ type: file, path: "{dir}/empty.jsonl", to: events, read_from: beginning, bounded: true }}
queries:
  per_key:
    sql: |
      SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS total
      FROM TUMBLE(events, ts, INTERVAL '10' SECOND)
      GROUP BY k, window_start, window_end
sinks:
  out: {{ type: file, inputs: [per_key], path: {dir}/out/per_key.jsonl }}
checkpoint: {{ interval: 10s }}
"""


def tail_replay(binary, tail_mib):
    """A checkpoint at the start of the log, then `tail_mib` MiB appended while freshet is
    stopped (freshet produce): the restart restores and reads the whole tail again."""
    d = tempfile.mkdtemp(prefix="freshet-cktail-")
    open(f"{d}/empty.jsonl", "w").close()
    cfg = f"{d}/p.yaml"
    with open(cfg, "w") as f:
        f.write(REPLAY.format(dir=d))
    timed([binary, "run", "--config", cfg])  # ends at once: checkpoint with every offset 0
    base = 1_764_064_800_000
    line = '{{"k":"key-{:05d}","v":{},"ts":{},"pad":"' + "x" * 120 + '"}}\n'
    target = tail_mib * 2**20
    written = n = 0
    with open(f"{d}/tail.jsonl", "w") as f:
        while written < target:
            chunk = "".join(line.format(i % 50000, i % 1000, base + i // 10)
                            for i in range(n, n + 100000))
            f.write(chunk)
            written += len(chunk)
            n += 100000
    with open(f"{d}/tail.jsonl") as inp:
        p = subprocess.run([binary, "produce", "events", "-c", cfg, "-q"], stdin=inp,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"produce failed: {p.stderr}")
    os.remove(f"{d}/tail.jsonl")
    logs = sum(os.path.getsize(x) for x in glob.glob(f"{d}/data/topics/events/*/*.log"))
    wall, cpu, p = timed([binary, "run", "--config", cfg])
    m = re.search(r"restored checkpoint \d+ in ([0-9.]+) ms", p.stderr)
    shutil.rmtree(d)
    print(f"replay: {n:,} records ({written / 2**20:.0f} MiB of JSON, {logs / 2**20:.0f} MiB of "
          f"log) after the checkpoint; restart restored in {m.group(1) if m else '?'} ms and "
          f"read the tail to the end in {wall:.2f}s wall ({n / wall / 1e6:.2f} M rec/s), "
          f"{cpu:.2f} CPU-s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--events", type=int, default=3_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--tail-mib", type=int, default=1024)
    ap.add_argument("--only", default="overhead,recovery,replay")
    a = ap.parse_args()
    binary = os.path.join(a.build, "src/cli/freshet")
    only = a.only.split(",")
    if "overhead" in only:
        overhead(binary, a.events, a.runs)
    if "recovery" in only:
        recovery(binary, a.keys)
    if "replay" in only:
        tail_replay(binary, a.tail_mib)


if __name__ == "__main__":
    main()
