"""The CSV gradebook, parsed back, and the Markdown job summary."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from checks.formats import to_csv, to_markdown
from tests.formats._reports import ALICE, BOB, BROKEN, CAROL, CLASS, FUNCTIONS, MALLORY, fresh


def _rows(reports: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(to_csv(reports), newline="")))


def test_gradebook_has_a_row_per_submission_and_a_column_per_function() -> None:
    text = to_csv(CLASS)
    assert next(csv.reader(io.StringIO(text))) == ["submission", "score", "max_score", *FUNCTIONS]
    rows = _rows(CLASS)
    assert len(rows) == len(CLASS)
    bob = rows[1]
    assert bob["submission"] == "bob/solution.py"
    assert (float(bob["score"]), float(bob["max_score"])) == (2.5, 7)
    assert [float(bob[name]) for name in FUNCTIONS] == [1, 1, 0, 0, 0.5, 0]
    assert [rows[4][name] for name in FUNCTIONS] == [""] * 6  # grading failed: no points


def test_gradebook_numbers_read_back_exactly() -> None:
    report: Any = fresh()[0]
    report["functions"]["relu"]["points"] = 1 / 3
    report["score"] = 6 + 1 / 3
    row = _rows([report])[0]
    assert float(row["relu"]) == 1 / 3 and float(row["score"]) == 6 + 1 / 3
    assert row["max_score"] == "7"


def test_gradebook_defuses_a_submission_name_a_spreadsheet_would_run() -> None:
    name = _rows([MALLORY])[0]["submission"]
    assert name.startswith("'=HYPERLINK(") and "\n" not in name and "\x1b" not in name


def test_gradebook_columns_are_the_union_of_functions_in_order_of_appearance() -> None:
    partial: Any = {**fresh()[0], "functions": {"dL_dW": dict(ALICE["functions"]["dL_dW"])}}
    header = next(csv.reader(io.StringIO(to_csv([partial, CAROL]))))
    assert header[3:] == ["dL_dW", "relu", "softmax", "dL_daL", "dL_db", "backward"]


def _table(markdown: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header starts with `header`, split on `|`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_markdown_for_one_submission_is_a_table_of_functions_then_the_failures() -> None:
    markdown = to_markdown([BOB])
    assert markdown.startswith("## backprop-check: bob/solution.py: 2.5 / 7\n")
    rows = _table(markdown, "| function | verdict")
    assert [r[0] for r in rows] == [f"`{name}`" for name in FUNCTIONS[:4]] + [
        "`dL_db` (hidden)", "`backward`",
    ]  # fmt: skip
    assert rows[2] == ["`dL_daL`", "❌ fail", "0 / 1", "`softmax-jacobian-diagonal`"]
    assert rows[5][1] == "💥 error"
    assert "**`dL_dW`**: fail\n\n```text\noff by a factor m = 3\n```" in markdown


def test_markdown_for_a_class_summarizes_then_details_each_submission() -> None:
    markdown = to_markdown(CLASS)
    students = _table(markdown, "| submission | score")
    assert len(students) == len(CLASS)
    assert students[1] == [
        "bob/solution.py",
        "2.5 / 7",
        "fail: `dL_daL`, `dL_dW`, `dL_db`; error: `backward`",
    ]
    assert students[4][2] == "grading failed"
    functions = {r[0]: r for r in _table(markdown, "| function | passed")}
    assert functions["`dL_dW`"] == [
        "`dL_dW`",
        "2 / 4",
        "50%",
        "`factor-m` (2), `mutates-input` (1)",
    ]
    diagnoses = _table(markdown, "| diagnosis |")
    assert diagnoses[0][:2] == ["`factor-m`", "2"] and "factor m or 1/m" in diagnoses[0][2]
    lines = markdown.splitlines()
    assert lines.count("<details>") == lines.count("</details>") == len(CLASS)


def test_markdown_shows_hostile_text_as_text() -> None:
    markdown = to_markdown(CLASS)
    hostile_row = _table(markdown, "| submission | score")[3]
    assert len(hostile_row) == 3  # the pipes of the name did not split the row
    assert "&lt;script&gt;" in hostile_row[0] and "<script>" not in hostile_row[0]
    outside_code = re.sub(r"(`{3,})text\n.*?\n\1", "", markdown, flags=re.DOTALL)
    assert "<script>" not in outside_code and "<img" not in outside_code
    assert "````text\n<script>" in markdown  # in a code block, with a fence it cannot close
    assert "\x1b" not in markdown


def test_markdown_of_a_grading_that_failed_has_no_empty_table() -> None:
    assert to_markdown([BROKEN]) == (
        "## backprop-check: dave.py: 0 / 7\n\n"
        "**Grading failed** (not a mistake of the submission):\n\n"
        "```text\nthe grading worker died: MemoryError\n```\n"
    )
