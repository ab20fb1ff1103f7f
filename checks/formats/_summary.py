"""The class at a glance: per student and per function, from a batch of reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TypedDict

from checks.grader.report import VERDICTS, Report, Verdict, check_reports, function_names

__all__ = ["DiagnosisSummary", "FunctionSummary", "StudentSummary", "Summary", "summarize"]


class StudentSummary(TypedDict):
    """One submission: its score and what it lost points on."""

    submission: str
    score: float
    max_score: float
    failed: list[str]
    """Functions whose verdict is not `pass`, in the report's order."""
    not_passed: dict[Verdict, list[str]]
    """The same functions by verdict (`fail`, `error`, `timeout`, `missing`: only those
    present), so that a wrong result, a crash, a hang and an absence read apart."""
    error: str | None
    """Why grading itself failed, if it did."""


class FunctionSummary(TypedDict):
    """One contract function across the class."""

    graded: int
    """Submissions with a verdict on it (grading that failed gives none)."""
    passed: int
    pass_rate: float
    """`passed / graded`, in [0, 1]."""
    verdicts: dict[Verdict, int]
    """How many of each verdict, every verdict present."""
    diagnoses: dict[str, int]
    """Submissions showing each diagnosis on this function, most common first."""


class DiagnosisSummary(TypedDict):
    """One recognised mistake across the class."""

    submissions: int
    """Submissions showing it on at least one function."""
    functions: dict[str, int]
    """Where it shows: submissions per function, most common first."""


class Summary(TypedDict):
    """What `summarize` returns: plain data, ready for `json.dumps`."""

    submissions: int
    students: list[StudentSummary]
    """In the order of the reports."""
    functions: dict[str, FunctionSummary]
    """In order of first appearance in the reports."""
    diagnoses: dict[str, DiagnosisSummary]
    """Most common first."""


def summarize(reports: Iterable[Report]) -> Summary:
    """Summarize a batch of reports: per student, per function and per diagnosis.

    Parameters
    ----------
    reports : iterable of Report
        One report per submission.

    Returns
    -------
    Summary
        Per student the score and the functions that failed; per function the pass rate,
        the count of each verdict and the most common diagnoses; per diagnosis how many
        submissions show it and where. Ties keep the order of first appearance, so the
        same reports always give the same summary.
    """
    checked = check_reports(reports)
    names = function_names(checked)
    verdicts: dict[str, Counter[Verdict]] = {name: Counter() for name in names}
    by_function: dict[str, Counter[str]] = {name: Counter() for name in names}
    by_diagnosis: dict[str, Counter[str]] = {}
    submissions: Counter[str] = Counter()
    students: list[StudentSummary] = []
    for report in checked:
        seen: set[str] = set()
        for name, result in report["functions"].items():
            verdicts[name][result["verdict"]] += 1
            for diagnosis in dict.fromkeys(result["diagnosis"]):
                by_function[name][diagnosis] += 1
                by_diagnosis.setdefault(diagnosis, Counter())[name] += 1
                seen.add(diagnosis)
        submissions.update(seen)
        students.append(
            StudentSummary(
                submission=report["submission"],
                score=report["score"],
                max_score=report["max_score"],
                failed=[n for n, r in report["functions"].items() if r["verdict"] != "pass"],
                not_passed=_by_verdict(report),
                error=report.get("error"),
            )
        )
    functions: dict[str, FunctionSummary] = {}
    for name in names:
        graded = sum(verdicts[name].values())
        functions[name] = FunctionSummary(
            graded=graded,
            passed=verdicts[name]["pass"],
            pass_rate=verdicts[name]["pass"] / graded,
            verdicts={v: verdicts[name][v] for v in VERDICTS},
            diagnoses=dict(by_function[name].most_common()),
        )
    order = sorted(by_diagnosis, key=lambda d: -submissions[d])  # stable: ties keep order
    return Summary(
        submissions=len(checked),
        students=students,
        functions=functions,
        diagnoses={
            d: DiagnosisSummary(
                submissions=submissions[d], functions=dict(by_diagnosis[d].most_common())
            )
            for d in order
        },
    )


def _by_verdict(report: Report) -> dict[Verdict, list[str]]:
    found: dict[Verdict, list[str]] = {}
    for name, result in report["functions"].items():
        if result["verdict"] != "pass":
            found.setdefault(result["verdict"], []).append(name)
    return {v: found[v] for v in VERDICTS if v in found}
