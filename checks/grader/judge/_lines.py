"""The line to change: where in the submission's own source a diagnosed mistake sits.

A diagnosis says what is wrong; the student still has to find it. The checker reads the
submission's text (never runs it: `ast.parse` only), finds the function's definition,
and looks inside it for what the diagnosis points at: the ε of a log guard, the call of
the failing component in a cascade, an ``axis=1``, a ``>=`` mask, a ``.T``; for a
factor or a sign of a one-line function, its ``return``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from checks.grader.sandbox import read_source

__all__ = ["line_hint"]

_RETURN_LINE = frozenset(
    {"factor-m", "scaled", "sign", "missing-relu-mask", "other-loss", "softmax-jacobian-diagonal"}
)


def _functions(path: str | Path) -> Iterator[tuple[str, ast.FunctionDef, list[str]]]:
    """(where, definition, lines) of every top-level function of the submission."""
    try:
        source = read_source(path)
    except (OSError, ValueError):
        return
    for cell in source.cells:
        try:
            tree = ast.parse(cell.code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        where = f"cell {cell.number}, " if cell.number is not None else ""
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                yield where, node, cell.code.splitlines()


def _find(node: ast.AST, test: Callable[[ast.AST], bool]) -> int | None:
    lines = [int(c.lineno) for c in ast.walk(node) if test(c) and hasattr(c, "lineno")]
    return min(lines, default=None)


def _is_axis_1(n: ast.AST) -> bool:
    return (
        isinstance(n, ast.keyword)
        and n.arg == "axis"
        and isinstance(n.value, ast.Constant | ast.UnaryOp)
        and ast.unparse(n.value) in ("1", "-1")
    )


def _sum_without_keepdims(n: ast.AST) -> bool:
    return (
        isinstance(n, ast.Call)
        and any(k.arg == "axis" for k in n.keywords)
        and not any(k.arg == "keepdims" for k in n.keywords)
    )


def _calls(names: Sequence[str]) -> Callable[[ast.AST], bool]:
    def test(n: ast.AST) -> bool:
        return isinstance(n, ast.Call) and (
            (isinstance(n.func, ast.Name) and n.func.id in names)
            or (isinstance(n.func, ast.Attribute) and n.func.attr in names)
        )

    return test


def _constant(value: float) -> Callable[[ast.AST], bool]:
    def test(n: ast.AST) -> bool:
        return (
            isinstance(n, ast.Constant)
            and isinstance(n.value, int | float)
            and not isinstance(n.value, bool)
            and value != 0
            and abs(float(n.value) - value) <= 1e-9 * value
        )

    return test


def line_hint(
    path: str | Path | None,
    alias: str,
    ids: Sequence[str],
    *,
    epsilon: float | None = None,
    components: Sequence[str] = (),
    also: Sequence[str] = (),
) -> str:
    """``Look at line N ...`` for the first diagnosis that points at a line, or "".

    "" as well without a `path` (a function checked in a notebook's kernel with no file).
    """
    if path is None:
        return ""
    found = [f for f in _functions(path) if f[1].name == alias]
    if not found:
        return ""
    where, node, lines = found[-1]  # the last definition is the one that ran
    line = None
    why = ""
    if epsilon is not None:
        line = _find(node, _constant(epsilon))
        if line is None:  # the guard is in a function this one calls: name that one
            for other_where, other, other_lines in _functions(path):
                line = _find(other, _constant(epsilon))
                if line is not None:
                    where, node, lines = other_where, other, other_lines
                    break
        why = f"the ε = {epsilon:g}"
    elif "cascade" in ids and components:
        line, why = _find(node, _calls(components)), "the call of the failing function"
        if line is None:  # it calls another failing function, which calls the blamed one
            line = _find(node, _calls(also))
    elif "wrong-axis" in ids:
        line, why = _find(node, _is_axis_1), "the axis"
    elif "relu-mask-at-zero" in ids:
        test = lambda n: isinstance(n, ast.Compare) and isinstance(n.ops[0], ast.GtE)  # noqa: E731
        line, why = _find(node, test), "the mask's comparison"
    elif "bias-shape" in ids:
        line, why = _find(node, _sum_without_keepdims), "the sum without keepdims=True"
    elif "transposed" in ids:
        returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
        test = lambda n: isinstance(n, ast.Attribute) and n.attr == "T"  # noqa: E731
        if len(returns) == 1:
            line, why = returns[0].lineno, "what it returns"
        else:
            line, why = _find(node, test), "the transpose"
    if line is None and _RETURN_LINE.intersection(ids):
        returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
        if len(returns) == 1:
            line, why = returns[0].lineno, "what it returns"
    if line is None or not 0 < line <= len(lines):
        return ""
    return f"Look at {where}line {line}, in `{node.name}` ({why}): `{lines[line - 1].strip()}`"
