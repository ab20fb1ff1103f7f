"""`backprop-check classroom-workflow`: Classroom's points come from the configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backprop import CONTRACT
from checks.cli import main

DOCS_WORKFLOW = Path(__file__).parents[2] / "docs" / "github-classroom" / "classroom.yml"
_SCORE = re.compile(r"test-name: (\w+)\n.*?max-score: ([\d.]+)\n", re.DOTALL)


def test_the_docs_workflow_is_the_commands_output_for_the_default_points(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["classroom-workflow"]) == 0
    assert capsys.readouterr().out == DOCS_WORKFLOW.read_text(encoding="utf-8"), (
        "docs/github-classroom/classroom.yml is stale: "
        "backprop-check classroom-workflow > docs/github-classroom/classroom.yml"
    )


def test_max_scores_are_the_configurations_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "grading.toml"
    config.write_text("[points]\nbackward = 4.0\ndL_dW = 2.5\nrelu = 0\n", encoding="utf-8")
    argv = ["classroom-workflow", "--config", str(config), "--submission", "hw3.py"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    scores = dict(_SCORE.findall(out))
    assert list(scores) == [f for f in CONTRACT if f != "relu"]  # 0 points: no step
    assert scores["backward"] == "4" and scores["dL_dW"] == "2.5" and scores["softmax"] == "1"
    assert "  SUBMISSION: hw3.py\n" in out
    assert re.search(r"runners: (\w+,)*\w+\n", out).group().count(",") == len(CONTRACT) - 2


def test_a_bad_configuration_or_name_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[points]\nbackwards = 4\n", encoding="utf-8")
    assert main(["classroom-workflow", "--config", str(config)]) == 2
    assert "backwards" in capsys.readouterr().err
    assert main(["classroom-workflow", "--submission", 'x"; rm -rf /']) == 2
    assert "--submission" in capsys.readouterr().err
