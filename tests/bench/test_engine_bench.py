"""The engine's benchmark runs as docs/benchmarks.md writes its smoke command."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMOKE = "OPENBLAS_NUM_THREADS=1 python bench/engine.py --sizes S --repeat 1 --trials 2"


def test_the_smoke_command_of_the_docs_runs_and_prints_every_code_path() -> None:
    docs = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert SMOKE in docs
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    argv = [sys.executable, *SMOKE.split()[2:]]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    paths = ["NetworkLoss, numpy", "plain callable", "batched callable"]
    if importlib.util.find_spec("numba") is not None:  # the compiled kernel's row
        paths.append("NetworkLoss, numba")
    else:
        assert "numba not installed: no row for the compiled kernel" in out
    for path in paths:
        row = rf"\| S \| 43 \| ours, central \| {re.escape(path)} (\|[^|]+){{2}}\| \S+e-1"
        assert re.search(row, out), path
    assert "scipy check_grad" in out and "one call of the numpy loss" in out
    assert re.search(r"ours against scipy check_grad .*(faster|slower)", out)
    assert "directional at L: a correct gradient passed 2/2" in out
