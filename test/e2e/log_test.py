"""The log through the CLI: acknowledged records survive kill -9, offsets and time lookups,
topic commands, and the data dir lock."""
import json
import os
import signal
import subprocess
import threading
import time

from harness import FRESHET, check, main, run, workdir, write_config

CONFIG = """\
version: 1
data_dir: {dir}/data
topics:
  events: {{ partitions: 3, key: id, fsync: {fsync}, segment_bytes: 1MiB }}
"""


def consume_partition(cfg, p):
    out = run(["consume", "events", "-c", cfg, "-p", str(p)], check_rc=0).stdout
    return [json.loads(l) for l in out.splitlines()]


def test_acknowledged_records_survive_kill_9():
    d = workdir("kill9")
    cfg = write_config(d, CONFIG.format(dir=d, fsync="always"))
    acked = []  # (partition, offset), across every round
    seq = 0
    for round_no in range(3):
        proc = subprocess.Popen([FRESHET, "produce", "events", "-c", cfg], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        got = []

        def read_acks():
            for line in proc.stdout:
                got.append(tuple(json.loads(line).values()))

        reader = threading.Thread(target=read_acks)
        reader.start()
        start = seq
        try:
            # Feed in small writes so the producer syncs and acknowledges many times, then
            # kill it in the middle of the stream.
            deadline = time.time() + 0.6 + 0.2 * round_no
            while time.time() < deadline:
                lines = "".join(json.dumps({"id": f"k{(seq + i) % 97}", "seq": seq + i,
                                            "pad": "x" * 64}) + "\n" for i in range(50))
                seq += 50
                proc.stdin.write(lines.encode())
                proc.stdin.flush()
        except BrokenPipeError:
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join()
        check(len(got) > 100, f"round {round_no}: only {len(got)} acknowledgements before the kill")
        acked += got
        # After restart: every acknowledged offset is there, each partition holds records in
        # the order they were sent, with no duplicate and nothing we did not send.
        seen = set()
        for p in range(3):
            values = consume_partition(cfg, p)
            seqs = [v["seq"] for v in values]
            check(seqs == sorted(seqs), f"partition {p}: records out of order")
            check(len(set(seqs)) == len(seqs), f"partition {p}: duplicated records")
            check(all(0 <= s < seq for s in seqs), f"partition {p}: a record that was never sent")
            for v in values:
                check(v["id"] == f"k{v['seq'] % 97}", f"corrupt record {v}")
            seen.update((p, o) for o in range(len(values)))
        missing = [a for a in acked if a not in seen]
        check(not missing, f"round {round_no}: {len(missing)} acknowledged records lost, e.g. {missing[:3]}")
        print(f"  round {round_no}: {len(got)} acknowledged before kill -9, {len(acked)} in all, "
              f"sent {seq - start}")


def test_consume_from_an_offset_and_from_a_time():
    d = workdir("offsets")
    cfg = write_config(d, CONFIG.format(dir=d, fsync="interval"))
    first = "".join(json.dumps({"id": "same", "seq": i}) + "\n" for i in range(500))
    p = subprocess.run([FRESHET, "produce", "events", "-c", cfg, "-q"], input=first, text=True,
                       capture_output=True)
    check(p.returncode == 0, p.stderr)
    time.sleep(0.05)
    cut = int(time.time() * 1000)
    time.sleep(0.05)
    second = "".join(json.dumps({"id": "same", "seq": 500 + i}) + "\n" for i in range(100))
    subprocess.run([FRESHET, "produce", "events", "-c", cfg, "-q"], input=second, text=True, check=True)
    # Key "same" puts everything on one partition.
    all_values = run(["consume", "events", "-c", cfg], check_rc=0).stdout.splitlines()
    check(len(all_values) == 600, f"{len(all_values)} records")
    part = [p for p in range(3) if consume_partition(cfg, p)][0]
    out = run(["consume", "events", "-c", cfg, "-p", str(part), "--offset", "250", "--max", "5"],
              check_rc=0).stdout.splitlines()
    check([json.loads(l)["seq"] for l in out] == [250, 251, 252, 253, 254], f"offset 250: {out}")
    out = run(["consume", "events", "-c", cfg, "--from-time", str(cut)], check_rc=0).stdout.splitlines()
    check([json.loads(l)["seq"] for l in out] == list(range(500, 600)), "from-time did not start at the second produce")


def test_topic_commands():
    d = workdir("topics")
    cfg = write_config(d, CONFIG.format(dir=d, fsync="never"))
    run(["topic", "create", "clicks", "-c", cfg, "--partitions", "4", "--fsync", "never"], check_rc=0)
    p = run(["topic", "create", "clicks", "-c", cfg, "--partitions", "4"])
    check(p.returncode != 0 and "exists" in p.stderr, "creating a topic twice succeeded")
    p = run(["topic", "create", "bad/name", "-c", cfg])
    check(p.returncode == 64, f"a bad topic name exited {p.returncode}")
    subprocess.run([FRESHET, "produce", "clicks", "-c", cfg, "-q"], input='{"a":1}\n{"a":2}\n',
                   text=True, check=True)
    listed = [json.loads(l) for l in run(["topic", "list", "-c", cfg, "--json"], check_rc=0).stdout.splitlines()]
    check({"name": "clicks", "partitions": 4} in listed, f"list: {listed}")
    desc = json.loads(run(["topic", "describe", "clicks", "-c", cfg, "--json"], check_rc=0).stdout)
    check(sum(p["end_offset"] for p in desc["partitions"]) == 2, f"describe: {desc}")
    check(desc["config"]["flush"] == "never", f"describe: {desc}")
    run(["topic", "delete", "clicks", "-c", cfg], check_rc=0)
    p = run(["consume", "clicks", "-c", cfg])
    check(p.returncode == 64 and "topic create" in p.stderr, f"consume of a deleted topic: {p.stderr}")


def test_writers_refuse_while_a_server_holds_the_data_dir():
    d = workdir("lock")
    cfg = write_config(d, CONFIG.format(dir=d, fsync="never") + f"""\
sources:
  gen: {{ type: generator, to: events, profile: payments, rate: 1000/s }}
""".replace("key: id", "key: card_id"))
    server = subprocess.Popen([FRESHET, "run", "-c", cfg], stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        p = subprocess.run([FRESHET, "produce", "events", "-c", cfg], input="{}\n", text=True,
                           capture_output=True)
        check(p.returncode == 75, f"produce while a server runs exited {p.returncode}")
        check("lock" in p.stderr.lower() or "in use" in p.stderr.lower(), p.stderr)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


if __name__ == "__main__":
    main([test_acknowledged_records_survive_kill_9,
          test_consume_from_an_offset_and_from_a_time,
          test_topic_commands,
          test_writers_refuse_while_a_server_holds_the_data_dir])
