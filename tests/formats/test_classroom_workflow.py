"""docs/github-classroom/classroom.yml: a graded step per function, and its verdict helper."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from backprop import CONTRACT
from checks.formats import to_json
from tests.formats._reports import BOB, BROKEN, CAROL

_WORKFLOW = Path(__file__).parents[2] / "docs" / "github-classroom" / "classroom.yml"
_STEP = re.compile(
    r"^      - name: (\w+)\n"
    r"        id: \1\n"
    r"        uses: classroom-resources/autograding-command-grader@v1\n"
    r"        with:\n"
    r"          test-name: \1\n"
    r"          command: python3 /tmp/backprop-check/verdict\.py \1\n"
    r"          timeout: \d+\n"
    r"          max-score: (\d+(?:\.\d+)?)\n",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def workflow() -> str:
    return _WORKFLOW.read_text(encoding="utf-8")


def test_one_command_grader_step_per_contract_function(workflow: str) -> None:
    steps = _STEP.findall(workflow)
    assert [name for name, _ in steps] == list(CONTRACT)
    assert all(float(score) > 0 for _, score in steps)
    assert workflow.count("autograding-command-grader@v1") == len(CONTRACT)


def test_the_reporter_adds_up_every_step(workflow: str) -> None:
    reporter = workflow[workflow.index("autograding-grading-reporter@v1") :]
    assert re.search(rf"^          runners: {','.join(CONTRACT)}$", reporter, re.MULTILINE)
    for name in CONTRACT:
        line = f'          {name.upper()}_RESULTS: "${{{{steps.{name}.outputs.result}}}}"'
        assert line in reporter.splitlines(), line


def test_grading_runs_once_before_the_steps_and_as_root_when_it_can(workflow: str) -> None:
    grade = workflow.index("--format json")
    assert grade < workflow.index("autograding-command-grader@v1")
    assert 'as_root=(sudo -E env "PATH=$PATH")' in workflow
    assert workflow.count('backprop-check "$SUBMISSION"') == 1


def _verdict(tmp_path: Path, workflow: str, name: str, report: Any) -> tuple[int, str]:
    """Run the workflow's own verdict helper on `report` (None: no report file)."""
    helper = re.search(r"( +)# BEGIN verdict\.py\n.*?# END verdict\.py\n", workflow, re.DOTALL)
    assert helper is not None
    script = tmp_path / "verdict.py"
    script.write_text(textwrap.dedent(helper.group()))
    path = tmp_path / "report.json"
    if report is not None:
        path.write_text(report if isinstance(report, str) else to_json([report]))
    done = subprocess.run(
        [sys.executable, str(script), name, str(path)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def test_the_helper_gives_points_only_for_a_pass(tmp_path: Path, workflow: str) -> None:
    status, output = _verdict(tmp_path, workflow, "relu", BOB)
    assert status == 0 and output.startswith("relu: pass, 1 / 1 points")
    status, output = _verdict(tmp_path, workflow, "dL_dW", BOB)
    assert status == 1
    assert output.splitlines()[:3] == [
        "dL_dW: fail, 0 / 1 points", "  diagnosis: factor-m", "  diagnosis: mutates-input",
    ]  # fmt: skip
    assert "off by a factor m = 3" in output
    for name in ("softmax", "backward"):  # timeout, missing
        assert _verdict(tmp_path, workflow, name, CAROL)[0] == 1


@pytest.mark.parametrize(
    "report",
    [None, "", "not json\n", '{"functions": {}}\n', BROKEN],
    ids=["no-file", "empty", "garbage", "no-function", "grading-failed"],
)
def test_the_helper_gives_no_points_without_positive_evidence(
    tmp_path: Path, workflow: str, report: Any
) -> None:
    status, output = _verdict(tmp_path, workflow, "relu", report)
    assert status == 1
    assert "relu: no verdict came back, so no points" in output
