"""The file source feeding a windowed query, checked against an independent computation,
and retention deleting old segments while a query reads the topic."""
import json
import os
import random
from collections import defaultdict

from harness import check, main, run, workdir, write_config

CONFIG = """\
version: 1
data_dir: {dir}/data
server: {{ shards: {shards} }}
topics:
  readings:
    partitions: 3
    key: sensor
    fsync: never
    segment_bytes: 1MiB
{retention}    event_time: {{ field: ts, watermark_delay: 5s }}
sources:
  history: {{ type: file, path: "{dir}/in/*.jsonl", to: readings, read_from: beginning, bounded: {bounded} }}
queries:
  per_sensor:
    sql: |
      SELECT sensor, window_start, window_end, COUNT(*) AS n, MAX(temp) AS hottest
      FROM TUMBLE(readings, ts, INTERVAL '1' MINUTE)
      GROUP BY sensor, window_start, window_end
sinks:
  out: {{ type: file, inputs: [per_sensor], path: {dir}/out/per_sensor.jsonl, delivery: at_least_once }}
"""

BASE = 1_764_064_800_000


def write_inputs(d, n, seed=5):
    rng = random.Random(seed)
    os.makedirs(f"{d}/in", exist_ok=True)
    events = []
    for i in range(n):
        ts = BASE + i * 50 - rng.randrange(0, 3000)  # out of order by up to 3 s, under the 5 s delay
        e = {"sensor": f"s{rng.randrange(40)}", "temp": round(rng.uniform(-10, 40), 1), "ts": ts,
             "pad": "x" * rng.randrange(0, 200)}
        events.append(e)
    half = n // 2
    with open(f"{d}/in/a.jsonl", "w") as f:
        for e in events[:half]:
            f.write(json.dumps(e) + "\n")
        f.write("this line is not json\n")
    with open(f"{d}/in/b.jsonl", "w") as f:
        f.write("\n".join(json.dumps(e) for e in events[half:]))  # no final newline
    return events


def test_a_bounded_file_source_feeds_a_window_query_exactly():
    for shards in (1, 2):
        d = workdir(f"filesrc-{shards}")
        events = write_inputs(d, 20000)
        cfg = write_config(d, CONFIG.format(dir=d, shards=shards, retention="", bounded="true"))
        p = run(["run", "--config", cfg], check_rc=0, timeout=120)
        check("1 malformed" in p.stderr, f"the non-JSON line was not counted:\n{p.stderr}")
        expected = defaultdict(list)
        for e in events:
            start = e["ts"] - e["ts"] % 60000
            expected[(e["sensor"], start)].append(e["temp"])
        rows = [json.loads(l) for l in open(f"{d}/out/per_sensor.jsonl")]
        check(len(rows) == len(expected), f"{len(rows)} rows, {len(expected)} expected")
        for r in rows:
            from datetime import datetime
            start = int(datetime.fromisoformat(r["window_start"].replace("Z", "+00:00")).timestamp() * 1000)
            temps = expected[(r["sensor"], start)]
            check(r["n"] == len(temps), f"{r}: n != {len(temps)}")
            check(abs(r["hottest"] - max(temps)) < 1e-9, f"{r}: max != {max(temps)}")


def test_retention_deletes_old_segments_but_never_unread_data():
    d = workdir("retention")
    events = write_inputs(d, 40000)  # about 5 MiB of records over 3 partitions
    cfg = write_config(d, CONFIG.format(dir=d, shards=2, retention="    retention_bytes: 1MiB\n",
                                        bounded="false"))
    run(["run", "--config", cfg, "--duration", "3s"], check_rc=0, timeout=60)
    desc = json.loads(run(["topic", "describe", "readings", "-c", cfg, "--json"], check_rc=0).stdout)
    starts = [p["start_offset"] for p in desc["partitions"]]
    ends = [p["end_offset"] for p in desc["partitions"]]
    # All lines plus the non-JSON one, minus b.jsonl's last line: it has no newline yet, and
    # an unbounded source waits for a line to be complete (it may still be being written).
    check(sum(ends) == len(events), f"the log holds {sum(ends)} records, {len(events)} expected")
    check(all(s > 0 for s in starts), f"retention deleted nothing: start offsets {starts}")
    # Every window that closed was computed from all its records: retention waited for the
    # query to read them.
    rows = [json.loads(l) for l in open(f"{d}/out/per_sensor.jsonl")]
    check(sum(r["n"] for r in rows) > len(events) * 0.9, "closed windows are missing records")


def test_an_idle_partition_does_not_hold_windows_back():
    # Conformance test 1 of semantics §3.10: one partition of two receives no data. With
    # idle_timeout the first 1-minute window fires once the empty partition is idle; without
    # it the empty partition holds the watermark back and nothing fires.
    for idle in ("500ms", None):
        d = workdir("idle")
        os.makedirs(f"{d}/in", exist_ok=True)
        with open(f"{d}/in/a.jsonl", "w") as f:
            for i in range(3000):  # one key, so one partition; 90 s of event time
                f.write(json.dumps({"sensor": "only", "temp": 20.0, "ts": BASE + i * 30}) + "\n")
        et = "watermark_delay: 1s" + (f", idle_timeout: {idle}" if idle else "")
        text = CONFIG.format(dir=d, shards=2, retention="", bounded="false")
        text = text.replace("partitions: 3", "partitions: 2").replace("watermark_delay: 5s", et)
        cfg = write_config(d, text)
        run(["run", "--config", cfg, "--duration", "2500ms"], check_rc=0, timeout=60)
        rows = [json.loads(l) for l in open(f"{d}/out/per_sensor.jsonl")]
        if idle:
            check(len(rows) == 1, f"with idle_timeout: {rows}")
            check(rows[0]["n"] == 2000 and rows[0]["window_start"] == "2025-11-25T10:00:00.000Z",
                  f"with idle_timeout: {rows}")
        else:
            check(rows == [], f"without idle_timeout a window fired: {rows}")


