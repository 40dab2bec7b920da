"""Checkpoints and exactly-once output (semantics §3.7, conformance tests 7 and 8): the real
binary killed with SIGKILL at every step of the commit protocol and at random moments, then
restarted; every output file must equal a crash-free run of the same bounded input."""
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import time

from harness import FRESHET, Fail, check, main, run, workdir, write_config

CONFIG = """\
version: 1
data_dir: {dir}/data
server: {{ shards: {shards} }}
topics:
  clicks:
    partitions: 3
    key: user
    fsync: never
    segment_bytes: 1MiB
    event_time: {{ field: ts, watermark_delay: 4s }}
sources:
  history: {{ type: file, path: "{dir}/in/*.jsonl", to: clicks, read_from: beginning, bounded: {bounded} }}
queries:
  per_user:
    sql: |
      SELECT user, window_start, window_end, COUNT(*) AS n, SUM(amount) AS total,
             COUNT(DISTINCT page) AS pages
      FROM TUMBLE(clicks, ts, INTERVAL '10' SECOND)
      GROUP BY user, window_start, window_end
  {second_query}
  big:
    sql: SELECT user, amount, ts FROM clicks WHERE amount > 990
sinks:
  counts: {{ type: file, inputs: [per_user], path: {dir}/out/counts.jsonl }}
  big: {{ type: file, inputs: [big], path: {dir}/out/big.csv }}
checkpoint: {{ interval: {interval}, retained: 2 }}
"""

SESSIONS = """sessions:
    sql: |
      SELECT user, window_start, window_end, COUNT(*) AS n, MAX(amount) AS top
      FROM SESSION(clicks, ts, INTERVAL '3' SECOND)
      GROUP BY user, window_start, window_end"""

BASE = 1_764_064_800_000


def write_inputs(d, n, seed=11):
    rng = random.Random(seed)
    os.makedirs(f"{d}/in", exist_ok=True)
    lines = []
    for i in range(n):
        ts = BASE + i * 7 - rng.randrange(0, 2500)  # out of order, within the 4 s delay
        lines.append(json.dumps({"user": f"u{rng.randrange(300)}", "page": f"/p{rng.randrange(50)}",
                                 "amount": rng.randrange(1000), "ts": ts}))
        if i % 5000 == 17:
            lines.append("{not json")
    half = len(lines) // 2
    with open(f"{d}/in/a.jsonl", "w") as f:
        f.write("\n".join(lines[:half]) + "\n")
    with open(f"{d}/in/b.jsonl", "w") as f:
        f.write("\n".join(lines[half:]) + "\n")


def config(d, shards=2, interval="300ms", bounded="true", sessions=True):
    return write_config(d, CONFIG.format(dir=d, shards=shards, interval=interval, bounded=bounded,
                                         second_query=SESSIONS if sessions else ""))


OUTPUTS = ["counts.jsonl", "big.csv", "counts.dead.jsonl", "big.dead.jsonl"]


def outputs(d):
    out = {}
    for name in OUTPUTS:
        path = f"{d}/out/{name}"
        out[name] = open(path, "rb").read() if os.path.exists(path) else b""
    return out


def same_outputs(got, want, what):
    for name in OUTPUTS:
        g, w = got[name], want[name]
        if "dead" in name:
            # Dead-letter rows arrive in the order the partitions were read: compare as sets.
            g, w = sorted(g.splitlines()), sorted(w.splitlines())
        if g != w:
            raise Fail(f"{what}: {name} differs from the crash-free run "
                       f"({len(got[name])} bytes vs {len(want[name])})")


def committed_prefix(d, want, what):
    """What a `tail -F` reader sees right after a crash: only committed rows, never a row twice."""
    for name in ("counts.jsonl", "big.csv"):
        path = f"{d}/out/{name}"
        got = open(path, "rb").read() if os.path.exists(path) else b""
        check(want[name].startswith(got),
              f"{what}: {name} is not a prefix of the crash-free output ({len(got)} bytes)")


_baseline = {}
_baseline_seconds = {}


