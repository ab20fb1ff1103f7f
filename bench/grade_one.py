"""How long grading one complete, correct submission takes, start-up included.

Runs `backprop-check examples/solution.py --format json` in a fresh process, `--runs`
times, and prints the median and the spread of the wall-clock time: what a student
waits for. The figure is kept in docs/grading.md.

    python bench/grade_one.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--submission", default=str(REPO / "examples" / "solution.py"))
    args = parser.parse_args()
    command = [sys.executable, "-m", "checks", args.submission, "--format", "json"]
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            print(proc.stderr, file=sys.stderr)
            return 2
    quartiles = statistics.quantiles(times, n=4)
    print(
        f"{args.runs} runs of `backprop-check {Path(args.submission).name}`: median "
        f"{statistics.median(times):.2f} s, quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f} s, "
        f"max {max(times):.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
