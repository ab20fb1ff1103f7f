"""Markdown for a CI job summary (`$GITHUB_STEP_SUMMARY`), and its escaping helpers."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Final

from checks.formats._diagnoses import explain
from checks.formats._escape import number, printable
from checks.formats._summary import summarize
from checks.grader.report import Report, check_reports, function_names

__all__ = ["code_block", "code_span", "inline", "to_markdown"]

# Markdown punctuation that could start emphasis, code, a link or a table cell, inline.
_MARKDOWN: Final = re.compile(r"([\\`*_\[\]|~])")
_SIGN: Final[dict[str, str]] = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "error": "💥 error",
    "timeout": "⏱️ timeout",
    "missing": "➖ missing",
}


def inline(text: str) -> str:
    """`text` as literal Markdown inline text: one line, no markup, no HTML, safe in a table."""
    one_line = " ".join(printable(text).split())
    return _MARKDOWN.sub(r"\\\1", html.escape(one_line, quote=False))


def code_span(text: str) -> str:
    """`text` as an inline code span, safe in a table cell (its pipes escaped, as GFM asks)."""
    one_line = " ".join(printable(text).split()).replace("|", "\\|")
    if not one_line:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", one_line)), default=0) + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return f"{fence}{pad}{one_line}{pad}{fence}"


def code_block(text: str, info: str = "text") -> str:
    """`text` in a fenced code block, the fence longer than any run of backticks inside."""
    text = printable(text).strip("\n")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _score(report: Report) -> str:
    return f"{number(report['score'])} / {number(report['max_score'])}"


def _details(report: Report) -> list[str]:
    lines = ["| function | verdict | points | diagnosis |", "|---|---|--:|---|"]
    if not report["functions"]:
        lines = []
    for name, result in report["functions"].items():
        hidden = " (hidden)" if result.get("hidden", False) else ""
        ids = ", ".join(f"{code_span(d)}" for d in result["diagnosis"])
        points = f"{number(result['points'])} / {number(result['max_points'])}"
        lines.append(
            f"| {code_span(name)}{hidden} | {_SIGN[result['verdict']]} | {points} | {ids} |"
        )
    for name, result in report["functions"].items():
        if result["verdict"] != "pass" and result["message"].strip():
            lines += [
                "",
                f"**{code_span(name)}**: {result['verdict']}",
                "",
                code_block(result["message"]),
            ]
    if report.get("error"):
        lines += [""] * bool(lines) + ["**Grading failed** (not a mistake of the submission):", ""]
        lines.append(code_block(str(report.get("error"))))
    if report.get("isolation"):
        lines += [""] * bool(lines) + [f"Isolation: {code_span(str(report.get('isolation')))}"]
    return lines


def to_markdown(reports: Iterable[Report]) -> str:
    """A Markdown report for a CI job summary (GitHub's `$GITHUB_STEP_SUMMARY`).

    For one submission: its score and a table of functions (verdict, points, diagnosis),
    then the message of each failure in a code block. For several: a table of
    submissions (score, failed functions), the pass rate and most common diagnoses per
    function, then each submission's table inside a collapsed `<details>`.

    Returns
    -------
    str
        GitHub-flavoured Markdown. Text from submissions is escaped, or fenced in code
        blocks longer than any fence it holds, so it never renders as markup or HTML.
    """
    checked = check_reports(reports)
    if len(checked) == 1:
        report = checked[0]
        title = f"## backprop-check: {inline(report['submission'])}: {_score(report)}"
        return "\n".join([title, "", *_details(report)]) + "\n"
    summary = summarize(checked)
    lines = [f"## backprop-check: {summary['submissions']} submissions", ""]
    lines += ["| submission | score | not passed |", "|---|--:|---|"]
    for student in summary["students"]:
        failed = "; ".join(
            f"{verdict}: " + ", ".join(code_span(name) for name in names)
            for verdict, names in student["not_passed"].items()
        )
        if student["error"]:
            failed = "grading failed"
        score = f"{number(student['score'])} / {number(student['max_score'])}"
        lines.append(f"| {inline(student['submission'])} | {score} | {failed} |")
    if function_names(checked):
        lines += [
            "",
            "| function | passed | pass rate | most common diagnoses |",
            "|---|--:|--:|---|",
        ]
        for name, fn in summary["functions"].items():
            common = ", ".join(
                f"{code_span(d)} ({n})" for d, n in list(fn["diagnoses"].items())[:3]
            )
            rate = f"{fn['pass_rate']:.0%}"
            lines.append(
                f"| {code_span(name)} | {fn['passed']} / {fn['graded']} | {rate} | {common} |"
            )
    if summary["diagnoses"]:
        lines += ["", "| diagnosis | submissions | meaning |", "|---|--:|---|"]
        for diagnosis, seen in summary["diagnoses"].items():
            lines.append(
                f"| {code_span(diagnosis)} | {seen['submissions']} | {inline(explain(diagnosis))} |"
            )
    for report in checked:
        lines += [
            "",
            "<details>",
            f"<summary>{html.escape(printable(report['submission']))}: {_score(report)}</summary>",
            "",
            *_details(report),
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"
