"""`backprop-check` with no submission, end to end: text, JSON and exit statuses.

The full catalog takes seconds a run under the default 60 test points per formula, so these
tests run the command on a part of it (`FORMULAS` narrowed for the test), with no
argument at all: `dL_dW`, which holds, and `dL_db`, erratum E4. The exit status is 0
when the computed verdicts agree with the catalog's errata, 1 when they do not (here:
the notes' `dL_db` replaced by one that also halves the sum, a new error that E4 must
not name). The speed of the command is not asserted, nor the layout of its streaming:
the content is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from backprop.catalog import FORMULAS
from checks.cli._main import main

KEEP = ("dL_dW", "dL_db")
# What a subprocess runs: the command's `main` with no argument, on the same narrowed
# catalog (a child process cannot be monkeypatched).
CHILD = (
    "import sys; from backprop.catalog import FORMULAS; "
    f"[FORMULAS.pop(k) for k in list(FORMULAS) if k not in {KEEP!r}]; "
    "from checks.cli._main import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.fixture
def narrowed() -> Iterator[None]:
    # FORMULAS given back as it was, in its order: `monkeypatch.delitem` put the formulas
    # back at the end, so every later test that walks FORMULAS drew its random data in
    # another order than when run alone, which hid a failure that shows when run alone.
    saved = dict(FORMULAS)
    for fid in saved:
        if fid not in KEEP:
            del FORMULAS[fid]
    try:
        yield
    finally:
        FORMULAS.clear()
        FORMULAS.update(saved)


def _halved_sum(dL_dz: Any) -> Any:
    return np.sum(dL_dz, axis=1) / 2


def test_no_argument_prints_the_verdicts_and_exits_0(
    narrowed: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  dL_")}
    assert "holds" in lines["dL_dW"] and "erratum (E4)" in lines["dL_db"]
    assert "E4: np.sum(..., axis=1) returns shape (n_l,)" in out
    assert "1 formulas hold, 1 are errata" in out and "nothing else failed" in out


def test_no_argument_as_json_and_a_new_error_exits_1(
    narrowed: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    assert main(["--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    formulas = report["formulas"]
    assert set(formulas) == set(KEEP) and report["seed"] == 0
    assert formulas["dL_dW"]["verdict"] == "holds"
    assert formulas["dL_db"]["errata"] == ["E4"] and not formulas["dL_db"]["new_erratum"]

    monkeypatch.setitem(FORMULAS, "dL_db", replace(FORMULAS["dL_db"], as_written=_halved_sum))
    assert main([]) == 1
    out = capsys.readouterr().out
    assert "NEW: no erratum of the catalog names this failure" in out
    assert "dL_db: erratum E4 no longer reproduces" in out
    assert main(["--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["formulas"]["dL_db"]["new_erratum"] is True


def test_the_command_in_a_process_prints_json_and_exits_0() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert {k: v["verdict"] for k, v in report["formulas"].items()} == {
        "dL_dW": "holds",
        "dL_db": "erratum",
    }
