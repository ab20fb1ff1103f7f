"""How long grading one complete, correct submission takes, start-up included.

Runs `backprop-check examples/solution.py --format json --isolation I` in a fresh
process, `--runs` times for each isolation (by default the sandbox, `auto`, and `none`,
interleaved so that both see the same load), and prints the median and the spread of
the wall-clock time: what a student waits for, and what the sandbox costs. The figures
are kept in docs/grading.md.

    python bench/grade_one.py [--runs 15] [--isolation auto none]

With ``--presets``, each documented course's example solution (docs/courses.md) is
graded under its configuration, the runs interleaved so that each shares the machine's
load alike, all with the same number of test points (``--examples``, 12 by default,
the notes' default), and the medians are printed side by side with their ratio to the
notes'.

    python bench/grade_one.py --presets [--runs 7]
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
    parser.add_argument("--presets", action="store_true", help="compare the courses' presets")
    parser.add_argument("--examples", type=int, default=12)
    parser.add_argument("--isolation", nargs="+", default=["auto", "none"])
    args = parser.parse_args()
    if args.presets:
        return _presets(args.runs, args.examples)
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


#: Each preset: its solution and configuration (None: the notes' defaults).
PRESETS = {
    "notes": ("solution.py", None),
    "cs231n": ("cs231n.py", "cs231n.toml"),
    "sigmoid_mse": ("sigmoid_mse.py", "sigmoid_mse.toml"),
}


def _presets(runs: int, examples: int) -> int:
    times: dict[str, list[float]] = {name: [] for name in PRESETS}
    for _ in range(runs):
        for name, (solution, config) in PRESETS.items():
            command = [sys.executable, "-m", "checks", f"examples/{solution}", "--format", "json"]
            command += ["--examples", str(examples)]
            if config is not None:
                command += ["--config", f"examples/{config}"]
            start = time.perf_counter()
            proc = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
            times[name].append(time.perf_counter() - start)
            if proc.returncode != 0:
                print(f"{name}: exit {proc.returncode}\n{proc.stderr}", file=sys.stderr)
                return 2
    base = statistics.median(times["notes"])
    print(f"{runs} interleaved runs per preset, {examples} test points each:")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:12} median {median:.2f} s (min {min(values):.2f}, max "
            f"{max(values):.2f}), {median / base:.2f} × the notes'"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
