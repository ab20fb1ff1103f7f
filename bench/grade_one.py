"""How long grading one complete, correct submission takes, start-up included.

Runs `backprop-check examples/solution.py --format json --isolation I` in a fresh
process, `--runs` times for each isolation (by default the sandbox, `auto`, and `none`,
interleaved so that both see the same load), and prints the median and the spread of
the wall-clock time: what a student waits for, and what the sandbox costs. The figures
are kept in docs/grading.md.

    python bench/grade_one.py [--runs 15] [--isolation auto none]
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
    parser.add_argument("--isolation", nargs="+", default=["auto", "none"])
    args = parser.parse_args()
    times: dict[str, list[float]] = {isolation: [] for isolation in args.isolation}
    for _ in range(args.runs):
        for isolation, found in times.items():
            command = [sys.executable, "-m", "checks", args.submission, "--format", "json"]
            command += ["--isolation", isolation]
            start = time.perf_counter()
            proc = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
            found.append(time.perf_counter() - start)
            if proc.returncode not in (0, 1):
                print(proc.stderr, file=sys.stderr)
                return 2
    for isolation, found in times.items():
        quartiles = statistics.quantiles(found, n=4)
        print(
            f"{args.runs} runs of `backprop-check {Path(args.submission).name} --isolation "
            f"{isolation}`: median {statistics.median(found):.2f} s, quartiles "
            f"{quartiles[0]:.2f}-{quartiles[2]:.2f} s, max {max(found):.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
