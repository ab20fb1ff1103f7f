"""The student template and the example submissions stay true to the contract."""

from __future__ import annotations

import ast
from pathlib import Path

from backprop import CONTRACT
from backprop.catalog import FORMULAS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def signatures(path: Path) -> dict[str, list[str]]:
    tree = ast.parse(path.read_text())
    return {
        node.name: [a.arg for a in node.args.args]
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def test_the_template_defines_every_contract_function_with_the_contract_arguments() -> None:
    found = signatures(EXAMPLES / "template.py")
    assert list(found) == list(CONTRACT)
    for fid, args in found.items():
        assert tuple(args) == FORMULAS[fid].args, fid


def test_every_template_function_has_a_docstring_and_raises_not_implemented() -> None:
    tree = ast.parse((EXAMPLES / "template.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            assert ast.get_docstring(node), node.name
            assert isinstance(node.body[-1], ast.Raise), node.name


def test_the_examples_define_the_contract() -> None:
    for name in ("solution.py", "buggy.py"):
        found = signatures(EXAMPLES / name)
        assert {fid: tuple(args) for fid, args in found.items()} == {
            fid: FORMULAS[fid].args for fid in CONTRACT
        }, name
