"""The report's shape is checked once, with messages that name the field."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from checks.formats import DIAGNOSES, check_report, summarize, to_csv, to_json, to_junit
from checks.formats._diagnoses import explain
from tests.formats._reports import ALICE, BOB, BROKEN, CAROL, CLASS, MALLORY, fresh


def _broken(change: str) -> Any:
    report: Any = fresh()[1]
    exec(change, {"r": report, "math": math})
    return report


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ("del r['score']", ValueError, r"`report` has no field `score`"),
        ("r['score'] = '3'", TypeError, r"`report\['score'\]` must be a number, got str"),
        ("r['score'] = True", TypeError, r"must be a number, got bool"),
        ("r['max_score'] = math.nan", ValueError, r"`report\['max_score'\]` must be finite"),
        ("r['functions'] = []", TypeError, r"`report\['functions'\]` must be a mapping"),
        ("r['submission'] = None", TypeError, r"`report\['submission'\]` must be str"),
        (
            "r['functions']['relu']['verdict'] = 'passed'",
            ValueError,
            r"`report\['functions'\]\['relu'\]\['verdict'\]` must be one of pass, fail, "
            r"error, timeout, missing, got `'passed'`",
        ),
        ("del r['functions']['relu']['message']", ValueError, r"has no field `message`"),
        ("r['functions']['relu']['diagnosis'] = [1]", TypeError, r"\['diagnosis'\]` must hold str"),
        ("r['functions']['relu']['points'] = math.inf", ValueError, r"must be finite"),
        ("r['error'] = 3", TypeError, r"`report\['error'\]` must be str or None, got int"),
    ],
    ids=[
        "no-score", "score-str", "score-bool", "max-nan", "functions-list", "submission-none",
        "unknown-verdict", "no-message", "diagnosis-int", "points-inf", "error-int",
    ],
)  # fmt: skip
def test_a_malformed_report_is_refused_naming_the_field(
    change: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        check_report(_broken(change))


def test_a_single_report_where_a_list_is_expected_says_so() -> None:
    for writer in (to_json, to_junit, to_csv, summarize):
        with pytest.raises(TypeError, match=r"got a single report .* wrap it in a list"):
            writer(ALICE)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"`reports\[1\]` must be a mapping, got int"):
        to_json([ALICE, 3])  # type: ignore[list-item]


def test_extra_fields_are_accepted_and_kept_by_json() -> None:
    report: Any = fresh()[0]
    report["seed"] = 12345
    assert json.loads(to_json([report]))["seed"] == 12345


def test_summary_counts_per_student_function_and_diagnosis() -> None:
    summary = summarize(CLASS)
    assert summary["submissions"] == 5
    students = {s["submission"]: s for s in summary["students"]}
    assert students["alice.py"]["failed"] == []
    assert students["bob/solution.py"]["failed"] == ["dL_daL", "dL_dW", "dL_db", "backward"]
    assert students["bob/solution.py"]["not_passed"] == {
        "fail": ["dL_daL", "dL_dW", "dL_db"],
        "error": ["backward"],
    }
    assert students["alice.py"]["not_passed"] == {}
    assert students["bob/solution.py"]["score"] == 2.5
    assert students["dave.py"]["error"] == BROKEN["error"]
    assert students[MALLORY["submission"]]["failed"] == ["relu", "softmax"]

    # Four graded submissions: the broken one has no verdicts and counts nowhere.
    dL_dW = summary["functions"]["dL_dW"]
    assert (dL_dW["graded"], dL_dW["passed"], dL_dW["pass_rate"]) == (4, 2, 0.5)
    assert dL_dW["verdicts"] == {"pass": 2, "fail": 2, "error": 0, "timeout": 0, "missing": 0}
    assert list(dL_dW["diagnoses"].items()) == [("factor-m", 2), ("mutates-input", 1)]
    assert summary["functions"]["softmax"]["verdicts"]["timeout"] == 1
    assert summary["functions"]["backward"]["verdicts"]["missing"] == 1

    # Most common first; ties keep the order in which they first appear.
    assert list(summary["diagnoses"]) == [
        "factor-m", "softmax-jacobian-diagonal", "mutates-input", "bias-shape", "<b>x</b>",
    ]  # fmt: skip
    assert summary["diagnoses"]["factor-m"] == {"submissions": 2, "functions": {"dL_dW": 2}}


def test_a_diagnosis_on_several_functions_counts_its_submission_once() -> None:
    report: Any = fresh()[2]
    report["functions"]["dL_db"].update(verdict="fail", points=0.0, diagnosis=["factor-m"])
    summary = summarize([report, BOB])
    assert summary["diagnoses"]["factor-m"] == {
        "submissions": 2, "functions": {"dL_dW": 2, "dL_db": 1},
    }  # fmt: skip


def test_summary_is_plain_json_data_and_deterministic() -> None:
    assert json.dumps(summarize(CLASS)) == json.dumps(summarize(fresh()))
    assert summarize([]) == {"submissions": 0, "students": [], "functions": {}, "diagnoses": {}}
    assert summarize([CAROL])["functions"]["softmax"]["pass_rate"] == 0.0


def test_every_contract_diagnosis_is_explained_and_an_unknown_one_is_not() -> None:
    assert all(explain(identifier) for identifier in DIAGNOSES)
    assert explain("factor-m").startswith("off by exactly a factor m or 1/m")
    assert explain("no-such-mistake") == ""


def test_every_format_records_the_isolation_a_submission_got() -> None:
    from checks.formats import to_gradescope, to_html, to_markdown, to_text

    said = "none: NOT ISOLATED <&> \x1b[31m"
    report: Any = fresh()[0]
    report["isolation"] = said
    shown = "none: NOT ISOLATED"
    assert f"isolation: {shown}" in to_text(report, color=False)
    assert shown in to_markdown([report]) and shown in to_html([report])
    assert "&lt;&amp;&gt;" in to_html([report])  # escaped like any text of the submission
    assert f'name="isolation" value="{shown} &lt;&amp;&gt;' in to_junit([report])
    extra = json.loads(to_gradescope(report))["extra_data"]
    assert extra["isolation"].startswith(shown)
    assert json.loads(to_json([report]))["isolation"] == said
    report["isolation"] = 3
    with pytest.raises(TypeError, match=r"`report\['isolation'\]` must be str or None"):
        check_report(report)
