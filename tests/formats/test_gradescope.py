"""Gradescope's results.json: the fields and types its autograder reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backprop import CONTRACT
from checks.formats import gradescope_failure, to_gradescope
from tests.formats._reports import ALICE, BOB, BROKEN, CLASS, HOSTILE, MALLORY, fresh

_VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
_FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def _assert_schema(results: dict[str, Any]) -> None:
    """Every field has the type and value set of Gradescope's specification."""
    assert isinstance(results["score"], float)
    assert isinstance(results["output"], str) and results["output_format"] in _FORMATS
    assert results["visibility"] in _VISIBILITIES
    assert results["stdout_visibility"] == "hidden"
    assert isinstance(results["extra_data"], dict)
    assert isinstance(results["tests"], list)
    for test in results["tests"]:
        assert set(test) <= {
            "name", "number", "score", "max_score", "status", "output", "output_format",
            "tags", "visibility", "extra_data",
        }  # fmt: skip
        assert isinstance(test["name"], str) and isinstance(test["number"], str)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in {"passed", "failed"}
        assert isinstance(test["output"], str) and test["output_format"] == "md"
        assert all(isinstance(tag, str) for tag in test["tags"])
        assert test["visibility"] in _VISIBILITIES


@pytest.mark.parametrize("report", CLASS, ids=lambda r: r["submission"][:12])
def test_every_report_gives_valid_results_json(report: Any) -> None:
    _assert_schema(json.loads(to_gradescope(report)))


def test_a_test_per_function_in_order_with_points_and_status() -> None:
    results = json.loads(to_gradescope(BOB))
    assert results["score"] == 2.5
    tests = results["tests"]
    assert [t["name"] for t in tests] == list(BOB["functions"])
    assert [t["number"] for t in tests] == ["1", "2", "3", "4", "5", "6"]  # 6 tests: 1 digit
    assert [t["status"] for t in tests] == ["passed"] * 2 + ["failed"] * 4
    assert [(t["score"], t["max_score"]) for t in tests][2:5] == [(0, 1), (0, 1), (0.5, 1)]
    assert sum(t["score"] for t in tests) == results["score"]
    assert tests[4]["tags"] == ["backward", "erratum E4"]
    assert tests[3]["extra_data"] == {"verdict": "fail", "diagnosis": ["factor-m", "mutates-input"]}


def test_the_output_names_and_explains_the_diagnosis_and_fences_the_message() -> None:
    output = json.loads(to_gradescope(BOB))["tests"][2]["output"]
    assert output.startswith("**fail**: 0 / 1 points")
    assert "`softmax-jacobian-diagonal`: the softmax Jacobian's diagonal alone" in output
    assert "```text\nexpected [[-0.1]], got [[-0.02]]\n  at index (0, 0)\n" in output


def test_hidden_tests_follow_the_configured_visibility_and_stay_out_of_the_summary() -> None:
    results = json.loads(to_gradescope(BOB))
    visibility = {t["name"]: t["visibility"] for t in results["tests"]}
    assert visibility.pop("dL_db") == "after_published"
    assert set(visibility.values()) == {"visible"}
    assert "dL_db" not in results["output"] and "hidden" in results["output"]
    assert "`dL_daL` (fail)" in results["output"]

    strict = json.loads(to_gradescope(BOB, hidden_visibility="hidden", visibility="after_due_date"))
    assert {t["name"]: t["visibility"] for t in strict["tests"]}["dL_db"] == "hidden"
    assert strict["visibility"] == "after_due_date"
    assert json.loads(to_gradescope(ALICE))["output"] == "Every visible check passed."


@pytest.mark.parametrize("keyword", ["visibility", "hidden_visibility"])
def test_an_unknown_visibility_is_refused(keyword: str) -> None:
    with pytest.raises(ValueError, match=rf"`{keyword}` must be one of .* got `'public'`"):
        to_gradescope(ALICE, **{keyword: "public"})  # type: ignore[arg-type]


def test_hostile_text_cannot_close_the_markdown_fence() -> None:
    results = json.loads(to_gradescope(MALLORY))
    output = results["tests"][0]["output"]
    # HOSTILE holds a run of three backticks: the fence around it must be longer.
    assert "````text\n<script>" in output and output.endswith("\n````")
    assert "\x1b" not in output and "\\x1b[2J" in output
    assert "\x1b" not in json.dumps(results, ensure_ascii=False)
    assert HOSTILE not in json.dumps(results)


def test_a_grading_that_failed_still_gives_valid_results_json() -> None:
    results = json.loads(gradescope_failure("Traceback ...\nOSError: disk full"))
    _assert_schema(results)
    assert results["score"] == 0 and results["tests"] == []
    assert (
        "could not grade" in results["output"] and "not a verdict on your code" in results["output"]
    )
    assert "```text\nTraceback ...\nOSError: disk full\n```" in results["output"]
    assert json.loads(to_gradescope(BROKEN)) == json.loads(
        gradescope_failure(BROKEN["error"] or "")
    )
    with pytest.raises(TypeError, match="`message` must be str, got NoneType"):
        gradescope_failure(None)  # type: ignore[arg-type]


def test_a_grading_that_failed_part_way_keeps_its_tests_and_says_so() -> None:
    report: Any = fresh()[2]
    report["error"] = "worker killed after `softmax`"
    results = json.loads(to_gradescope(report))
    _assert_schema(results)
    assert len(results["tests"]) == 6 and results["score"] == 3
    assert "Grading failed part-way" in results["output"]
    assert "worker killed after `softmax`" in results["output"]


def test_numbers_sort_in_contract_order_as_strings_too() -> None:
    report: Any = fresh()[0]
    report["functions"] = {name: dict(ALICE["functions"]["relu"]) for name in CONTRACT}
    numbers = [t["number"] for t in json.loads(to_gradescope(report))["tests"]]
    assert numbers[0] == "01" and numbers[-1] == "14"
    assert sorted(numbers) == numbers == sorted(numbers, key=float)
