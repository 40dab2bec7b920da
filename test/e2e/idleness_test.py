"""Idleness and the watermark across partitions (semantics §3.2-3.3, §3.8): conformance tests
2, 4 and 11 of §3.10, on the real binary with real files. Test 1 (one idle partition) and
test 3 (future clamp) are in file_source_test.py."""
import json
import os
import re
import signal
import subprocess
import time

from harness import FRESHET, check, main, run, workdir, write_config

CONFIG = """\
version: 1
data_dir: {dir}/data
server: {{ shards: {shards} }}
topics:
  readings:
    partitions: 2
    key: sensor
    fsync: never
    event_time: {{ field: ts, {event_time} }}
sources:
  feed: {{ type: file, path: "{dir}/in/*.jsonl", to: readings, read_from: beginning, bounded: {bounded} }}
queries:
  per_sensor:
    sql: |
      SELECT sensor, window_start, window_end, COUNT(*) AS n
      FROM TUMBLE(readings, ts, INTERVAL '{window}' SECOND)
      GROUP BY sensor, window_start, window_end
sinks:
  out: {{ type: file, inputs: [per_sensor], path: {dir}/out/per_sensor.jsonl, delivery: at_least_once }}
"""

BASE = 1_764_064_800_000


def murmur2(key):
    """Kafka's murmur2 (src/base/hash.cc), to pick keys that land in a chosen partition."""
    data = key.encode()
    m, h = 0x5BD1E995, (0x9747B28C ^ len(data)) & 0xFFFFFFFF
    for i in range(len(data) // 4):
        k = int.from_bytes(data[i * 4:i * 4 + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    rest = len(data) % 4
    tail = data[len(data) - rest:]
    if rest == 3:
        h ^= tail[2] << 16
    if rest >= 2:
        h ^= tail[1] << 8
    if rest >= 1:
        h ^= tail[0]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def key_in(partition, partitions=2):
    return next(k for k in (f"s{i}" for i in range(100))
                if (murmur2(k) & 0x7FFFFFFF) % partitions == partition)


def rec(sensor, ts, pad=None):
    return json.dumps({"sensor": sensor, "ts": ts} | ({"pad": pad} if pad else {})) + "\n"


def lines(path):
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []


def setup(name, shards, event_time, window=60, bounded="false"):
    d = workdir(name)
    os.makedirs(f"{d}/in", exist_ok=True)
    cfg = write_config(d, CONFIG.format(dir=d, shards=shards, event_time=event_time,
                                        bounded=bounded, window=window))
    return d, cfg


def start(cfg, *extra):
    return subprocess.Popen([FRESHET, "run", "--config", cfg, *extra], stderr=subprocess.PIPE,
                            text=True)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    check(proc.returncode == 0, f"freshet exited {proc.returncode}:\n{err}")
    return err


def test_conformance_4_an_idle_partition_resuming_with_old_data_is_late_after_idle_resume():
    # §3.2 rule 4. Both partitions read, then B goes quiet past idle_timeout while A moves
    # the watermark minutes on; B's next records are older than the windows A closed. They
    # go to the late file with reason after_idle_resume (not past_lateness), counted apart.
    # With 2 shards A and B are read on different shards, so B's shard judges by the
    # owners' merged watermark, not by its own.
    for shards in (1, 2):
        d, cfg = setup(f"resume-{shards}", shards, "watermark_delay: 1s, idle_timeout: 300ms")
        a, b = key_in(0), key_in(1)
        path = f"{d}/in/a.jsonl"
        with open(path, "w") as f:
            for i in range(300):  # 30 s of both
                f.write(rec(a, BASE + i * 100) + rec(b, BASE + i * 100 + 50))
        proc = start(cfg)
        try:
            time.sleep(1.5)  # read, then both idle
            with open(path, "a") as f:  # A alone, 5 minutes on; B stays quiet (idle)
                for i in range(3000):
                    f.write(rec(a, BASE + 30_000 + i * 100))
            time.sleep(1.5)
            with open(path, "a") as f:  # B again, 35 s in: its minute fired long ago
                for i in range(10):
                    f.write(rec(b, BASE + 35_000 + i))
            time.sleep(1.5)
        finally:
            err = stop(proc)
        late = lines(f"{d}/out/per_sensor.late.jsonl")
        check(len(late) == 10, f"{shards} shard(s): {len(late)} late rows: {late[:3]}\n{err}")
        check(all(l["reason"] == "after_idle_resume" for l in late), f"reasons: {late[:3]}")
        check(all(l["record"]["sensor"] == b for l in late), f"late rows: {late[:3]}")
        check("10 late (10 after_idle_resume)" in err, f"the count is missing:\n{err}")
        rows = lines(f"{d}/out/per_sensor.jsonl")
        fired = {(r["sensor"], r["window_start"]) for r in rows}
        check((a, "2025-11-25T10:03:00.000Z") in fired, f"A's windows did not fire: {rows}")
        first = [r for r in rows if r["window_start"] == "2025-11-25T10:00:00.000Z"]
        check(sorted((r["sensor"], r["n"]) for r in first) == sorted([(a, 600), (b, 300)]),
              f"first minute: {first}")
        # The idleness decisions came from the clock; the journal holds where each was taken,
        # so a replay of the same log (read at full speed, B never quiet) repeats them.
        check_replay(d, cfg)


def check_replay(d, cfg):
    """Replays the journal of the run in `d` and checks that it writes the same bytes."""
    out, late_path = f"{d}/out/per_sensor.jsonl", f"{d}/out/per_sensor.late.jsonl"
    read = lambda path: open(path, "rb").read() if os.path.exists(path) else b""
    live = (read(out), read(late_path))
    if os.path.exists(late_path):
        os.remove(late_path)  # opened on the first late record: a replay without one keeps it
    p = run(["run", "--config", cfg, "--replay-journal"], check_rc=0, timeout=60)
    replay = (read(out), read(late_path))
    if replay != live:
        open(f"{d}/live.out", "wb").write(live[0])
        open(f"{d}/live.late", "wb").write(live[1])
    check(replay == live, f"the replay differs from the live run in {d}\n{p.stderr}")


def quiet_run(d, cfg, now):
    """Records stamped a little before now, then nothing: only the clock can close them.
    After the first steps, a record older than the closed windows (late) and one stamped
    just before now (closed by a later step) check that a replay steps at the same reader positions."""
    path = f"{d}/in/a.jsonl"
    with open(path, "w") as f:
        for i in range(200):
            f.write(rec(key_in(i % 2), now - 30_000 + i * 100))
    proc = start(cfg)
    try:
        time.sleep(2.0)
        with open(path, "a") as f:
            f.write(rec(key_in(0), now - 25_000))
            f.write(rec(key_in(1), int(time.time() * 1000) - 1500))
        time.sleep(2.5)
    finally:
        return stop(proc)


def test_conformance_2_all_inputs_quiet_close_windows_only_with_wallclock_progress():
    # With a 1-minute watermark delay no event watermark closes a 1 s window of the last
    # 30 s. idle_progress: none (the default) leaves them open; wallclock(2s) closes them
    # from the clock once every partition is idle, journaling each step. The replay of the
    # journal equals the live run, with two shards too, whichever shard's step came first:
    # that is timing, so the two-shard run is repeated to catch it.
    now = int(time.time() * 1000)
    for shards, rounds in ((1, 1), (2, 3)):
        et = "watermark_delay: 1m, idle_timeout: 200ms"
        d, cfg = setup(f"quiet-none-{shards}", shards, et, window=1)
        quiet_run(d, cfg, now)
        check(lines(f"{d}/out/per_sensor.jsonl") == [], "windows closed with idle_progress none")

        for _ in range(rounds):
            d, cfg = setup(f"quiet-clock-{shards}", shards, et + ", idle_progress: wallclock(2s)",
                           window=1)
            err = quiet_run(d, cfg, now)
            rows = lines(f"{d}/out/per_sensor.jsonl")
            check(sum(r["n"] for r in rows) == 201, f"{shards} shard(s): rows {rows}\n{err}")
            late = lines(f"{d}/out/per_sensor.late.jsonl")
            check(len(late) == 1 and late[0]["record"]["ts"] == now - 25_000, f"late: {late}")
            journal = os.listdir(f"{d}/data/journal")
            check(len(journal) == shards, f"journal files: {journal}")
            # The replay: same log, queries from offset 0, the journal instead of the clock.
            check_replay(d, cfg)


def test_a_shard_that_stepped_from_the_clock_does_not_hold_back_another_that_reads_again():
    # Two shards step their watermark from the clock while both are quiet, holding the
    # owners' minimum at the step. Then partition A (shard 0) gets records stamped 10 s ahead
    # of the clock, without pause: shard 1 must let go of the minimum (journaled as a
    # release), or the watermark would stay at its last step while A moves on.
    d, cfg = setup("release", 2, "watermark_delay: 1s, idle_timeout: 400ms, "
                   "idle_progress: wallclock(2s)", window=1)
    a, b = key_in(0), key_in(1)
    now = int(time.time() * 1000)
    path = f"{d}/in/a.jsonl"
    with open(path, "w") as f:
        for i in range(200):
            f.write(rec(a if i % 2 else b, now - 30_000 + i * 100))
    proc = start(cfg)
    try:
        time.sleep(2.0)  # both idle, then stepping
        ahead = int(time.time() * 1000) + 10_000
        for i in range(80):  # 4 s of records every 50 ms: A never goes idle meanwhile
            with open(path, "a") as f:
                f.write(rec(a, ahead + i * 50))
            time.sleep(0.05)
        rows = lines(f"{d}/out/per_sensor.jsonl")  # read while A is still active
    finally:
        err = stop(proc)
    # A's event watermark passed the first second of its new records two seconds ago: that
    # window has fired, though the clock is 10 s behind it.
    first = ahead - ahead % 1000
    fired = [r for r in rows if r["sensor"] == a and r["window_start"] >= iso(first)]
    check(fired, f"no window of A's new records from {iso(first)} fired while A was read:\n"
          f"{[r for r in rows if r['sensor'] == a][-3:]}\n{err}")
    releases = [l for l in open(f"{d}/data/journal/per_sensor.1.jsonl") if '"release"' in l]
    check(releases, "shard 1 journaled no release")
    check_replay(d, cfg)


def test_a_replay_of_a_bounded_run_fires_its_last_windows_as_the_run_did():
    # Regression: a replay never saw the bounded source end, so the windows the live run
    # fired with the final watermark stayed open and the replay wrote fewer rows. With and
    # without a journal (idle_timeout), on one and two shards.
    for shards in (1, 2):
        for et in ("watermark_delay: 1s", "watermark_delay: 1s, idle_timeout: 300ms"):
            d, cfg = setup(f"bounded-replay-{shards}", shards, et, bounded="true")
            with open(f"{d}/in/a.jsonl", "w") as f:
                for i in range(2000):
                    f.write(rec(key_in(i % 2), BASE + i * 97))
            p = run(["run", "--config", cfg], check_rc=0, timeout=60)
            rows = lines(f"{d}/out/per_sensor.jsonl")
            check(sum(r["n"] for r in rows) == 2000, f"{shards} shard(s), {et}: {rows}\n{p.stderr}")
            check_replay(d, cfg)
            ended = sorted(os.listdir(f"{d}/data/journal/ended"))
            check(ended == ["readings.0", "readings.1"], f"the end was recorded as {ended}")
    # A run that is not a replay forgets the end: its sources may write more.
    follow = write_config(d, CONFIG.format(dir=d, shards=1, event_time="watermark_delay: 1s",
                                           bounded="false", window=60), name="follow.yaml")
    proc = start(follow, "--reset")
    time.sleep(0.5)
    stop(proc)  # it follows the file, so its input never ends
    check(os.listdir(f"{d}/data/journal/ended") == [],
          "a following run kept the record of an ended input")


def iso(ms):
    t = time.gmtime(ms // 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{ms % 1000:03d}Z"


def test_conformance_11_a_backlog_read_fast_declares_no_partition_idle():
    # 400k records already in the log of partition A and B, read with a 50 ms idle_timeout:
    # while a reader is behind its log end the partition is not idle, however long the read
    # takes, so nothing is late and the output equals the bounded run's.
    a, b = key_in(0), key_in(1)
    outputs = []
    for bounded in ("true", "false"):
        d, cfg = setup(f"backlog-{bounded}", 2, "watermark_delay: 1s, idle_timeout: 50ms",
                       bounded=bounded)
        with open(f"{d}/in/a.jsonl", "w") as f:
            for i in range(200_000):  # A's 2000 s first, then B's, same event times
                f.write(rec(a, BASE + i * 10))
            for i in range(200_000):
                f.write(rec(b, BASE + i * 10))
        args = ["run", "--config", cfg] + ([] if bounded == "true" else ["--duration", "20s"])
        p = run(args, check_rc=0, timeout=120)
        late = lines(f"{d}/out/per_sensor.late.jsonl")
        check(late == [], f"bounded: {bounded}: {len(late)} late records\n{p.stderr}")
        outputs.append(sorted(open(f"{d}/out/per_sensor.jsonl").read().splitlines()))
    unbounded = set(outputs[1])
    check(len(outputs[1]) > 0 and unbounded <= set(outputs[0]),
          f"the unbounded run's rows differ from the bounded run's")


def spread_ms(stderr):
    """The largest watermark spread the run summary reports, in ms."""
    m = re.search(r"partitions were at most (\d+) ms apart", stderr)
    check(m is not None, f"no spread in the summary:\n{stderr}")
    return int(m.group(1))


def test_conformance_11_alignment_keeps_the_watermark_spread_within_max_drift():
    # A backlog where partition A's event time runs 50x faster per record than B's: read as
    # fast as it comes, A's watermark ends thousands of seconds ahead of B's. With
    # max_drift: 30s A's reader waits for B's, so the spread stays within 30 s plus what one
    # batch of A spans, on one shard or across two; the output is the same, as alignment
    # only orders the reads.
    a, b = key_in(0), key_in(1)
    n, a_step, b_step, drift = 50_000, 100, 2, 30_000
    # Alignment acts between log batches. The file source cuts batches of up to 256 KiB, and
    # the padding makes a record take more than 400 bytes in one, so a batch of A spans at
    # most 656 records.
    pad = "x" * 400
    bound = drift + (256 * 1024 // 400 + 1) * a_step
    runs = {}
    for name, shards, max_drift, bounded in (("free-1", 1, "", "false"),
                                             ("free-2", 2, "", "true"),
                                             ("aligned-1", 1, ", max_drift: 30s", "true"),
                                             ("aligned-2", 2, ", max_drift: 30s", "true")):
        d, cfg = setup(f"align-{name}", shards, "watermark_delay: 1s" + max_drift,
                       bounded=bounded)
        with open(f"{d}/in/a.jsonl", "w") as f:
            for i in range(n):
                f.write(rec(a, BASE + i * a_step, pad) + rec(b, BASE + i * b_step, pad))
        if name == "aligned-2":  # with checkpoints, whose metrics file carries the spread too
            with open(cfg, "a") as f:
                f.write("checkpoint: { interval: 200ms }\n")
        # Unbounded, the partitions never finish, so the spread is measured to the end: on one
        # shard, once both are read, A's last watermark is 4900 s past B's.
        args = ["run", "--config", cfg] + (["--duration", "5s"] if bounded == "false" else [])
        p = run(args, check_rc=0, timeout=300)
        runs[name] = (p.stderr, open(f"{d}/out/per_sensor.jsonl", "rb").read(), d)
    free = spread_ms(runs["free-1"][0])
    check(free > 10 * bound, f"without max_drift the spread was only {free} ms\n{runs['free-1'][0]}")
    for name in ("aligned-1", "aligned-2"):
        spread = spread_ms(runs[name][0])
        check(0 <= spread <= bound, f"{name}: the spread reached {spread} ms\n{runs[name][0]}")
    metrics = dict(line.split() for line in open(f"{runs['aligned-2'][2]}/data/metrics/"
                                                  "checkpoint.prom") if not line.startswith("#"))
    prom = float(metrics['freshet_watermark_spread_max_seconds{query="per_sensor",'
                         'topic="readings"}'])
    check(0 <= prom <= spread_ms(runs["aligned-2"][0]) / 1000, f"checkpoint.prom: {metrics}")
    out = runs["free-2"][1]
    check(out.count(b"\n") == n * a_step // 60_000 + 1 + 2, f"output:\n{out[:300]}")
    for name in ("aligned-1", "aligned-2"):
        check(runs[name][1] == out, f"{name}: the output differs from the run without alignment")


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["conformance_11"]:
        main([test_conformance_11_a_backlog_read_fast_declares_no_partition_idle,
              test_conformance_11_alignment_keeps_the_watermark_spread_within_max_drift])
    main([test_conformance_4_an_idle_partition_resuming_with_old_data_is_late_after_idle_resume,
          test_conformance_2_all_inputs_quiet_close_windows_only_with_wallclock_progress,
          test_a_shard_that_stepped_from_the_clock_does_not_hold_back_another_that_reads_again,
          test_a_replay_of_a_bounded_run_fires_its_last_windows_as_the_run_did,
          test_conformance_11_a_backlog_read_fast_declares_no_partition_idle,
          test_conformance_11_alignment_keeps_the_watermark_spread_within_max_drift])
