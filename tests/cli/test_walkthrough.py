"""The instructor's first hour, as a test: a GitHub Classroom class of 30, graded as documented.

A new instructor follows docs/github-classroom.md: 30 student repositories as
`gh classroom clone` leaves them (each with a README, a `.github` folder, some with
scratch files or notebooks beside the file to grade, some broken), a roster, and the
documented command, read from the page itself and run as written. Then the instructor
imports the gradebook into the LMS and opens the HTML report: both are checked here.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from checks.cli import main
from tests.cli._class import HOSTILE, SOLUTION, mutant
from tests.docs._commands import sh_blocks
from tests.formats._dom import parse

ROOT = Path(__file__).parents[2]
BUGGY = (ROOT / "examples" / "buggy.py").read_text(encoding="utf-8")
CLASSROOM_PAGE = ROOT / "docs" / "github-classroom.md"


def _notebook(source: str) -> str:
    """A notebook as a student leaves it: prose, magics, the code, a scratch cell."""
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Homework 3\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
         "source": ["%matplotlib inline\n", "!pip list\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 2, "outputs": [],
         "source": source.splitlines(keepends=True)},
        {"cell_type": "code", "metadata": {"tags": ["skip"]}, "execution_count": 3,
         "outputs": [], "source": ["raise RuntimeError('scratch work')\n"]},
    ]  # fmt: skip
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _class(root: Path) -> tuple[Path, dict[str, str]]:
    """30 repositories: 12 correct, 10 with mistakes, 4 notebooks, 4 broken; the roster."""
    mistakes = [
        ("db-shape",), ("jacobian-diagonal",), ("da-sign",), ("relu-mask-at-zero",),
        ("dyhat-no-mean",), ("softmax-wrong-axis",), ("loss-no-mean", "db-shape"),
        ("relu-in-place",), ("softmax-overflow",),
    ]  # fmt: skip
    sources = [("py", SOLUTION)] * 12 + [("py", mutant(*m)) for m in mistakes] + [("py", BUGGY)]
    sources += [("ipynb", SOLUTION)] * 3 + [("ipynb", mutant("db-shape"))]
    sources += [("py", HOSTILE["syntax-error"]), ("py", HOSTILE["exit-at-import"])]
    sources += [("py", "import numpy as np\n\ndef relu(z):\n    return 1 / 0\n")]
    sources += [("py", "import nonexistent_module_of_a_student\n")]
    assert len(sources) == 30
    folder = root / "ASSIGNMENT-submissions"
    kinds: dict[str, str] = {}
    rows = ["student_id,name,email,submission"]
    for i, (suffix, source) in enumerate(sources):
        login = f"student{i:02d}"
        repo = folder / f"hw3-{login}"
        (repo / ".github" / "workflows").mkdir(parents=True)
        (repo / ".github" / "workflows" / "classroom.yml").write_text("name: x\n")
        (repo / "README.md").write_text("# Homework 3\n", encoding="utf-8")
        if suffix == "py":
            (repo / "backprop_hw.py").write_text(source, encoding="utf-8")
            where = f"hw3-{login}"
        else:  # the roster names the notebook: --file names the .py of everyone else
            (repo / "backprop_hw.ipynb").write_text(_notebook(source), encoding="utf-8")
            where = f"hw3-{login}/backprop_hw.ipynb"
        if i % 3 == 0:
            (repo / "scratch.py").write_text("print('trying things')\n", encoding="utf-8")
            (repo / "exploration.ipynb").write_text(_notebook("x = 1\n"), encoding="utf-8")
        kinds[login] = suffix
        rows.append(f"{i:05d},Student {i:02d},{login}@example.edu,{where}")
    rows.append("99999,Never Submitted,late@example.edu,hw3-late")  # on the roster only
    (root / "roster.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder, kinds


def _documented_command() -> list[str]:
    """The grading command of docs/github-classroom.md, split as the shell would."""
    (command,) = [
        c for block in sh_blocks(CLASSROOM_PAGE) for c in block if c.startswith("backprop-check")
        and "--roster" in c
    ]  # fmt: skip
    return shlex.split(command)[1:]


@dataclass(frozen=True)
class _Graded:
    root: Path
    kinds: dict[str, str]
    status: int
    out: str
    err: str


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> _Graded:
    """The class, graded once with the documented command, run in the class's folder."""
    root = tmp_path_factory.mktemp("classroom")
    _, kinds = _class(root)
    # The course's configuration; few test points keep this test quick. Not 1: the first
    # point Hypothesis draws is a one-layer network, where `dL_da` has no case at all.
    (root / "grading.toml").write_text(
        "examples = 3\n[points]\nbackward = 4.0\n[limits]\ncall_timeout = 5.0\n"
        "total_timeout = 60.0\n",
        encoding="utf-8",
    )
    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(_documented_command())
    finally:
        os.chdir(here)
    return _Graded(root, kinds, status, out.getvalue(), err.getvalue())


