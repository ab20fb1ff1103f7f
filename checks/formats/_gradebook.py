"""A class's grades by student, from a roster, in the columns an LMS imports.

A roster is a CSV file with a header and the columns `student_id`, `name`, `email` and
`submission` (the student's file or folder in the graded folder, e.g. `alice.py`,
`hw3-alice` or `hw3-alice/backprop_hw.py`); other columns are ignored. `to_gradebook`
writes one row per student of the roster, in its order, then any submission that no
student of the roster claims.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Final

from checks.formats._csv import _text_cell
from checks.formats._escape import exact_number
from checks.grader.report import Report, check_reports, function_names

__all__ = ["LMS", "RosterError", "Student", "match_roster", "read_roster", "to_gradebook"]

_COLUMNS: Final = ("student_id", "name", "email", "submission")

LMS: Final = ("gradescope", "canvas", "moodle")
"""The gradebook layouts `to_gradebook` writes besides its own (`None`)."""


class RosterError(ValueError):
    """A roster that cannot be used; the message names the file, row and column."""


@dataclass(frozen=True)
class Student:
    """One row of the roster."""

    id: str
    name: str
    email: str
    submission: str
    """The student's file or folder, as a path relative to the graded folder."""

    def claims(self, submission: str) -> bool:
        """Whether the report named `submission` (the path as graded) is this student's.

        The report of a folder `.../hw3-alice` or a file `.../alice.py` is claimed by a
        roster entry whose path holds that name: `hw3-alice`, `hw3-alice/hw.py`,
        `alice.py`.
        """
        return PurePath(submission).name in PurePath(self.submission).parts


def read_roster(text: str, source: str = "roster") -> list[Student]:
    """Parse a roster (module docstring); raise `RosterError` naming what is wrong."""
    rows = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a BOM
    header = {(name or "").strip().lower(): name for name in rows.fieldnames or ()}
    missing = [column for column in _COLUMNS if column not in header]
    if missing:
        raise RosterError(
            f"{source}: no column `{missing[0]}` in the header (it needs "
            f"{', '.join(_COLUMNS)}; found {', '.join(header) or 'none'})"
        )
    students = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        values = {c: (row.get(header[c]) or "").strip() for c in _COLUMNS}
        if not any(values.values()):
            continue
        if not values["submission"]:
            raise RosterError(f"{source}, line {number}: `submission` is empty")
        if values["submission"] in seen:
            raise RosterError(
                f"{source}, line {number}: `submission` {values['submission']!r} is already "
                f"line {seen[values['submission']]}'s"
            )
        seen[values["submission"]] = number
        students.append(Student(values["student_id"], values["name"], values["email"],
                                values["submission"]))  # fmt: skip
    if not students:
        raise RosterError(f"{source}: no student in it")
    return students


def match_roster(
    roster: Sequence[Student], submissions: Iterable[str]
) -> tuple[dict[str, Student], list[Student], list[str]]:
    """Pair reports with students: (student by submission, students without, unclaimed)."""
    owner: dict[str, Student] = {}
    unclaimed = []
    for submission in submissions:
        claiming = [s for s in roster if s.claims(submission)]
        if len(claiming) > 1:
            ids = ", ".join(s.id or s.name for s in claiming)
            raise RosterError(f"`{submission}` is claimed by several students of the roster: {ids}")
        if claiming:
            owner[submission] = claiming[0]
        else:
            unclaimed.append(submission)
    claimed = set(map(id, owner.values()))
    absent = [s for s in roster if id(s) not in claimed]
    return owner, absent, unclaimed


def to_gradebook(
    reports: Iterable[Report],
    roster: Sequence[Student],
    *,
    lms: str | None = None,
    assignment: str = "backprop-check",
) -> str:
    """The class's grades, one row per student of `roster`, in an LMS's import layout.

    Parameters
    ----------
    reports : iterable of Report
        The class's reports.
    roster : sequence of Student
        From `read_roster`.
    lms : {None, "gradescope", "canvas", "moodle"}
        The columns. None: `student_id, name, email, submission, score, max_score`, then
        the points of each function. `gradescope`: `Name, SID, Email, Total Score` (the
        columns of Gradescope's grade import). `canvas`: `Student, ID, SIS User ID, SIS
        Login ID, Section`, then the assignment's column, headed `ASSIGNMENT` (Canvas's
        gradebook CSV; `ID` left empty, students matched by SIS id). `moodle`: `ID number,
        Full name, Email address`, then the grade, headed `ASSIGNMENT` (map either
        identifier in Moodle's CSV grade import).
    assignment : str
        The grade column's title for Canvas and Moodle.

    Returns
    -------
    str
        CSV text. A student of the roster without a submission gets an empty grade (not
        0: the LMS then shows "not submitted", and the instructor decides); a submission
        no student claims gets a row of its own, without identity, at the end (not in
        an LMS's layout, which could not import it). Text that
        a spreadsheet would run as a formula is prefixed with `'`.

    Notes
    -----
    Gradebooks differ in the header they import, not in what a grade is: one function
    keeps their columns side by side, so that a course changing LMS changes one word.
    """
    if lms is not None and lms not in LMS:
        raise ValueError(f"`lms` must be one of {', '.join(LMS)} or None, got {lms!r}")
    checked = check_reports(reports)
    by_name = {r["submission"]: r for r in checked}
    owner, _, unclaimed = match_roster(roster, by_name)
    report_of = {id(student): by_name[name] for name, student in owner.items()}
    names = function_names(checked)
    rows: list[tuple[Student | None, Report | None]] = [(s, report_of.get(id(s))) for s in roster]
    if lms is None:  # an LMS cannot import a row without a student: the caller warns
        rows += [(None, by_name[name]) for name in unclaimed]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = {
        None: ["student_id", "name", "email", "submission", "score", "max_score", *names],
        "gradescope": ["Name", "SID", "Email", "Total Score"],
        "canvas": ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment],
        "moodle": ["ID number", "Full name", "Email address", assignment],
    }[lms]
    writer.writerow([_text_cell(h) for h in header])
    for student, report in rows:
        sid, name, email = (student.id, student.name, student.email) if student else ("", "", "")
        score = exact_number(report["score"]) if report else ""
        if lms is None:
            where = report["submission"] if report else student.submission if student else ""
            points = [
                exact_number(report["functions"][n]["points"])
                if report and n in report["functions"]
                else ""
                for n in names
            ]
            total = exact_number(report["max_score"]) if report else ""
            row = [sid, name, email, where, score, total, *points]
        elif lms == "gradescope":
            row = [name, sid, email, score]
        elif lms == "canvas":
            row = [name, "", sid, email, "", score]
        else:
            row = [sid, name, email, score]
        writer.writerow([_text_cell(cell) for cell in row])
    return buffer.getvalue()