def baseline(n, shards=2):
    key = (n, shards)
    if key not in _baseline:
        d = workdir("ckpt-base")
        write_inputs(d, n)
        t = time.monotonic()
        run(["run", "--config", config(d, shards=shards)], check_rc=0, timeout=300)
        _baseline_seconds[key] = time.monotonic() - t
        _baseline[key] = outputs(d)
        check(_baseline[key]["counts.jsonl"].count(b"\n") > 1000, "the baseline has windows")
        check(_baseline[key]["big.csv"].startswith(b"user,amount,ts\n"), "CSV header once")
        check(_baseline[key]["counts.dead.jsonl"].count(b"\n") > 0, "malformed lines are dead")
        shutil.rmtree(d)
    return _baseline[key]


def paced_interval(seconds, epochs=8):
    """A checkpoint interval that fits about `epochs` commits into a run that takes `seconds`
    on this machine, so that a crash asked for at epoch k lands inside the run however fast
    the build is (a release build reads these inputs in a fraction of a 300 ms interval)."""
    return f"{max(5, int(seconds * 1000 / epochs))}ms"


def start(cfg, env_extra=None, args=()):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.Popen([FRESHET, "run", "--config", cfg, *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_conformance_7_every_step_of_the_commit_protocol_survives_a_sigkill():
    n = 60000
    want = baseline(n)
    for step in ["before_snapshot", "after_snapshot", "before_rename", "after_rename",
                 "during_publish", "after_publish"]:
        d = workdir(f"ckpt-{step}")
        write_inputs(d, n)
        cfg = config(d, interval=paced_interval(_baseline_seconds[(n, 2)]))
        p = start(cfg, {"FRESHET_CRASH_AT": f"{step}:2"})
        out, err = p.communicate(timeout=300)
        check(p.returncode == -signal.SIGKILL,
              f"{step}: expected the process killed at the step, got {p.returncode}\n{err}")
        committed_prefix(d, want, step)
        run(["run", "--config", cfg], check_rc=0, timeout=300)
        same_outputs(outputs(d), want, step)
        shutil.rmtree(d)


def test_ten_random_sigkills_then_the_output_equals_a_crash_free_run():
    n = 200000
    want = baseline(n)
    d = workdir("ckpt-loop")
    write_inputs(d, n)
    cfg = config(d, interval="200ms")
    rng = random.Random(int(os.environ.get("FRESHET_TEST_SEED", "20261125")))
    # Kill times scale with how long a crash-free run takes here, so that ten lives of the
    # process together do not get through the input whatever the machine's speed.
    whole = _baseline_seconds[(n, 2)]
    kills = 0
    for _ in range(14):
        p = start(cfg)
        time.sleep(0.1 + rng.uniform(0.03, 0.1) * whole)
        if p.poll() is not None:
            break  # finished before this kill: the rest is the final run
        p.send_signal(signal.SIGKILL)
        p.communicate()
        kills += 1
        committed_prefix(d, want, f"after kill {kills}")
    check(kills >= 10, f"only {kills} kills landed before the input ended; make it bigger")
    run(["run", "--config", cfg], check_rc=0, timeout=300)
    same_outputs(outputs(d), want, f"after {kills} SIGKILLs")
    shutil.rmtree(d)


def test_sigterm_suspends_and_the_next_start_goes_on():
    n = 200000
    want = baseline(n)
    d = workdir("ckpt-suspend")
    write_inputs(d, n)
    cfg = config(d, interval="10s")  # only the final checkpoint on stop commits anything
    p = start(cfg)
    time.sleep(1.5)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    check(p.returncode == 0, f"SIGTERM: exit {p.returncode}\n{err}")
    committed_prefix(d, want, "after SIGTERM")
    metrics = dict(line.split() for line in open(f"{d}/data/metrics/checkpoint.prom")
                   if not line.startswith("#"))
    check(float(metrics["freshet_checkpoints_completed_total"]) >= 1, f"metrics: {metrics}")
    check(float(metrics["freshet_checkpoint_size_bytes"]) > 0, f"metrics: {metrics}")
    check(0 <= float(metrics["freshet_checkpoint_age_seconds"]) < 60, f"metrics: {metrics}")
    run(["run", "--config", cfg], check_rc=0, timeout=300)
    same_outputs(outputs(d), want, "suspend and resume")
    shutil.rmtree(d)


def test_drain_fires_every_window_before_the_final_checkpoint():
    n = 30000
    want = baseline(n)
    d = workdir("ckpt-drain")
    write_inputs(d, n)
    cfg = config(d, bounded="false")
    p = start(cfg, args=("--drain",))
    # An unbounded source never ends; wait until it has read everything, then stop.
    time.sleep(4)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    check(p.returncode == 0, f"--drain: exit {p.returncode}\n{err}")
    same_outputs(outputs(d), want, "--drain")


def test_a_changed_query_is_refused_with_the_way_out():
    d = workdir("ckpt-change")
    write_inputs(d, 20000)
    cfg = config(d)
    run(["run", "--config", cfg], check_rc=0, timeout=300)
    text = open(cfg).read().replace("GROUP BY user, window_start, window_end\n  sessions",
                                    "GROUP BY user, page, window_start, window_end\n  sessions")
    text = text.replace("SELECT user, window_start, window_end, COUNT(*) AS n, SUM",
                        "SELECT user, page, window_start, window_end, COUNT(*) AS n, SUM")
    with open(cfg, "w") as f:
        f.write(text)
    p = run(["run", "--config", cfg], timeout=120)
    check(p.returncode == 78, f"expected 78 for an incompatible change, got {p.returncode}\n{p.stderr}")
    check("per_user" in p.stderr and "--reset-state per_user" in p.stderr,
          f"the message names the query and the way out:\n{p.stderr}")
    p = run(["run", "--config", cfg, "--reset-state", "per_user"], check_rc=0, timeout=300)
    rows = [json.loads(line) for line in open(f"{d}/out/counts.jsonl")]
    check(any("page" in r for r in rows), "after --reset-state the new query's rows are written")
    # A different shard count cannot take per-shard state either.
    p = run(["run", "--config", config(d, shards=1)], timeout=120)
    check(p.returncode == 78 and "2 shards" in p.stderr, f"shard count change:\n{p.stderr}")
    shutil.rmtree(d)


def test_conformance_8_offsets_lost_while_stopped_are_reported_not_skipped():
    """Conformance #8: the log no longer holds what the checkpoint resumes from."""
    baseline(200000)
    d = workdir("ckpt-lost")
    write_inputs(d, 200000)
    cfg = config(d, interval=paced_interval(_baseline_seconds[(200000, 2)]))
    p = start(cfg, {"FRESHET_CRASH_AT": "after_publish:1"})
    p.communicate(timeout=300)
    check(p.returncode == -signal.SIGKILL, f"expected a kill at checkpoint 1, got {p.returncode}")
    manifest = json.loads(open(glob.glob(f"{d}/data/checkpoints/1/MANIFEST")[0]).read())
    resume = {i["partition"]: i["offset"] for q in manifest["queries"] if q["name"] == "per_user"
              for i in q["inputs"]}
    # Lose the oldest segments, as a retention shorter than the stop would have: every
    # segment but the newest of each partition.
    lost = 0
    for part, offset in resume.items():
        segs = sorted(glob.glob(f"{d}/data/topics/clicks/{part}/*.log"))
        if len(segs) < 2 or int(os.path.basename(segs[-1])[:-4]) <= offset:
            continue
        for f in segs[:-1]:
            for ext in (".log", ".index", ".timeindex"):
                if os.path.exists(f[:-4] + ext):
                    os.remove(f[:-4] + ext)
        lost += 1
    check(lost > 0, f"no partition lost offsets the checkpoint needs ({resume})")
    p = run(["run", "--config", cfg], timeout=120)
    check(p.returncode != 0, "a start that cannot resume where it left off must not go on")
    check("are gone" in p.stderr and "--reset-state" in p.stderr,
          f"the lost offsets are reported with the way out:\n{p.stderr}")
    shutil.rmtree(d)


TOPIC_SINK = """\
  to_topic: {{ type: topic, inputs: [per_user], topic: results }}
"""


def test_a_topic_sink_publishes_each_committed_row_once():
    """Rows written into a topic appear there only once committed, once, across crashes."""
    n = 60000
    for step in ["after_rename", "during_publish", None]:
        d = workdir("ckpt-topic")
        write_inputs(d, n)
        text = CONFIG.format(dir=d, shards=2, interval="300ms", bounded="true", second_query="")
        text = text.replace("sources:", "  results: { partitions: 2, key: user }\nsources:", 1)
        text = text.replace("checkpoint:", TOPIC_SINK.format() + "checkpoint:", 1)
        cfg = write_config(d, text)
        if step:
            p = start(cfg, {"FRESHET_CRASH_AT": f"{step}:2"})
            p.communicate(timeout=300)
            check(p.returncode == -signal.SIGKILL, f"{step}: expected a kill, got {p.returncode}")
        run(["run", "--config", cfg], check_rc=0, timeout=300)
        rows = []
        for part in (0, 1):
            out = run(["consume", "results", "-c", cfg, "-p", str(part)], check_rc=0).stdout
            rows += out.splitlines()
        want = open(f"{d}/out/counts.jsonl").read().splitlines()
        check(len(rows) == len(set(rows)), f"{step}: a row was published twice")
        check(sorted(rows) == sorted(want),
              f"{step}: the topic holds {len(rows)} rows, the file sink {len(want)}")
        shutil.rmtree(d)


CHAIN = """\
version: 1
data_dir: {dir}/data
server: {{ shards: 2 }}
topics:
  clicks:
    partitions: 3
    key: user
    fsync: never
    event_time: {{ field: ts, watermark_delay: 4s }}
sources:
  history: {{ type: file, path: "{dir}/in/*.jsonl", to: clicks, read_from: beginning, bounded: true }}
queries:
  per_10s:
    sql: |
      SELECT user, window_start, window_end, COUNT(*) AS n, SUM(amount) AS total
      FROM TUMBLE(clicks, ts, INTERVAL '10' SECOND)
      GROUP BY user, window_start, window_end
  per_min:
    sql: |
      SELECT user, window_start, window_end, SUM(n) AS n, SUM(total) AS total
      FROM TUMBLE(per_10s, window_start, INTERVAL '1' MINUTE)
      GROUP BY user, window_start, window_end
  direct:
    sql: |
      SELECT user, window_start, window_end, COUNT(*) AS n, SUM(amount) AS total
      FROM TUMBLE(clicks, ts, INTERVAL '1' MINUTE)
      GROUP BY user, window_start, window_end
sinks:
  chained: {{ type: file, inputs: [per_min], path: {dir}/out/chained.jsonl }}
  direct: {{ type: file, inputs: [direct], path: {dir}/out/direct.jsonl }}
{checkpoint}
"""


def test_a_chained_query_equals_the_direct_one_with_and_without_crashes():
    """FROM <query>: per-minute sums of per-10-second counts equal per-minute counts."""
    whole = None  # the run without checkpoints, which comes first, paces the others
    for ckpt, crash in [("", None), ("checkpoint: {{ interval: {} }}", None),
                        ("checkpoint: {{ interval: {} }}", "during_publish:2"),
                        ("checkpoint: {{ interval: {} }}", "after_rename:3")]:
        d = workdir("chain")
        write_inputs(d, 60000)
        ckpt = ckpt.format(paced_interval(whole)) if ckpt else ckpt
        cfg = write_config(d, CHAIN.format(dir=d, checkpoint=ckpt))
        if crash:
            p = start(cfg, {"FRESHET_CRASH_AT": crash})
            p.communicate(timeout=300)
            check(p.returncode == -signal.SIGKILL, f"{crash}: expected a kill, got {p.returncode}")
        t = time.monotonic()
        run(["run", "--config", cfg], check_rc=0, timeout=300)
        whole = whole or time.monotonic() - t
        chained = open(f"{d}/out/chained.jsonl").read()
        direct = open(f"{d}/out/direct.jsonl").read()
        check(chained.count("\n") > 100, f"{ckpt} {crash}: the chain wrote rows")
        check(chained == direct, f"{ckpt} {crash}: the chained query differs from the direct one")
        shutil.rmtree(d)
    d = workdir("chain-cycle")
    cfg = write_config(d, "version: 1\ntopics: { t: {} }\nqueries:\n"
                          "  a: { sql: SELECT x FROM b }\n  b: { sql: SELECT x FROM a }\n")
    p = run(["check", cfg], timeout=60)
    check(p.returncode == 78 and "E0313" in p.stderr, f"a cycle is a config error:\n{p.stderr}")
    shutil.rmtree(d)


if __name__ == "__main__":
    main([test_conformance_7_every_step_of_the_commit_protocol_survives_a_sigkill,
          test_ten_random_sigkills_then_the_output_equals_a_crash_free_run,
          test_sigterm_suspends_and_the_next_start_goes_on,
          test_drain_fires_every_window_before_the_final_checkpoint,
          test_a_changed_query_is_refused_with_the_way_out,
          test_conformance_8_offsets_lost_while_stopped_are_reported_not_skipped,
          test_a_topic_sink_publishes_each_committed_row_once,
          test_a_chained_query_equals_the_direct_one_with_and_without_crashes])
