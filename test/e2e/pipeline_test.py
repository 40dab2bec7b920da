"""End to end: bounded generator -> topic log -> TUMBLE query -> JSONL sink, checked against an
independent computation over the records read back from the log with `freshet consume`."""
import json
import os
import subprocess
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal

from harness import FRESHET, Fail, check, main, read_jsonl, run, workdir, write_config

COUNT = 60000
SIZE_MS = 10_000

CONFIG = """\
version: 1
data_dir: {dir}/data
server:
  shards: {shards}
topics:
  payments:
    partitions: 4
    key: card_id
    fsync: {fsync}
    segment_bytes: 1MiB
    event_time: {{ field: ts, watermark_delay: 2s }}
sources:
  gen:
    type: generator
    to: payments
    profile: payments
    rate: 2000000/s
    count: {count}
    seed: 42
    start_time: "2026-11-25T10:00:00Z"
    out_of_order: 1500ms
queries:
  spend:
    sql: |
      SELECT card_id, window_start, window_end,
             COUNT(*) AS n, SUM(amount) AS total, MIN(amount) AS lo,
             MAX(amount) AS hi, AVG(amount) AS mean
      FROM TUMBLE(payments, ts, INTERVAL '10' SECOND)
      WHERE amount > 0
      GROUP BY card_id, window_start, window_end
      HAVING COUNT(*) >= 2
sinks:
  out:
    type: file
    inputs: [spend]
    path: {dir}/out/spend.jsonl
    format: jsonl
    delivery: at_least_once
"""


def rfc3339(ms):
    dt = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def run_pipeline(shards, fsync="never"):
    d = workdir(f"pipeline-{shards}")
    cfg = write_config(d, CONFIG.format(dir=d, shards=shards, count=COUNT, fsync=fsync))
    run(["run", "--config", cfg], check_rc=0, timeout=300)
    return d, cfg


def expected_rows(events):
    groups = defaultdict(list)
    for e in events:
        amount = Decimal(e["_amount_text"])
        if not amount > 0:
            continue
        start = e["ts"] - e["ts"] % SIZE_MS
        groups[(e["card_id"], start)].append(amount)
    out = {}
    for (card, start), amounts in groups.items():
        if len(amounts) < 2:
            continue
        out[(card, rfc3339(start), rfc3339(start + SIZE_MS))] = {
            "n": len(amounts), "total": sum(amounts), "lo": min(amounts), "hi": max(amounts)}
    return out


def consume_all(cfg):
    p = run(["consume", "payments", "--config", cfg], check_rc=0)
    events = []
    for line in p.stdout.splitlines():
        e = json.loads(line)
        # Keep the amount's exact decimal text: the oracle sums exactly.
        e["_amount_text"] = json.loads(line, parse_float=str)["amount"]
        events.append(e)
    return events


def test_every_window_row_matches_an_independent_computation():
    d, cfg = run_pipeline(1)
    events = consume_all(cfg)
    check(len(events) == COUNT, f"log holds {len(events)} records, expected {COUNT}")
    check(len({(e['card_id'], e['ts'], e['_amount_text']) for e in events}) > COUNT * 0.99,
          "generator events look duplicated")
    expected = expected_rows(events)
    with open(os.path.join(d, "out/spend.jsonl")) as f:
        lines = f.read().splitlines()
    rows = [json.loads(l, parse_float=Decimal) for l in lines]
    check(len(rows) == len(expected), f"{len(rows)} rows written, {len(expected)} expected")
    seen = set()
    last_end = ""
    for r in rows:
        check(list(r.keys()) == ["card_id", "window_start", "window_end", "n", "total", "lo", "hi", "mean"],
              f"columns {list(r.keys())}")
        key = (r["card_id"], r["window_start"], r["window_end"])
        check(key not in seen, f"duplicate row {key}")
        seen.add(key)
        check(key in expected, f"unexpected row {r}")
        e = expected[key]
        check(r["n"] == e["n"], f"{key}: n {r['n']} != {e['n']}")
        check(Decimal(r["total"]) == e["total"], f"{key}: total {r['total']} != {e['total']}")
        check(Decimal(r["lo"]) == e["lo"] and Decimal(r["hi"]) == e["hi"], f"{key}: min/max {r}")
        mean = e["total"] / e["n"]
        check(abs(Decimal(r["mean"]) - mean) <= abs(mean) * Decimal("1e-12"), f"{key}: mean {r['mean']} != {mean}")
        check(r["window_end"] >= last_end, "rows are not ordered by window end")
        last_end = r["window_end"]


