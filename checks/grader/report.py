"""The report of one graded submission, as the grader hands it to every writer.

The shape is the contract's JSON report (docs/contract.md, "The JSON
report") plus a few optional fields. Writers only read it; they accept any
mapping of this shape and ignore fields they do not know.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal, NotRequired, TypedDict

__all__ = [
    "NOT_LOADED",
    "VERDICTS",
    "FunctionResult",
    "Report",
    "Verdict",
    "check_report",
    "check_reports",
    "function_names",
]

Verdict = Literal["pass", "fail", "error", "timeout", "missing"]

VERDICTS: Final[tuple[Verdict, ...]] = ("pass", "fail", "error", "timeout", "missing")

#: The message of every function but the first of a submission that did not load: the
#: reason is said once, in full, with the first function.
NOT_LOADED: Final = "not graded: the submission did not load (see the first function)"


class FunctionResult(TypedDict):
    """The verdict on one contract function of one submission."""

    verdict: Verdict
    points: float
    max_points: float
    diagnosis: list[str]
    """Stable identifiers of recognised mistake shapes (`factor-m`, `sign`, ...); may be empty."""
    message: str
    """Human-readable explanation, with the shrunk counterexample; may be empty on a pass."""
    hidden: NotRequired[bool]
    """Hidden from students by the instructor's configuration (default: visible)."""
    tags: NotRequired[list[str]]


class Report(TypedDict):
    """The grading of one submission: the contract's JSON report, one per submission."""

    submission: str
    score: float
    max_score: float
    functions: dict[str, FunctionResult]
    """Keyed by contract name, in the contract's order."""
    output: NotRequired[str]
    """What the submission printed, capped by the grader."""
    error: NotRequired[str | None]
    """Set when grading itself failed (not the submission): why."""
    isolation: NotRequired[str]
    """How the submission was run: ``bubblewrap: ...`` (what it could see, its limits)
    or ``none: NOT ISOLATED ...``; absent when it was not run."""


_REQUIRED: Final = {"submission": str, "score": float, "max_score": float, "functions": dict}
_FUNCTION_REQUIRED: Final = {
    "verdict": str,
    "points": float,
    "max_points": float,
    "diagnosis": list,
    "message": str,
}


def _check_number(value: object, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"`{where}` must be a number, got {type(value).__name__} `{value!r}`")
    if not math.isfinite(value):
        raise ValueError(f"`{where}` must be finite, got `{value!r}`")


def _check_field(container: Mapping[str, Any], key: str, kind: type, where: str) -> None:
    if key not in container:
        raise ValueError(f"`{where}` has no field `{key}`")
    value = container[key]
    if kind is float:
        _check_number(value, f"{where}[{key!r}]")
    elif kind is dict:
        if not isinstance(value, Mapping):
            raise TypeError(f"`{where}[{key!r}]` must be a mapping, got {type(value).__name__}")
    elif not isinstance(value, kind):
        raise TypeError(
            f"`{where}[{key!r}]` must be {kind.__name__}, got {type(value).__name__} `{value!r}`"
        )


def check_report(report: object, argument: str = "report") -> Report:
    """Check that `report` has the shape of a `Report`, and return it.

    Parameters
    ----------
    report : object
        What the grader produced for one submission.
    argument : str
        The name to use for it in error messages.

    Returns
    -------
    Report
        `report` itself, typed.

    Raises
    ------
    TypeError
        When `report` or one of its fields has the wrong type.
    ValueError
        When a required field is missing, a number is not finite, or a verdict unknown.
    """
    if not isinstance(report, Mapping):
        raise TypeError(f"`{argument}` must be a mapping, got {type(report).__name__}")
    for key, kind in _REQUIRED.items():
        _check_field(report, key, kind, argument)
    for name, result in report["functions"].items():
        where = f"{argument}['functions'][{name!r}]"
        if not isinstance(name, str):
            raise TypeError(f"function names in `{argument}` must be str, got `{name!r}`")
        if not isinstance(result, Mapping):
            raise TypeError(f"`{where}` must be a mapping, got {type(result).__name__}")
        for key, kind in _FUNCTION_REQUIRED.items():
            _check_field(result, key, kind, where)
        if result["verdict"] not in VERDICTS:
            raise ValueError(
                f"`{where}['verdict']` must be one of {', '.join(VERDICTS)}, "
                f"got `{result['verdict']!r}`"
            )
        if not all(isinstance(d, str) for d in result["diagnosis"]):
            raise TypeError(f"`{where}['diagnosis']` must hold str, got `{result['diagnosis']!r}`")
    for key in ("output", "error", "isolation"):
        value = report.get(key)
        if value is not None and not isinstance(value, str):
            raise TypeError(
                f"`{argument}[{key!r}]` must be str or None, got {type(value).__name__}"
            )
    return report  # type: ignore[return-value]


def check_reports(reports: object, argument: str = "reports") -> list[Report]:
    """Check a sequence of reports (see `check_report`) and return them as a list.

    A single report passed where a sequence is expected is a `TypeError` that says so,
    rather than a puzzling error about its keys.
    """
    if isinstance(reports, Mapping):
        raise TypeError(
            f"`{argument}` must be a sequence of reports, got a single report (a mapping); "
            "wrap it in a list"
        )
    if isinstance(reports, str | bytes) or not isinstance(reports, Iterable):
        raise TypeError(f"`{argument}` must be a sequence of reports, got {type(reports).__name__}")
    checked = list(reports)
    for i, report in enumerate(checked):
        check_report(report, f"{argument}[{i}]")
    return checked


def function_names(reports: Sequence[Report]) -> list[str]:
    """Every function named in `reports`, in order of first appearance."""
    names: dict[str, None] = {}
    for report in reports:
        names.update(dict.fromkeys(report["functions"]))
    return list(names)
