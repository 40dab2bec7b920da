"""Shared helpers for the process-level tests: run the real freshet binary on real files."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

FRESHET = os.environ.get("FRESHET_BIN", "freshet")


class Fail(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Fail(message)


# Work directories of the test running now: removed when it passes, kept (and named) when it
# fails, so a CI machine's /tmp does not fill up with a directory per test and run.
_workdirs = []


def workdir(name):
    d = tempfile.mkdtemp(prefix=f"freshet-{name}-")
    _workdirs.append(d)
    return d


def write_config(d, text, name="pipeline.yaml"):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))
    return path


def run(args, timeout=120, cwd=None, check_rc=None):
    p = subprocess.run([FRESHET] + args, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if check_rc is not None and p.returncode != check_rc:
        raise Fail(f"freshet {' '.join(args)} exited {p.returncode}, expected {check_rc}\n"
                   f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main(tests):
    failed = 0
    for t in tests:
        del _workdirs[:]
        try:
            t()
            print(f"ok   {t.__name__}")
            for d in _workdirs:
                shutil.rmtree(d, ignore_errors=True)
        except Exception as e:  # report every test, then fail
            failed += 1
            print(f"FAIL {t.__name__}: {e}")
            if _workdirs:
                print(f"     kept {' '.join(_workdirs)}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
