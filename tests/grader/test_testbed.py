"""The feedback testbed (tests/grader/testbed): its manifest is sound, and a fast subset
gets the verdicts, diagnoses, lines and phrases a teacher expects (bench/feedback.py
grades all of it; the figures are in docs/feedback.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from backprop import CONTRACT
from checks.findings import DIAGNOSES

REPO = Path(__file__).resolve().parents[2]


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("feedback_bench", REPO / "bench" / "feedback.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = bench()
ENTRIES = {e["name"]: e for e in BENCH.load_manifest()}
VERDICTS = {"pass", "fail", "error", "timeout", "missing"}


def test_the_manifest_is_sound() -> None:
    assert len(ENTRIES) >= 40
    styles = {name[0] for name in ENTRIES}
    assert styles == {"a", "b", "c", "d"}  # course, row-major, fixed depth, notebooks
    for entry in ENTRIES.values():
        assert (BENCH.TESTBED / entry["file"]).is_file(), entry["file"]
        assert entry["focus"] in CONTRACT and entry["verdict"] in VERDICTS
        assert set(entry["diagnosis"]) <= set(DIAGNOSES), entry["name"]
        assert set(entry["expect"]) <= set(CONTRACT) and set(entry["expect"].values()) <= VERDICTS
        assert entry["expect"].get(entry["focus"], "pass") == entry["verdict"], entry["name"]


FAST = [
    "a04_softmax_rows_cascade",
    "a09_dyhat_epsilon_strict",
    "a17_daL_E2_summed",
    "c01_fixed_depth_unconfigured",
    "d02_nb_cell_costs_a_function",
]


@pytest.mark.parametrize("name", FAST)
def test_a_fast_subset_gets_the_expected_feedback(name: str) -> None:
    entry = ENTRIES[name]
    results = BENCH.judge(entry, BENCH.grade(entry, examples=4))
    assert all(value is not False for value in results.values()), results
