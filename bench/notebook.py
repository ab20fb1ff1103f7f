"""How long a student waits for a check in the notebook, against the command it replaces.

Measures, on `examples/solution.py` (right) and `examples/buggy.py` (wrong) loaded in
this process as a notebook's cells would be:

- the first check of a kernel: importing `checks.notebook` and `check(relu)`, in a
  fresh interpreter (the test points are drawn then), `--runs` times;
- each later `check(f)` of one function, every function of the contract, `--runs`
  times each (the points reused);
- `check_all` on the whole assignment, right and wrong;
- side by side, what the student did before: `backprop-check FILE` in a fresh process
  (`--runs` times), which grades every function in a sandbox.

Prints medians (and the spread where it matters). The figures are kept in
docs/notebook.md.

    python bench/notebook.py [--runs 5]
"""

from __future__ import annotations

import argparse
import runpy
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
_FIRST = """
import time
started = time.perf_counter()
from checks import notebook as bc
imported = time.perf_counter()
import numpy as np
def relu(z):
    return np.maximum(z, 0.0)
assert bc.check(relu).passed
print(imported - started, time.perf_counter() - imported)
"""


def _timed(work: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """The times of `runs` calls of `work`, and what its last call returned."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return times, result


def _times(work: Callable[[], Any], runs: int) -> list[float]:
    return _timed(work, runs)[0]


def _spread(times: list[float]) -> str:
    return f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = max(args.runs, 1)

    firsts = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _FIRST], capture_output=True, text=True, check=True, cwd=REPO
        )
        firsts.append([float(x) for x in done.stdout.split()])
    imports, first_checks = zip(*firsts, strict=True)
    print(f"first check of a kernel ({runs} fresh interpreters):")
    print(f"  import checks.notebook      {_spread(list(imports))}")
    print(f"  first check(relu)           {_spread(list(first_checks))}")

    from backprop import CONTRACT
    from checks.notebook import check, check_all

    warnings.simplefilter("ignore", RuntimeWarning)  # buggy.py's softmax overflows
    solution = runpy.run_path(str(REPO / "examples" / "solution.py"))
    buggy = runpy.run_path(str(REPO / "examples" / "buggy.py"))
    check(solution["relu"])  # the points drawn, as after a kernel's first check
    print(f"later check(f), one function, median of {runs} (right | wrong, verdict):")
    ones = []
    for fid in CONTRACT:
        right = statistics.median(_times(lambda f=solution[fid]: check(f), runs))
        # The verdict of the last timed check: checking once more only to print it cost
        # as much as a run (seconds for a wrong `backward`).
        wrong_times, last = _timed(lambda f=buggy[fid]: check(f), runs)
        wrong, verdict = statistics.median(wrong_times), last.verdict
        ones += [right, wrong]
        print(f"  {fid:<18} {right * 1e3:7.1f} ms | {wrong * 1e3:7.1f} ms  {verdict}")
    print(
        f"  slowest of all: {max(ones) * 1e3:.1f} ms, median {statistics.median(ones) * 1e3:.1f} ms"
    )
    every_right = _times(lambda: check_all(solution), runs)
    every_wrong = _times(lambda: check_all(buggy), runs)
    print(f"check_all, 14 functions: right {_spread(every_right)}")
    print(f"                         wrong {_spread(every_wrong)}")

    command = [sys.executable, "-m", "checks", "examples/solution.py", "--format", "json"]
    graded = _times(
        lambda: subprocess.run(command, capture_output=True, check=True, cwd=REPO), runs
    )
    print(f"side by side: `backprop-check examples/solution.py`, fresh process: {_spread(graded)}")
    command_time, one, every = map(statistics.median, (graded, ones, every_right))
    print(
        f"  a later check(f) is {command_time / one:.0f}x faster than the command "
        f"(median against median); check_all {command_time / every:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
