"""docs/notebook.md: its Python runs as written, cell by cell, and shows what it says.

Each ```python block runs as a notebook cell, in order, in one namespace (its last
expression is what the cell displays); each ```text block must be what the cell above
displayed, as text; a line `expression  # value` must evaluate to that value; each ```sh
command runs as written.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from checks.notebook import configure
from tests.notebook._notebook import student_at_work

REPO = Path(__file__).resolve().parents[2]
_DOC = REPO / "docs" / "notebook.md"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_CLAIM = re.compile(r"^(\S.*?)\s+# (\(.*\)|\d.*)$")
# Calls written inline in the prose: `bc.check("forward")`, `print(bc.check(dL_db))`.
_INLINE = re.compile(r"`((?:print\()?bc\.\w+\([^`]*\))`")


def blocks(kind: str) -> list[str]:
    return [body for k, body in _BLOCK.findall(_DOC.read_text(encoding="utf-8")) if k == kind]


def _cell(code: str, namespace: dict[str, Any]) -> Any:
    """Run `code` as Jupyter runs a cell: the value of its last expression is displayed."""
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)


def _env() -> dict[str, str]:
    # The commands of this interpreter's environment, as in an activated virtualenv.
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def test_the_students_loop_runs_and_shows_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "grading.toml").write_text('loss = "notes"\n[points]\ndL_db = 2.0\n')
    text = _DOC.read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    shown: Any = None
    try:
        for kind, body in _BLOCK.findall(text):
            if kind == "python":
                shown = _cell(body, namespace)
                for line in body.splitlines():
                    if claim := _CLAIM.match(line):
                        value = eval(claim.group(1), namespace)
                        assert repr(value) == claim.group(2), line
            elif kind == "text":
                assert shown is not None, body
                assert str(shown).startswith(body.rstrip("\n")), (str(shown), body)
        assert namespace["results"].score == 1.0  # dL_db alone, fixed
        assert namespace["bc"].configuration().points_of("dL_db") == 2.0
        inline = _INLINE.findall(text)
        assert len(inline) >= 3, inline
        for call in inline:
            exec(call, namespace)
        assert namespace["bc"].configuration().loss == "categorical"
    finally:
        configure()


def test_the_submit_command_grades_the_same_notebook(tmp_path: Path) -> None:
    (command,) = [c for b in blocks("sh") for c in b.splitlines() if "backprop-check" in c]
    (tmp_path / "student.ipynb").write_text(json.dumps(student_at_work()), encoding="utf-8")
    done = subprocess.run(
        command, shell=True, cwd=tmp_path, env=_env(), capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # not everything passes
    assert done.stdout.startswith("student.ipynb: 10 / 14 points")
    assert "MISSING  decide" in done.stdout and "ERROR    softmax" in done.stdout


@pytest.mark.slow
def test_the_benchmark_command_runs_and_reports_each_figure() -> None:
    # the one-run form (the figures' five runs only take longer: same script, same lines)
    (command,) = [
        c for b in blocks("sh") for c in b.splitlines() if "bench/" in c and "--runs 1" in c
    ]
    done = subprocess.run(
        command, shell=True, cwd=REPO, env=_env(), capture_output=True, text=True,
        timeout=600, check=True,
    )  # fmt: skip
    for line in ("import checks.notebook", "first check(relu)", "check_all, 14 functions"):
        assert line in done.stdout, done.stdout
    assert re.search(r"a later check\(f\) is \d+x faster than the command", done.stdout)
