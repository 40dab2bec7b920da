"""Nexmark configs end to end on generated data: the stateless q2 and the HOP q5 against an
independent computation, with output identical for 1 and 2 shards."""
import json
import os
import subprocess
from collections import Counter

from harness import FRESHET, check, main, run, workdir

ROOT = os.environ["FRESHET_SOURCE_ROOT"]
EVENTS = 200_000


def data(d):
    path = os.path.join(d, "nexmark.jsonl")
    with open(path, "w") as f:
        subprocess.run([FRESHET, "bench", "nexmark-data", "-n", str(EVENTS), "--density", "20000/s"],
                       stdout=f, check=True)
    return path


def run_query(d, q, path, shards):
    env = dict(os.environ, NEXMARK_FILE=path, NEXMARK_SHARDS=str(shards),
               NEXMARK_DATA=f"{d}/data{shards}", NEXMARK_OUT=f"{d}/out{shards}")
    p = subprocess.run([FRESHET, "run", "-c", f"{ROOT}/config/nexmark/{q}.yaml"], env=env,
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"{q} with {shards} shards exited {p.returncode}:\n{p.stderr}")
    return open(f"{d}/out{shards}/{q}.jsonl").read()


def bids(path):
    return [e for e in map(json.loads, open(path)) if e["type"] == "bid"]


def test_q2_selection_matches_the_bids_and_is_shard_independent():
    d = workdir("nexmark-q2")
    path = data(d)
    one, two = run_query(d, "q2", path, 1), run_query(d, "q2", path, 2)
    check(one == two, "q2 output differs between 1 and 2 shards")
    got = Counter((r["auction"], r["price"]) for r in map(json.loads, one.splitlines()))
    want = Counter((b["auction"], b["price"]) for b in bids(path) if b["auction"] % 123 == 0)
    check(got == want, f"q2: {sum(got.values())} rows, {sum(want.values())} expected")


def test_q5_hop_counts_match_and_are_shard_independent():
    d = workdir("nexmark-q5")
    path = data(d)
    one, two = run_query(d, "q5", path, 1), run_query(d, "q5", path, 2)
    check(one == two, "q5 output differs between 1 and 2 shards")
    want = Counter()
    for b in bids(path):
        last = b["dateTime"] - b["dateTime"] % 2000
        for k in range(5):  # HOP 10 s sliding by 2 s: five windows per bid
            want[(b["auction"], last - k * 2000)] += 1
    from datetime import datetime
    got = {}
    for r in map(json.loads, one.splitlines()):
        start = int(datetime.fromisoformat(r["window_start"].replace("Z", "+00:00")).timestamp() * 1000)
        got[(r["auction"], start)] = r["num"]
    check(got == dict(want), f"q5: {len(got)} windows, {len(want)} expected")


if __name__ == "__main__":
    main([test_q2_selection_matches_the_bids_and_is_shard_independent,
          test_q5_hop_counts_match_and_are_shard_independent])
