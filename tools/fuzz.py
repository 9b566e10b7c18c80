"""The long fuzz run: tests/test_fuzz.py under Hypothesis's `nightly` profile (2000 new examples a test, where
CI runs a fixed 40), then how many generated cases ran and how many failed, per test and in all.

    python tools/fuzz.py [--examples N] [-k EXPRESSION]

Exit status 0 when every generated case either worked or was refused in one line. A failing case is printed
by Hypothesis with the smallest input it found; add it to tests/test_reliability.py once fixed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COUNTS = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, help="examples a test (default: the nightly profile's 2000)")
    parser.add_argument("-k", dest="select", help="run only the fuzz tests matching this pytest expression")
    args = parser.parse_args()
    env = dict(os.environ, MESHSYNC_FUZZ="nightly")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_fuzz.py"),
               "--hypothesis-show-statistics"]
    if args.examples:
        env["MESHSYNC_FUZZ_EXAMPLES"] = str(args.examples)
    if args.select:
        command += ["-k", args.select]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    print(summary(result.stdout))
    if result.returncode:
        print(result.stdout[-6000:], result.stderr[-2000:], sep="\n")
    return result.returncode


def summary(output: str) -> str:
    """Generated cases per test (all phases), and the totals."""
    rows, test, totals = [], None, [0, 0, 0]
    counts: dict[str, list[int]] = {}
    for line in output.splitlines():
        if line.startswith("tests/test_fuzz.py::"):
            test = line.split("::")[1].rstrip(":")
            counts[test] = [0, 0, 0]
        elif test and (match := COUNTS.search(line)):
            for i, value in enumerate(match.groups()):
                counts[test][i] += int(value)
    for name, (passing, failing, invalid) in counts.items():
        rows.append(f"{name:55s} {passing:7d} ran  {failing:5d} failed  {invalid:6d} rejected by the generator")
        totals = [t + c for t, c in zip(totals, (passing, failing, invalid))]
    rows.append(f"{'total':55s} {totals[0]:7d} ran  {totals[1]:5d} failed  {totals[2]:6d} rejected by the generator")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
