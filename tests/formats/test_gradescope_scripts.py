"""docs/gradescope/run_autograder always writes a valid results.json, once.

The checker is replaced by a stub (`BACKPROP_CHECK`) that succeeds, crashes, prints
garbage or hangs, and the autograder's folders by a temporary one (`AUTOGRADER_ROOT`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from checks.formats import to_gradescope
from tests.formats._reports import BOB

_DOCS = Path(__file__).parents[2] / "docs" / "gradescope"

_STUB = """\
import json, os, sys, time
with open(os.environ["STUB_LOG"], "w") as log:
    json.dump(sys.argv[1:], log)
mode = os.environ["STUB_MODE"]
if mode == "ok":
    sys.stdout.write(os.environ["STUB_RESULTS"])
    sys.exit(1)  # some function failed: not a failure of grading
if mode == "crash":
    sys.exit("Traceback (most recent call last):\\nRuntimeError: the checker broke")
if mode == "garbage":
    print("this is not JSON")
if mode == "hang":
    time.sleep(60)
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for folder in ("submission", "source", "results"):
        (tmp_path / folder).mkdir()
    return tmp_path


def _run(root: Path, mode: str, **env: str) -> dict[str, Any]:
    stub = root / "stub.py"
    stub.write_text(_STUB)
    checker = root / "backprop-check"
    checker.write_text(f'#!/bin/sh\nexec {sys.executable} {stub} "$@"\n')
    checker.chmod(0o755)
    environment = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "BACKPROP_CHECK": str(checker),
        "STUB_MODE": mode,
        "STUB_LOG": str(root / "argv.json"),
        "STUB_RESULTS": to_gradescope(BOB),
        **env,
    }
    done = subprocess.run(
        ["bash", str(_DOCS / "run_autograder")],
        env=environment, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results: dict[str, Any] = json.loads((root / "results" / "results.json").read_text())
    assert isinstance(results["score"], float) and isinstance(results["tests"], list)
    return results


def test_the_checkers_results_are_kept_when_some_function_fails(root: Path) -> None:
    (root / "submission" / "hw.py").write_text("def relu(z): return z\n")
    (root / "source" / "grading.toml").write_text('loss = "notes"\n')
    results = _run(root, "ok")
    assert results == json.loads(to_gradescope(BOB))
    argv = json.loads((root / "argv.json").read_text())
    assert argv == [
        str(root / "submission" / "hw.py"), "--config", str(root / "source" / "grading.toml"),
        "--format", "gradescope",
    ]  # fmt: skip
    assert (root / "source").stat().st_mode & 0o077 == 0  # the submission cannot read it


def test_the_one_file_is_found_in_a_folder_and_checkpoints_are_ignored(root: Path) -> None:
    (root / "submission" / "work").mkdir()
    (root / "submission" / "work" / "hw.ipynb").write_text("{}")
    (root / "submission" / "work" / ".ipynb_checkpoints").mkdir()
    (root / "submission" / "work" / ".ipynb_checkpoints" / "hw-checkpoint.ipynb").write_text("{}")
    _run(root, "ok")
    argv = json.loads((root / "argv.json").read_text())
    assert argv[0] == str(root / "submission" / "work" / "hw.ipynb")
    assert "--config" not in argv  # no grading.toml: the checker's defaults


@pytest.mark.parametrize(
    ("files", "env", "expected"),
    [
        ([], {}, "Expected one .py or .ipynb file in the submission, found 0."),
        (["a.py", "b.py"], {}, "found 2: a.py b.py."),
        (["a.py", "b.py"], {"SUBMISSION_NAME": "c.py"}, "Expected c.py in the submission"),
    ],
    ids=["none", "two", "named-but-absent"],
)
def test_a_submission_without_its_one_file_scores_0_and_says_why(
    root: Path, files: list[str], env: dict[str, str], expected: str
) -> None:
    for name in files:
        (root / "submission" / name).write_text("")
    results = _run(root, "ok", **env)
    assert results["score"] == 0 and results["tests"] == []
    assert expected in results["output"]


def test_a_named_file_is_chosen_among_several(root: Path) -> None:
    for name in ("helpers.py", "backprop_hw.py"):
        (root / "submission" / name).write_text("")
    _run(root, "ok", SUBMISSION_NAME="backprop_hw.py")
    assert json.loads((root / "argv.json").read_text())[0].endswith("/backprop_hw.py")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("crash", "The checker failed (exit status 1):\nTraceback"),
        ("garbage", "The checker failed (exit status 0)"),
        ("hang", "Grading took more than its budget of 1 s and was stopped."),
    ],
)
def test_a_grading_that_fails_still_writes_results_that_say_so(
    root: Path, mode: str, expected: str
) -> None:
    (root / "submission" / "hw.py").write_text("")
    results = _run(root, mode, GRADING_BUDGET="1")
    assert results["score"] == 0 and results["tests"] == []
    assert results["stdout_visibility"] == "hidden"
    assert "could not grade" in results["output"] and expected in results["output"]


def test_the_scripts_parse_and_are_executable() -> None:
    for script in ("setup.sh", "run_autograder"):
        path = _DOCS / script
        assert os.access(path, os.X_OK), f"{script} is not executable"
        subprocess.run(["bash", "-n", str(path)], check=True)