@pytest.mark.slow
def test_a_classroom_of_30_graded_as_documented(graded: _Graded) -> None:
    kinds, out, err = graded.kinds, graded.out, graded.err
    assert graded.status == 1  # some students' functions fail
    assert "1 student(s) of the roster have no submission (empty grade): 99999" in err
    assert "belong to no student" not in err
    results = graded.root / "results"

    # Every repository was graded, the file to grade only: 30 reports.
    reports = [json.loads(p.read_text()) for p in sorted((results / "reports").glob("*.json"))]
    assert len(reports) == 30
    by_login = {Path(r["submission"]).name.removeprefix("hw3-"): r for r in reports}
    assert set(by_login) == set(kinds)
    full = [login for login, r in by_login.items() if r["score"] == r["max_score"] == 17.0]
    assert len(full) == 15, " ".join(sorted(full))  # the 12 correct files and 3 correct notebooks
    broken = by_login["student26"]  # the syntax error: every function says why
    assert {r["verdict"] for r in broken["functions"].values()} == {"error"}
    assert "did not load" in broken["functions"]["relu"]["message"]

    # The LMS import: Canvas's columns, one row per student of the roster, in its order.
    rows = list(csv.reader(io.StringIO((results / "gradebook.csv").read_text())))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Homework 3"]
    assert len(rows) == 1 + 31
    assert rows[1][:4] == ["Student 00", "", "00000", "student00@example.edu"]
    assert rows[1][5] == "17" and rows[-1][2:] == ["99999", "late@example.edu", "", ""]
    scores = {row[3].split("@")[0]: row[5] for row in rows[1:-1]}
    assert scores == {login: f"{r['score']:g}" for login, r in by_login.items()}

    # The HTML report: titled, one row per repository, the broken one's reason shown once.
    page = parse((results / "report.html").read_text(encoding="utf-8"))
    assert page.find("h1").text == "Homework 3"
    grid = list(page.find("table", cls="grid").find("tbody").iter("tr"))
    assert len(grid) == 30
    row = next(r for r in grid if r.attrs["data-name"].endswith("hw3-student26"))
    (reason,) = [c for c in row.iter("td") if "reason" in c.classes]
    assert "did not load" in reason.text and "SyntaxError" in reason.text
    # The summary on the terminal reads errors, failures and absences apart.
    assert re.search(r"hw3-student26 +0 / 17  error: relu, relu_mask", out)
    assert re.search(r"hw3-student28 +\d+ / 17  error: relu\b", out)


@pytest.mark.slow
def test_the_class_report_opens_in_chromium_and_filters_the_30(graded: _Graded) -> None:
    from tests.formats.test_html_browser import _run, _shown_rows

    reports = [
        json.loads(p.read_text()) for p in sorted((graded.root / "results" / "reports").glob("*"))
    ]
    crashed = sorted(
        r["submission"]
        for r in reports
        if any(f["verdict"] == "error" for f in r["functions"].values())
    )
    assert len(crashed) >= 4  # the four broken repositories at least
    page = (graded.root / "results" / "report.html").as_uri()
    shown = _shown_rows(_run(graded.root, "--dump-dom", page).stdout)
    assert len(shown) == 30
    errors = _shown_rows(_run(graded.root, "--dump-dom", page + "?verdict=error").stdout)
    assert sorted(errors) == crashed