def test_results_are_identical_with_one_and_two_shards():
    d1, _ = run_pipeline(1)
    d2, _ = run_pipeline(2)
    a = open(os.path.join(d1, "out/spend.jsonl"), "rb").read()
    b = open(os.path.join(d2, "out/spend.jsonl"), "rb").read()
    check(len(a) > 0, "no output")
    check(a == b, "output with 2 shards differs from 1 shard")


def test_fsync_always_gives_the_same_result_as_never():
    d1, _ = run_pipeline(2, fsync="never")
    d2, _ = run_pipeline(2, fsync="always")
    a = open(os.path.join(d1, "out/spend.jsonl"), "rb").read()
    b = open(os.path.join(d2, "out/spend.jsonl"), "rb").read()
    check(a == b, "fsync: always changed the results")


def test_a_second_run_refuses_the_old_log_and_reset_starts_over():
    d, cfg = run_pipeline(1)
    p = run(["run", "--config", cfg])
    check(p.returncode == 75, f"second run exited {p.returncode}: {p.stderr}")
    check("--reset" in p.stderr, "the refusal does not say how to start over")
    before = open(os.path.join(d, "out/spend.jsonl"), "rb").read()
    run(["run", "--config", cfg, "--reset"], check_rc=0)
    after = open(os.path.join(d, "out/spend.jsonl"), "rb").read()
    check(before == after, "--reset did not reproduce the same output")


def test_an_ingest_only_pipeline_runs_until_its_bounded_source_ends():
    # Regression: with no queries the run counted nothing to wait for and exited at once,
    # before the generator had appended anything.
    d = workdir("ingest-only")
    text = CONFIG.format(dir=d, shards=2, count=COUNT, fsync="interval")
    text = text[:text.index("queries:")]
    cfg = write_config(d, text)
    run(["run", "--config", cfg], check_rc=0, timeout=120)
    events = consume_all(cfg)
    check(len(events) == COUNT, f"log holds {len(events)} records, expected {COUNT}")


EARLY = """\
version: 1
data_dir: {dir}/data
server: {{ shards: 2 }}
topics:
  payments:
    partitions: 4
    key: card_id
    fsync: never
    event_time: {{ field: ts, watermark_delay: 3s }}
sources:
  gen: {{ type: generator, to: payments, profile: payments, rate: 20000/s, count: 60000, seed: 9,
         out_of_order: 1s, start_time: "2026-11-25T10:00:00Z" }}
queries:
  per_country:
    sql: |
      SELECT country, window_start, window_end, COUNT(*) AS n, SUM(amount) AS total
      FROM TUMBLE(payments, ts, INTERVAL '2' SECOND)
      GROUP BY country, window_start, window_end
{emit}
sinks:
  out: {{ type: file, inputs: [per_country], path: {dir}/out/rows.jsonl, delivery: at_least_once }}
"""


def test_emit_early_updates_open_windows_then_the_same_final_rows():
    rows = {}
    for emit in ("", "    emit: early\n    early_every: 200ms"):
        d = workdir("early")
        cfg = write_config(d, EARLY.format(dir=d, emit=emit))
        run(["run", "--config", cfg], check_rc=0, timeout=120)
        rows[emit] = read_jsonl(f"{d}/out/rows.jsonl")
    plain, early = rows[""], rows[next(k for k in rows if k)]
    finals = [{k: v for k, v in r.items() if k != "_final"} for r in early if r["_final"]]
    check(finals == plain, "the final rows of emit: early equal the rows of emit: final")
    updates = [r for r in early if not r["_final"]]
    check(len(updates) > 0, "open windows reported early")
    # Every early row comes before its window's final row, with a count never above it.
    final_at = {}
    for i, r in enumerate(early):
        if r["_final"]:
            final_at[(r["country"], r["window_start"])] = (i, r["n"])
    for i, r in enumerate(early):
        if r["_final"]:
            continue
        at, n = final_at[(r["country"], r["window_start"])]
        check(i < at and r["n"] <= n, f"early row {r} after or above its final row")


