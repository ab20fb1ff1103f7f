"""The terminal report, and JSON lines."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable
from typing import Final

from checks.formats._escape import number, one_line, printable
from checks.formats._summary import summarize
from checks.grader.report import Report, Verdict, check_report, check_reports

__all__ = ["to_json", "to_text", "to_text_summary"]

_RESET: Final = "\x1b[0m"
_STYLE: Final[dict[str, str]] = {
    "pass": "\x1b[32m",
    "fail": "\x1b[1;31m",
    "error": "\x1b[1;35m",
    "timeout": "\x1b[1;33m",
    "missing": "\x1b[2m",
    "bold": "\x1b[1m",
    "diagnosis": "\x1b[36m",
}


def _paint(text: str, style: str, color: bool) -> str:
    return f"{_STYLE[style]}{text}{_RESET}" if color else text


def _verdict(verdict: Verdict, color: bool) -> str:
    # Padded before painting, so that columns line up with or without colour.
    return _paint(f"{verdict.upper():<7}", verdict, color)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def to_text(report: Report, *, color: bool) -> str:
    """The terminal report of one submission.

    A header with the score, then a line per function (verdict, name, points, diagnosis
    ids), each failure followed by its message, indented. Verdicts are words, so the
    report reads the same without colour.

    Parameters
    ----------
    report : Report
        The grading of one submission.
    color : bool
        Colour verdicts and diagnoses with ANSI escapes (for a terminal that shows them).

    Returns
    -------
    str
        The report, ending with a newline. Text from the submission is made inert first
        (`printable`): it cannot move the cursor or change colours.
    """
    report = check_report(report)
    head = f"{one_line(report['submission'])}: {number(report['score'])} / "
    lines = [_paint(head + f"{number(report['max_score'])} points", "bold", color)]
    if report.get("error"):
        lines.append(_paint("  grading failed:", "error", color))
        lines.append(textwrap.indent(printable(str(report.get("error"))), "    "))
    if report.get("isolation"):
        lines.append("  isolation: " + one_line(str(report.get("isolation"))))
    functions = report["functions"]
    labels = {
        n: one_line(n) + (" (hidden)" if r.get("hidden") else "") for n, r in functions.items()
    }
    width = max(map(len, labels.values()), default=0)
    for name, result in functions.items():
        points = f"{number(result['points'])} / {number(result['max_points'])}"
        line = f"  {_verdict(result['verdict'], color)}  {labels[name]:<{width}}  {points:>9}"
        if result["diagnosis"]:
            ids = ", ".join(one_line(d) for d in result["diagnosis"])
            line += "  " + _paint(ids, "diagnosis", color)
        lines.append(line.rstrip())
        if result["message"].strip():  # a pass may carry a note (a log guard, float32)
            lines.append(_indent_but_snippets(printable(result["message"].strip("\n")), 11))
    return "\n".join(lines) + "\n"


def _indent_but_snippets(text: str, width: int) -> str:
    """`text` indented by `width`, except a snippet to paste (kept flush left to paste)."""
    out, inside = [], False
    for line in text.split("\n"):
        if line == "# --- paste from here ---":
            inside = True
        out.append(line if inside or not line else " " * width + line)
        if line == "# --- to here ---":
            inside = False
    return "\n".join(out)


def to_text_summary(reports: Iterable[Report], *, color: bool) -> str:
    """The terminal summary of a batch: per student, per function, per diagnosis.

    Parameters
    ----------
    reports : iterable of Report
        One report per submission.
    color : bool
        Colour with ANSI escapes.

    Returns
    -------
    str
        The summary (see `summarize`), ending with a newline.
    """
    summary = summarize(reports)
    lines = [_paint(_plural(summary["submissions"], "submission"), "bold", color)]
    # Long names are not padded to: one hostile name would push every score off screen.
    width = min(32, max((len(one_line(s["submission"])) for s in summary["students"]), default=0))
    for student in summary["students"]:
        score = f"{number(student['score'])} / {number(student['max_score'])}"
        line = f"  {one_line(student['submission']):<{width}}  {score:>9}"
        if student["error"]:
            line += "  " + _paint(f"grading failed: {one_line(student['error'])}", "error", color)
        else:
            line += "".join(
                f"  {verdict}: " + ", ".join(names)
                for verdict, names in student["not_passed"].items()
            )
        lines.append(line)
    if summary["functions"]:
        lines.append(_paint("per function: pass rate, most common diagnoses", "bold", color))
        width = max(len(name) for name in summary["functions"])
        for name, fn in summary["functions"].items():
            rate = f"{fn['passed']}/{fn['graded']} {fn['pass_rate']:>4.0%}"
            common = ", ".join(f"{one_line(d)} ({n})" for d, n in list(fn["diagnoses"].items())[:3])
            lines.append(f"  {name:<{width}}  {rate:>12}  {common}".rstrip())
    if summary["diagnoses"]:
        lines.append(_paint("most common diagnoses", "bold", color))
        for diagnosis, seen in summary["diagnoses"].items():
            where = ", ".join(f"{name} ({n})" for name, n in seen["functions"].items())
            ident = _paint(one_line(diagnosis), "diagnosis", color)
            count = _plural(seen["submissions"], "submission")
            lines.append(f"  {ident}: {count}; in {where}")
    return "\n".join(lines) + "\n"


def to_json(reports: Iterable[Report]) -> str:
    """JSON lines: one JSON object per submission per line, as the contract says.

    Every field of each report is kept (the grader may add some). The output is ASCII
    (`ensure_ascii`), so a lone surrogate from undecodable student output still makes
    valid JSON, and NaN or infinity is refused (`allow_nan=False`): JSON has neither.

    Returns
    -------
    str
        One line per report, each ending with a newline; empty for no reports.
    """
    return "".join(
        json.dumps(report, allow_nan=False, separators=(", ", ": ")) + "\n"
        for report in check_reports(reports)
    )
