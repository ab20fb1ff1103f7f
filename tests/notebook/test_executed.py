"""A real notebook, executed by a Jupyter kernel: what the student sees, then what is graded.

Needs the `notebook` extra (nbclient, nbformat, ipykernel; part of the `test` extra);
without it these tests are skipped and say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backprop import CONTRACT
from checks.grader import Config, grade_submission
from tests.formats._dom import Node, parse
from tests.notebook._notebook import html_shown, source


def checks_shown(notebook: dict[str, Any]) -> list[tuple[str, Node]]:
    """Each check cell's source and the HTML it displayed, parsed, in order."""
    return [(code, parse(html)) for code, html in html_shown(notebook)]


def test_every_cell_ran_and_no_check_raised(executed: dict[str, Any]) -> None:
    for cell in executed["cells"]:
        if cell["cell_type"] == "code":
            kinds = [o["output_type"] for o in cell["outputs"]]
            assert "error" not in kinds, source(cell)


def test_the_student_sees_pass_fail_error_and_missing_in_place(executed: dict[str, Any]) -> None:
    shown = checks_shown(executed)
    verdicts = {}
    for code, tree in shown:
        if code != "bc.check_all(globals())":
            verdicts.setdefault(code, []).append(
                tree.find("div", cls="bc-result").attrs["data-verdict"]
            )
    assert verdicts["bc.check(relu)"] == ["pass"]
    assert verdicts["bc.check(dL_db)"] == ["fail", "pass"]  # wrong, then fixed
    assert verdicts["bc.check(softmax)"] == ["error"]
    assert verdicts['bc.check("decide")'] == ["missing"]
    assert verdicts["bc.check(dL_dW)"] == ["pass"]
    # forward calls the student's own softmax, as in the grader: its error shows there.
    assert verdicts["bc.check(forward)"] == verdicts["bc.check(backward)"] == ["error"]
    # The failure's detail: collapsed, the diagnosis, expected versus got, a reproduction.
    (wrong,) = [t for s, t in shown if s == "bc.check(dL_db)"][:1]
    detail = wrong.find("details", cls="bc-detail")
    assert "open" not in detail.attrs
    assert "bias-shape" in detail.find("ul", cls="bc-diagnoses").text
    assert "got = dL_db(dL_dz)" in detail.find("pre", cls="bc-message").text
    # The exception's hostile message is text.
    (raised,) = [t for s, t in shown if s == "bc.check(softmax)"]
    assert "<script>document.body" in raised.text and not list(raised.iter("script"))
    assert not list(raised.iter("img"))


def test_the_same_notebook_submitted_unchanged_gets_the_same_verdicts(
    executed: dict[str, Any], tmp_path: Path
) -> None:
    submitted = tmp_path / "student.ipynb"
    submitted.write_text(json.dumps(executed), encoding="utf-8")
    graded = grade_submission(submitted, Config())
    (_, summary) = checks_shown(executed)[-1]
    in_notebook = {
        node.find("code").text: node.attrs["data-verdict"]
        for node in summary.iter("div")
        if "bc-result" in node.classes
    }
    assert list(in_notebook) == list(CONTRACT)
    assert {f: r["verdict"] for f, r in graded["functions"].items()} == in_notebook
    # softmax raises (so do forward and backward, which call it), decide is missing
    assert graded["score"] == len(CONTRACT) - 4
    assert "ValueError: <script>" in graded["functions"]["softmax"]["message"]
