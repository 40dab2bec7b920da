#!/usr/bin/env python3
"""Prints the closing `N passed, N failed` line of `packaging/dev.sh test` from meson's
testlog.json: doctest suites count their test cases one by one (from doctest's summary line),
the e2e scripts their own `N passed, N failed`, anything else counts as one test."""
import json
import re
import sys

SUMMARY = re.compile(r"(?:\[doctest\] test cases:\s*\d+\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed)"
                     r"|(?:^(\d+) passed, (\d+) failed$)", re.M)

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        result = t.get("result")
        if result == "SKIP":
            skipped += 1
            continue
        ok = result in ("OK", "EXPECTEDFAIL")
        counts = SUMMARY.findall(t.get("stdout", "") or "")
        if counts:
            p = sum(int(a or c) for a, b, c, d in counts)
            q = sum(int(b or d) for a, b, c, d in counts)
            if not ok and q == 0:
                q = 1  # crashed or timed out after its last summary: count the suite as failed
            passed += p
            failed += q
        elif ok:
            passed += 1
        else:
            failed += 1
if skipped:
    print(f"({skipped} suites skipped)")
print(f"{passed} passed, {failed} failed")
