"""Gradescope's `results.json`, one per submission, as its autograder reads it."""

from __future__ import annotations

import json
from typing import Any, Final, Literal, get_args

from checks.formats._diagnoses import explain
from checks.formats._escape import number, printable
from checks.formats._markdown import code_block, code_span
from checks.grader.report import FunctionResult, Report, check_report

__all__ = ["Visibility", "gradescope_failure", "to_gradescope"]

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
_VISIBILITIES: Final = get_args(Visibility)


def _check_visibility(value: object, argument: str) -> None:
    if value not in _VISIBILITIES:
        raise ValueError(f"`{argument}` must be one of {', '.join(_VISIBILITIES)}, got `{value!r}`")


def _feedback(result: FunctionResult) -> str:
    """What the student reads for one function, in Markdown."""
    verdict = result["verdict"]
    parts = [f"**{verdict}**: {number(result['points'])} / {number(result['max_points'])} points"]
    for diagnosis in result["diagnosis"]:
        meaning = explain(diagnosis)
        parts.append(f"- {code_span(diagnosis)}" + (f": {meaning}" if meaning else ""))
    if result["message"].strip():
        parts.append(code_block(result["message"]))
    return "\n\n".join(parts)


def to_gradescope(
    report: Report,
    *,
    visibility: Visibility = "visible",
    hidden_visibility: Visibility = "after_published",
) -> str:
    """Gradescope's `results.json` for one submission.

    One test per contract function, in the report's order: its name, a number (the sort
    key), score and max_score, status (`passed` only for a `pass` verdict), the
    diagnoses and message in Markdown, tags, and a visibility. The top-level score is
    the report's; the autograder's own stdout is hidden from students.

    Parameters
    ----------
    report : Report
        The grading of one submission. When grading itself failed (`error` set) and no
        function was graded, the result is that of `gradescope_failure`.
    visibility : {"visible", "after_due_date", "after_published", "hidden"}
        Of the whole result and of every test not marked `hidden` in the report.
    hidden_visibility : {"after_published", "after_due_date", "hidden", "visible"}
        Of the tests marked `hidden`. Gradescope also hides the total score from a
        student while any test is hidden, so hidden points cannot be inferred from it.

    Returns
    -------
    str
        The JSON text of `results.json`.
    """
    _check_visibility(visibility, "visibility")
    _check_visibility(hidden_visibility, "hidden_visibility")
    report = check_report(report)
    error = report.get("error")
    if error and not report["functions"]:
        return gradescope_failure(error)
    tests: list[dict[str, Any]] = []
    shown: list[str] = []
    # Zero-padded, so that the order is right whether Gradescope sorts numbers or strings.
    digits = len(str(len(report["functions"])))
    for number_, (name, result) in enumerate(report["functions"].items(), start=1):
        hidden = result.get("hidden", False)
        if not hidden and result["verdict"] != "pass":
            shown.append(f"{code_span(name)} ({result['verdict']})")
        tests.append(
            {
                "name": printable(name),
                "number": f"{number_:0{digits}d}",
                "score": float(result["points"]),
                "max_score": float(result["max_points"]),
                "status": "passed" if result["verdict"] == "pass" else "failed",
                "output": _feedback(result),
                "output_format": "md",
                "tags": [printable(tag) for tag in result.get("tags", [])],
                "visibility": hidden_visibility if hidden else visibility,
                "extra_data": {"verdict": result["verdict"], "diagnosis": result["diagnosis"]},
            }
        )
    # The overall output never mentions hidden tests: it shows whenever the result does.
    output = ["Every visible check passed." if not shown else "Not passed: " + ", ".join(shown)]
    if any(result.get("hidden", False) for result in report["functions"].values()):
        output.append("Some checks are hidden until grades are published.")
    if error:
        output += ["Grading failed part-way (not a mistake of yours):", code_block(error)]
    results = {
        "score": float(report["score"]),
        "output": "\n\n".join(output),
        "output_format": "md",
        "test_output_format": "md",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "extra_data": {
            "submission": printable(report["submission"]),
            **({"isolation": printable(str(report["isolation"]))} if "isolation" in report else {}),
        },
        "tests": tests,
    }
    return json.dumps(results, indent=2, allow_nan=False) + "\n"


def gradescope_failure(message: str) -> str:
    """Gradescope's `results.json` when grading itself failed: score 0, and why.

    Parameters
    ----------
    message : str
        What went wrong (a traceback is fine: it is shown in a code block).

    Returns
    -------
    str
        Valid `results.json` text that tells the student the fault is not theirs and to
        contact the course staff, with `message` for the staff.
    """
    if not isinstance(message, str):
        raise TypeError(f"`message` must be str, got {type(message).__name__}")
    output = (
        "**The autograder could not grade this submission.** This is not a verdict on "
        "your code: please contact the course staff, or resubmit if they ask you to.\n\n"
        + code_block(message or "(no explanation)")
    )
    results = {
        "score": 0.0,
        "output": output,
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"error": printable(message)},
        "tests": [],
    }
    return json.dumps(results, indent=2) + "\n"
