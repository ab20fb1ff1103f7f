"""What a student reads: log guards, cascades, fixed depths, notebooks that keep going,
files that do not follow the contract, and the snippet that pastes (issue 12)."""

from __future__ import annotations

from pathlib import Path

from checks.grader.config import Config
from tests.grader.test_grade import grade, submission, verdicts

GUARDED = {
    "loss": """
        def loss(y_hat, y):
            m = y.shape[1]
            return -np.sum(y * np.log(y_hat + 1e-7) + (1 - y) * np.log(1 - y_hat + 1e-7)) / m
    """,
    "dL_dyhat": """
        def dL_dyhat(y_hat, y):
            return ((1 - y) / (1 - y_hat) - y / (y_hat + 1e-8)) / y.shape[1]
    """,
}


def test_a_log_guard_passes_with_a_note_naming_its_epsilon(tmp_path: Path) -> None:
    report = grade(submission(tmp_path, **GUARDED))
    assert set(verdicts(report).values()) == {"pass"}
    functions = report["functions"]
    assert "ε = 1e-07 inside both logarithms" in functions["loss"]["message"]
    assert "ε = 1e-08 to the denominator y/(ŷ + ε)" in functions["dL_dyhat"]["message"]
    # dL_daL and backward go through the guarded dL_dyhat: the same guard, the same note
    assert "ε = 1e-08" in functions["backward"]["message"]


def test_a_log_guard_fails_when_the_configuration_is_strict(tmp_path: Path) -> None:
    report = grade(submission(tmp_path, **GUARDED), Config(examples=4, log_epsilon="strict"))
    for fid in ("loss", "dL_dyhat", "dL_daL", "backward"):
        result = report["functions"][fid]
        assert result["verdict"] == "fail", fid
        assert result["diagnosis"] == ["log-epsilon"], fid
    assert "derivation itself" not in report["functions"]["dL_dyhat"]["message"]