COPY_CONFIG = """\
version: 1
data_dir: {dir}/data
server:
  shards: {shards}
topics:
  events:
    partitions: 4
    fsync: never
    segment_bytes: 8MiB
    event_time: {{ field: ts, watermark_delay: 100ms }}
sources:
  history: {{ type: file, path: "{dir}/in.jsonl", to: events, read_from: beginning, bounded: true }}
queries:
  copy:
    sql: SELECT id, ts, pad FROM events
sinks:
  out:
    type: file
    inputs: [copy]
    path: {dir}/out/copy.jsonl
    delivery: {delivery}
{checkpoint}"""


def test_a_sink_that_falls_behind_holds_its_query_back_and_loses_nothing():
    # A pass-through query writes 20 MB; with the sink allowed 64 KiB of unwritten output it
    # falls behind again and again, and its query must wait (not buffer), then go on. An
    # exactly-once sink falls behind when the checkpoint worker has not staged its rows yet.
    n = 200_000
    for shards, delivery in ((1, "at_least_once"), (2, "at_least_once"), (2, "exactly_once")):
        outputs = {}
        for limit in (None, 65536):
            d = workdir(f"backpressure-{shards}")
            with open(os.path.join(d, "in.jsonl"), "w") as f:
                for i in range(n):
                    f.write(json.dumps({"id": i, "ts": 1764064800000 + i, "pad": "x" * 80}) + "\n")
            checkpoint = "checkpoint: { interval: 200ms }\n" if delivery == "exactly_once" else ""
            cfg = write_config(d, COPY_CONFIG.format(dir=d, shards=shards, delivery=delivery,
                                                     checkpoint=checkpoint))
            env = dict(os.environ)
            env.pop("FRESHET_SINK_BUFFER_BYTES", None)
            if limit:
                env["FRESHET_SINK_BUFFER_BYTES"] = str(limit)
            p = subprocess.run([FRESHET, "run", "--config", cfg], env=env, capture_output=True,
                               text=True, timeout=300)
            check(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
            held = "query copy: held back" in p.stderr
            check(held == (limit is not None),
                  f"{shards} shard(s), {delivery}, limit {limit}: backpressure "
                  f"{'' if held else 'not '}reported")
            if delivery == "exactly_once":
                with open(os.path.join(d, "data/metrics/checkpoint.prom")) as f:
                    metrics = dict(l.split() for l in f if not l.startswith("#"))
                times = int(metrics['freshet_query_held_back_total{query="copy"}'])
                check((times > 0) == held, f"checkpoint.prom says held back {times} times")
            with open(os.path.join(d, "out/copy.jsonl"), "rb") as f:
                outputs[limit] = f.read()
        rows = [json.loads(l) for l in outputs[None].splitlines()]
        check([r["id"] for r in rows] == list(range(n)), "rows missing, repeated or out of order")
        check(outputs[65536] == outputs[None],
              f"{shards} shard(s), {delivery}: held back, the output differs")


SLICES_CONFIG = """\
version: 1
data_dir: {dir}/data
server: {{ shards: {shards} }}
topics:
  payments:
    partitions: 4
    key: card_id
    fsync: never
    event_time: {{ field: ts, watermark_delay: {delay} }}
sources:
  gen: {{ type: generator, to: payments, profile: payments, rate: 10000/s, count: 40000,
         seed: 7, out_of_order: 300ms, start_time: "2026-11-25T10:00:00Z" }}
queries:
  hop:
    sql: |
      SELECT country, window_start, window_end, COUNT(*) AS n, SUM(amount) AS total
      FROM HOP(payments, ts, INTERVAL '2' MILLISECOND, INTERVAL '10' MILLISECOND)
      GROUP BY country, window_start, window_end
    allowed_lateness: {lateness}
sinks:
  out:
    type: file
    inputs: [hop]
    path: {dir}/out/hop.jsonl
    delivery: {delivery}
{checkpoint}"""


def run_slices(d, shards, delivery="at_least_once", slice_rows=None, buffer=None,
               lateness="0s", replay=False):
    checkpoint = "checkpoint: { interval: 50ms }\n" if delivery == "exactly_once" else ""
    delay = "100ms" if lateness != "0s" else "2s"
    cfg = write_config(d, SLICES_CONFIG.format(dir=d, shards=shards, delivery=delivery,
                                               checkpoint=checkpoint, delay=delay,
                                               lateness=lateness))
    env = dict(os.environ)
    for name, value in (("FRESHET_FIRE_SLICE_ROWS", slice_rows),
                        ("FRESHET_SINK_BUFFER_BYTES", buffer)):
        env.pop(name, None)
        if value:
            env[name] = str(value)
    args = [FRESHET, "run", "--config", cfg] + (["--replay-journal"] if replay else [])
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
    with open(os.path.join(d, "out/hop.jsonl"), "rb") as f:
        return f.read()


def test_windows_fired_in_slices_give_the_same_rows():
    # The end of the input closes the last 2 s of windows (watermark_delay) at once, about a
    # thousand 2 ms window ends. With FRESHET_FIRE_SLICE_ROWS=1 every window end is a slice of
    # its own, fired in a later turn than the one before: a sink must still write the rows of
    # both shards' slices in the same order as one fire, and exactly-once must commit them.
    whole = run_slices(workdir("slices-1"), 1)
    rows = [json.loads(l) for l in whole.splitlines()]
    check(len({r["window_end"] for r in rows}) > 1000, "too few windows to need slices")
    keys = [(r["window_end"], r["window_start"], r["country"]) for r in rows]
    check(len(set(keys)) == len(keys), "a row is repeated")
    outputs = {}
    # A sink that falls behind (FRESHET_SINK_BUFFER_BYTES) holds the slices back.
    for shards, delivery, slice_rows, buffer in ((1, "at_least_once", 1, None),
                                                 (2, "at_least_once", 1, None),
                                                 (2, "at_least_once", 1, 4096),
                                                 (2, "exactly_once", 3, None)):
        d = workdir(f"slices-{shards}")
        outputs[(shards, delivery, slice_rows, buffer)] = run_slices(d, shards, delivery,
                                                                     slice_rows, buffer)
        if buffer is None and delivery == "at_least_once":
            # A replay ends as soon as the log is read, with the last slices still to fire:
            # they must all be written, in order, before it stops (regression: the sink
            # wrote what it held at shutdown without waiting for them).
            outputs[(shards, "replay", slice_rows)] = run_slices(d, shards, delivery,
                                                                 slice_rows, replay=True)
    for k, out in outputs.items():
        check(out == whole, f"{k}: the output differs from one fire at a time on 1 shard")
    # Late updates (events up to 300 ms out of order, 100 ms of watermark delay, 1 s of
    # allowed lateness) lead the first slice, as they lead a whole fire. Which events are
    # late depends on the live run's pace, so this compares replays of one log.
    d = workdir("slices-late")
    run_slices(d, 1, lateness="1s")
    once = run_slices(d, 1, lateness="1s", replay=True)
    check(b'"_version":1' in once, "no late updates")
    check(run_slices(d, 1, slice_rows=1, lateness="1s", replay=True) == once,
          "late updates: the output differs in slices")


if __name__ == "__main__":
    main([test_emit_early_updates_open_windows_then_the_same_final_rows,
          test_every_window_row_matches_an_independent_computation,
          test_results_are_identical_with_one_and_two_shards,
          test_fsync_always_gives_the_same_result_as_never,
          test_a_second_run_refuses_the_old_log_and_reset_starts_over,
          test_an_ingest_only_pipeline_runs_until_its_bounded_source_ends,
          test_a_sink_that_falls_behind_holds_its_query_back_and_loses_nothing,
          test_windows_fired_in_slices_give_the_same_rows])
