"""The notebook's checks when the notebook is graded: inert, so it is submitted unchanged."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from backprop import CONTRACT
from backprop.catalog import FORMULAS
from checks.grader import Config, grade_submission
from checks.grader.sandbox._source import read_source
from tests.notebook._notebook import EXAMPLES, source, template

_IMPORTS = [
    "from checks import notebook as bc",
    "import checks.notebook as bc  # the checks",
    "from checks import notebook\nbc = notebook",
    "from checks.notebook import check, check_all as every\nbc = type('', (), {})()\n"
    "bc.check = check\nbc.check_all = every",
    "if True:\n    from checks import notebook as bc",
]


def _notebook(tmp_path: Path, *cells: str) -> Path:
    path = tmp_path / "hw.ipynb"
    code = [{"cell_type": "code", "metadata": {}, "outputs": [], "source": c} for c in cells]
    path.write_text(json.dumps({"cells": code, "metadata": {}, "nbformat": 4}))
    return path


@pytest.mark.parametrize("line", _IMPORTS)
def test_each_form_of_the_import_binds_a_stand_in_whose_checks_do_nothing(
    tmp_path: Path, line: str
) -> None:
    path = _notebook(tmp_path, line, "def relu(z):\n    return z", "r = bc.check(relu)")
    namespace: dict[str, object] = {"relu": None}
    for cell in read_source(path).cells:
        exec(compile(cell.code, cell.name, "exec"), namespace)
    assert namespace["r"] is None
    assert namespace["bc"].check_all(globals()) is None  # type: ignore[attr-defined]


def test_the_import_inside_a_string_is_left_alone(tmp_path: Path) -> None:
    text = 'doc = """\nfrom checks import notebook as bc\n"""'
    (cell,) = read_source(_notebook(tmp_path, text)).cells
    assert cell.code == text + "\n"


def test_the_template_has_a_cell_per_contract_function_as_in_template_py() -> None:
    text = (EXAMPLES / "template.py").read_text(encoding="utf-8")
    functions = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)]
    code = [source(c) for c in template()["cells"] if c["cell_type"] == "code"]
    assert [ast.get_source_segment(text, f) for f in functions] == code[1:-1:2]
    assert [f.name for f in functions] == list(CONTRACT)
    assert all(tuple(a.arg for a in f.args.args) == FORMULAS[f.name].args for f in functions)
    assert code[2:-1:2] == [f"bc.check({name})" for name in CONTRACT]
    assert "from checks import notebook as bc" in code[0] and code[-1] == "bc.check_all(globals())"


def test_the_template_submitted_as_it_is_loads_and_each_function_is_not_implemented() -> None:
    report = grade_submission(EXAMPLES / "student.ipynb", Config())
    assert list(report["functions"]) == list(CONTRACT)
    for fid, result in report["functions"].items():
        assert result["verdict"] == "error", fid
        assert "is not implemented yet (it raises NotImplementedError)" in result["message"], fid
