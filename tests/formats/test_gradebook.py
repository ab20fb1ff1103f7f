"""`read_roster` and `to_gradebook`: the class's grades by student, in an LMS's columns."""

from __future__ import annotations

import csv
import io

import pytest

from checks.formats import RosterError, read_roster, to_gradebook
from tests.formats._reports import ALICE, BOB, CAROL

ROSTER = (
    "\ufeffStudent_ID,Name,Email,Submission,Section\n"
    "s1,Alice Liddell,alice@uni.edu,alice.py,A\n"
    "s2,Bob Stone,bob@uni.edu,bob/solution.py,A\n"
    "s3,=HYPERLINK(1),dee@uni.edu,dee.py,B\n"
)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_one_row_per_student_in_the_rosters_order_then_the_unclaimed() -> None:
    roster = read_roster(ROSTER)
    rows = _rows(to_gradebook([CAROL, BOB, ALICE], roster))
    assert rows[0][:6] == ["student_id", "name", "email", "submission", "score", "max_score"]
    assert [r[0] for r in rows[1:]] == ["s1", "s2", "s3", ""]
    assert rows[1][3:6] == ["alice.py", "7", "7"]
    assert rows[2][3:5] == [BOB["submission"], "2.5"]  # a folder, claimed by its file's path
    assert rows[3][1] == "'=HYPERLINK(1)"  # never a formula to a spreadsheet
    assert rows[3][4] == ""  # no submission: no grade, not 0
    assert rows[4][3] == CAROL["submission"] and rows[4][:3] == ["", "", ""]


@pytest.mark.parametrize(
    ("lms", "header", "alice"),
    [
        ("gradescope", ["Name", "SID", "Email", "Total Score"], ["Alice Liddell", "s1"]),
        (
            "canvas",
            ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "HW3"],
            ["Alice Liddell", ""],
        ),
        ("moodle", ["ID number", "Full name", "Email address", "HW3"], ["s1", "Alice Liddell"]),
    ],
)  # fmt: skip
def test_each_lms_gets_its_import_columns_and_only_students(
    lms: str, header: list[str], alice: list[str]
) -> None:
    rows = _rows(to_gradebook([ALICE, BOB, CAROL], read_roster(ROSTER), lms=lms, assignment="HW3"))
    assert rows[0] == header
    assert rows[1][:2] == alice and rows[1][-1] == "7"
    assert len(rows) == 4  # the three students; CAROL belongs to no one, so no LMS row


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,name,email,submission\n", "no column `student_id`"),
        ("student_id,name,email,submission\n", "no student"),
        ("student_id,name,email,submission\ns1,A,a@x,\n", "line 2: `submission` is empty"),
        ("student_id,name,email,submission\ns1,A,a@x,a.py\ns2,B,b@x,a.py\n", "line 3"),
    ],
)
def test_a_bad_roster_is_refused_naming_the_line_and_column(text: str, message: str) -> None:
    with pytest.raises(RosterError, match=message):
        read_roster(text, "roster.csv")


def test_a_submission_claimed_twice_is_refused() -> None:
    roster = read_roster("student_id,name,email,submission\na,A,,alice.py\nb,B,,x/alice.py\n")
    with pytest.raises(RosterError, match="several students"):
        to_gradebook([ALICE], roster)
