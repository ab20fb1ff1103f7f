"""The notes' verdict's benchmark runs as docs/benchmarks.md writes its one-run form."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ONE_RUN = "python bench/verdict.py --runs 1 --against ."


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "bench/verdict.py", *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_one_run_form_of_the_docs_times_both_and_compares_their_output() -> None:
    assert ONE_RUN in (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    done = _bench(*ONE_RUN.split()[2:])
    assert done.returncode == 0, done.stderr
    for name in ("this checkout", "against"):
        figures = rf"{name} \(.+\): wall best [0-9.]+ s, median [0-9.]+ s; CPU best [0-9.]+ s"
        assert re.search(figures, done.stdout), done.stdout
    assert "same output: yes" in done.stdout  # the same checkout twice: the same verdicts


def test_against_something_else_than_a_checkout_is_a_usage_error(tmp_path: Path) -> None:
    done = _bench("--runs", "1", "--against", str(tmp_path))
    assert done.returncode == 2
    assert "`--against` must be a checkout of backprop-check" in done.stderr