def test_late_and_malformed_records_go_to_their_files_with_the_reason():
    # Lateness is judged against the watermark when a record arrives, so the late record is
    # appended after the first records' watermark has gone out.
    import signal
    import subprocess
    import time
    from harness import FRESHET
    d = workdir("late")
    os.makedirs(f"{d}/in", exist_ok=True)
    path = f"{d}/in/a.jsonl"
    with open(path, "w") as f:
        for i in range(4000):
            f.write(json.dumps({"sensor": f"s{i % 5}", "temp": 1.0, "ts": BASE + i * 100}) + "\n")
    cfg = write_config(d, CONFIG.format(dir=d, shards=2, retention="", bounded="false"))
    proc = subprocess.Popen([FRESHET, "run", "--config", cfg], stderr=subprocess.PIPE, text=True)
    try:
        out = f"{d}/out/per_sensor.jsonl"
        deadline = time.time() + 20
        while time.time() < deadline and (not os.path.exists(out) or os.path.getsize(out) == 0):
            time.sleep(0.05)
        check(os.path.getsize(out) > 0, "no window closed within 20 s")
        with open(path, "a") as f:  # 10 minutes behind: its window closed long ago
            f.write(json.dumps({"sensor": "s1", "temp": 99.5, "ts": BASE - 600_000}) + "\n")
            f.write('{"sensor": "s2", "temp": "oops\\u0001", "ts": \n')  # not JSON
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    late = [json.loads(l) for l in open(f"{d}/out/per_sensor.late.jsonl")]
    check(len(late) == 1, f"late rows: {late}")
    check(late[0]["reason"] == "past_lateness" and late[0]["query"] == "per_sensor", f"{late[0]}")
    check(late[0]["record"] == {"sensor": "s1", "temp": 99.5, "ts": BASE - 600_000}, f"{late[0]}")
    check(late[0]["event_time"] == "2025-11-25T09:50:00.000Z", f"{late[0]}")
    check(late[0]["watermark"] > late[0]["event_time"], f"{late[0]}")
    dead = [json.loads(l) for l in open(f"{d}/out/per_sensor.dead.jsonl")]
    check(len(dead) == 1 and dead[0]["record"].startswith('{"sensor": "s2"'), f"dead rows: {dead}")
    check(dead[0]["reason"] == "invalid JSON", f"{dead[0]}")
    rows = [json.loads(l) for l in open(f"{d}/out/per_sensor.jsonl")]
    check(all(r["hottest"] < 99 for r in rows), "the late record reached a window")


def test_a_record_from_the_future_does_not_poison_the_watermark():
    # Conformance test 3 of semantics §3.10: one record stamped 2 h ahead. With
    # max_future_skew the watermark ignores it, later honest records stay on time and the
    # clamp is counted; without the guard the same honest records come out late.
    import signal
    import subprocess
    import time
    from harness import FRESHET
    for skew in ("10m", None):
        d = workdir("future")
        os.makedirs(f"{d}/in", exist_ok=True)
        path = f"{d}/in/a.jsonl"
        now = int(time.time() * 1000)
        rec = lambda ts: json.dumps({"sensor": "only", "temp": 1.0, "ts": ts}) + "\n"
        with open(path, "w") as f:
            for i in range(1000):
                f.write(rec(now - 120_000 + i * 40))
            f.write(rec(now + 7_200_000))  # a clock two hours fast
        et = "watermark_delay: 1s" + (f", max_future_skew: {skew}" if skew else "")
        text = CONFIG.format(dir=d, shards=1, retention="", bounded="false")
        text = text.replace("partitions: 3", "partitions: 1").replace("watermark_delay: 5s", et)
        cfg = write_config(d, text)
        proc = subprocess.Popen([FRESHET, "run", "--config", cfg], stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.0)  # the first part, and the bad record, are read
            with open(path, "a") as f:
                for i in range(1000, 2000):
                    f.write(rec(now - 120_000 + i * 40))
            time.sleep(1.0)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=10)
        late_path = f"{d}/out/per_sensor.late.jsonl"
        late = [json.loads(l) for l in open(late_path)] if os.path.exists(late_path) else []
        if skew:
            check(late == [], f"with max_future_skew, {len(late)} honest records were late")
            check("1 stamped beyond max_future_skew" in err, f"the clamp was not counted:\n{err}")
        else:
            check(len(late) >= 900, f"without the guard only {len(late)} records were late")


if __name__ == "__main__":
    main([test_a_bounded_file_source_feeds_a_window_query_exactly,
          test_retention_deletes_old_segments_but_never_unread_data,
          test_an_idle_partition_does_not_hold_windows_back,
          test_late_and_malformed_records_go_to_their_files_with_the_reason,
          test_a_record_from_the_future_does_not_poison_the_watermark])
