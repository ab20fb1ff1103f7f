"""The notes' verdict (`backprop-check` with no argument): its wall and CPU time.

Runs the command `--runs` times, each in a fresh process (`python -m checks.cli`, with
this checkout's `checks`), and prints the best and the median of its wall time and of
its CPU time (user + system). With `--against OTHER`, another checkout (say, the
commit before a change) runs the same command, interleaved with this one run by run
so that both see the same load, and the two outputs are compared: a faster verdict
must print the same verdicts and counterexamples.

    python bench/verdict.py --runs 7                        # this checkout
    python bench/verdict.py --runs 7 --against /tmp/before  # and another, interleaved

Notes
-----
The best of several runs is the figure to compare: other processes on the machine
only ever add time. `-m checks.cli` from the checkout's folder imports that
checkout's `checks` (Python puts the current folder first on the path), whatever
is installed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main", "run_once"]

ROOT = Path(__file__).resolve().parents[1]


def run_once(checkout: Path) -> tuple[float, float, str]:
    """One verdict by `checkout`'s code: (wall seconds, CPU seconds, its output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "checks.cli"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):  # 1: computation disagrees with the catalog
        raise SystemExit(f"{checkout}: `python -m checks.cli` failed:\n{done.stderr}")
    return wall, cpu, done.stdout


def _summary(name: str, walls: list[float], cpus: list[float]) -> str:
    return (
        f"{name}: wall best {min(walls):.2f} s, median {statistics.median(walls):.2f} s; "
        f"CPU best {min(cpus):.2f} s, median {statistics.median(cpus):.2f} s "
        f"({len(walls)} runs)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each (default: 5)")
    parser.add_argument("--against", type=Path, help="another checkout, run interleaved")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"`--runs` must be at least 1, got {args.runs}")
    checkouts = {"this checkout": ROOT}
    if args.against is not None:
        if not (args.against / "checks" / "cli").is_dir():
            parser.error(f"`--against` must be a checkout of backprop-check, got {args.against}")
        checkouts["against"] = args.against.resolve()
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in checkouts}
    outputs: dict[str, str] = {}
    for _ in range(args.runs):
        for name, checkout in checkouts.items():
            wall, cpu, out = run_once(checkout)
            times[name][0].append(wall)
            times[name][1].append(cpu)
            outputs.setdefault(name, out)
    print(f"`backprop-check` with no argument, on {os.cpu_count()} cores:")
    for name, checkout in checkouts.items():
        print("  " + _summary(f"{name} ({checkout})", *times[name]))
    if args.against is not None:
        same = outputs["this checkout"] == outputs["against"]
        print(f"  same output: {'yes' if same else 'NO'}")
        ratio = min(times["this checkout"][0]) / min(times["against"][0])
        print(f"  best wall time, this checkout / against: {ratio:.2f}")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
