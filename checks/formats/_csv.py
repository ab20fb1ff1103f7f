"""A gradebook in CSV: one row per submission, one column per function."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Final

from checks.formats._escape import exact_number, one_line
from checks.grader.report import Report, check_reports, function_names

__all__ = ["to_csv"]

# A cell starting with one of these is a formula to a spreadsheet ("CSV injection").
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "\n")


def _text_cell(text: str) -> str:
    text = one_line(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(reports: Iterable[Report]) -> str:
    """A gradebook: columns submission, score, max_score, then the points of each function.

    Functions are the columns in order of first appearance; a cell is empty where a
    submission has no verdict on that function (grading failed). Numbers are written
    so that they read back exactly (`0.3333333333333333`, `1`).

    Returns
    -------
    str
        CSV text (the `csv` module's default dialect, `\\r\\n` line ends). A submission
        name that a spreadsheet would run as a formula (`=...`, `+...`, `-...`, `@...`)
        is prefixed with `'`, as OWASP advises against CSV injection.
    """
    checked = check_reports(reports)
    names = function_names(checked)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", "score", "max_score", *map(_text_cell, names)])
    for report in checked:
        points = [
            exact_number(report["functions"][name]["points"]) if name in report["functions"] else ""
            for name in names
        ]
        writer.writerow(
            [
                _text_cell(report["submission"]),
                exact_number(report["score"]),
                exact_number(report["max_score"]),
                *points,
            ]
        )
    return buffer.getvalue()
