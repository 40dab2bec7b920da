"""The CLI contract: exit codes of `check`, `--help` everywhere, and a clean, fast stop on
SIGTERM/SIGINT that leaves complete output lines."""
import json
import os
import signal
import subprocess
import time

from harness import FRESHET, check, main, run, workdir, write_config

VALID = """\
version: 1
data_dir: {dir}/data
server: {{ shards: 2 }}
topics:
  payments:
    partitions: 4
    key: card_id
    fsync: interval
    fsync_interval: 5ms
    segment_bytes: 4MiB
    event_time: {{ field: ts, watermark_delay: 1s }}
sources:
  gen: {{ type: generator, to: payments, profile: payments, rate: 50000/s, seed: 3 }}
queries:
  per_country:
    sql: |
      SELECT country, window_start, window_end, COUNT(*) AS n, SUM(amount) AS volume
      FROM TUMBLE(payments, ts, INTERVAL '1' SECOND)
      GROUP BY country, window_start, window_end
sinks:
  countries:
    type: file
    inputs: [per_country]
    path: {dir}/out/countries.jsonl
    format: jsonl
    delivery: at_least_once
"""


def test_check_accepts_a_valid_config_and_the_demo():
    d = workdir("check")
    cfg = write_config(d, VALID.format(dir=d))
    p = run(["check", cfg], check_rc=0)
    check("valid" in p.stdout, p.stdout)
    demo = os.path.join(os.environ["FRESHET_SOURCE_ROOT"], "config/demo.yaml")
    run(["check", demo], check_rc=0)


def test_check_reports_every_error_with_position_and_exits_78():
    d = workdir("check-bad")
    bad = VALID.format(dir=d).replace("partitions: 4", "partitons: 4").replace(
        "INTERVAL '1' SECOND", "INTERVAL '1' SECOND) HAVING").replace("inputs: [per_country]", "inputs: [per_contry]")
    cfg = write_config(d, bad)
    p = run(["check", "--format", "short", cfg])
    check(p.returncode == 78, f"exit {p.returncode}: {p.stderr}")
    check(f"{cfg}:6:5: error:" in p.stderr, f"no position for the misspelt key:\n{p.stderr}")
    check("partitions" in p.stderr, "no did-you-mean for partitons")
    check("per_country" in p.stderr, "no did-you-mean for the sink input")
    p = run(["check", cfg])
    check(p.returncode == 78 and "^" in p.stderr, "human format has no caret")


def test_sql_errors_point_into_the_yaml():
    d = workdir("check-sql")
    bad = VALID.format(dir=d).replace("FROM TUMBLE(payments", "FROM HOP(payments")
    cfg = write_config(d, bad)
    p = run(["check", "--format", "short", cfg])
    check(p.returncode == 78, f"exit {p.returncode}: {p.stderr}")
    # The FROM line is line 18 of the file; HOP starts at column 12.
    check(f"{cfg}:18:12:" in p.stderr, f"SQL error not mapped to the YAML position:\n{p.stderr}")


def test_check_exit_codes_for_missing_file_and_bad_flags():
    p = run(["check", "/nonexistent/pipeline.yaml"])
    check(p.returncode == 66, f"missing file exited {p.returncode}")
    p = run(["check", "--no-such-flag"])
    check(p.returncode == 64, f"bad flag exited {p.returncode}")
    p = run(["frobnicate"])
    check(p.returncode == 64, f"unknown subcommand exited {p.returncode}")


def test_help_and_version():
    for args in (["--help"], ["run", "--help"], ["check", "--help"], ["consume", "--help"]):
        p = run(args, check_rc=0)
        check("Usage" in p.stdout or "usage" in p.stdout.lower(), f"{args}: no usage")
    p = run(["version"], check_rc=0)
    check(p.stdout.startswith("freshet "), p.stdout)


def test_sigterm_stops_within_a_second_with_complete_output_lines():
    for sig in (signal.SIGTERM, signal.SIGINT):
        d = workdir("stop")
        cfg = write_config(d, VALID.format(dir=d))
        proc = subprocess.Popen([FRESHET, "run", "--config", cfg], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        out = os.path.join(d, "out/countries.jsonl")
        deadline = time.time() + 20
        while time.time() < deadline and (not os.path.exists(out) or os.path.getsize(out) == 0):
            time.sleep(0.1)
        check(os.path.exists(out) and os.path.getsize(out) > 0, "no output within 20s")
        t0 = time.time()
        proc.send_signal(sig)
        rc = proc.wait(timeout=10)
        took = time.time() - t0
        err = proc.stderr.read()
        check(rc == 0, f"{sig.name}: exit {rc}\n{err}")
        check(took < 1.0, f"{sig.name}: stop took {took:.2f}s")
        data = open(out).read()
        check(data.endswith("\n"), "the output ends in a partial line")
        for line in data.splitlines():
            row = json.loads(line)
            check(row["n"] > 0, f"bad row {row}")


def test_duration_stops_the_run():
    d = workdir("duration")
    cfg = write_config(d, VALID.format(dir=d))
    t0 = time.time()
    run(["run", "--config", cfg, "--duration", "1500ms"], check_rc=0, timeout=30)
    took = time.time() - t0
    check(1.4 < took < 5, f"--duration 1500ms ran {took:.2f}s")


def test_a_failing_sink_write_stops_the_run_with_the_cause():
    # /dev/full fails every write with ENOSPC: the run must stop with exit 1 and say why,
    # not keep running with rows silently stuck.
    d = workdir("full")
    cfg = write_config(d, VALID.format(dir=d).replace(f"{d}/out/countries.jsonl", "/dev/full"))
    p = run(["run", "--config", cfg], timeout=30)
    check(p.returncode == 1, f"exit {p.returncode}: {p.stderr}")
    check("No space left on device" in p.stderr and "/dev/full" in p.stderr, p.stderr)


if __name__ == "__main__":
    main([test_check_accepts_a_valid_config_and_the_demo,
          test_check_reports_every_error_with_position_and_exits_78,
          test_sql_errors_point_into_the_yaml,
          test_check_exit_codes_for_missing_file_and_bad_flags,
          test_help_and_version,
          test_sigterm_stops_within_a_second_with_complete_output_lines,
          test_duration_stops_the_run,
          test_a_failing_sink_write_stops_the_run_with_the_cause])
