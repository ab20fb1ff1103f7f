"""What a student reads when a function fails: what, where, why, and how to reproduce it.

Every message shows the expected and the returned values aligned, at the smallest failing
case, and ends with a snippet that pastes at the ``python`` prompt: flush left, between
two comment lines (`SNIPPET_START`, `SNIPPET_END`) that the text format keeps flush left
too, and that the batch writes as ``repro_<function>.py`` with ``--output``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from backprop.catalog import FORMULAS
from checks.grader.judge._diagnose import Diagnosis
from checks.grader.judge._judge import CaseResult

__all__ = [
    "SNIPPET_END",
    "SNIPPET_START",
    "aligned",
    "error_message",
    "failure_message",
    "python_literal",
    "snippet",
    "snippet_of",
]

SNIPPET_START: Final = "# --- paste from here ---"
SNIPPET_END: Final = "# --- to here ---"
_ROWS, _COLS = 6, 8  # entries shown around the largest error


def python_literal(value: Any) -> str:
    """`value` as Python source that rebuilds it exactly (floats round-trip)."""
    if isinstance(value, list | tuple):
        items = [python_literal(v) for v in value]
        if isinstance(value, tuple):
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        return "[\n    " + ",\n    ".join(items) + ",\n]" if items else "[]"
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(arr.item())
    body = np.array2string(
        arr, separator=", ", floatmode="unique", max_line_width=88, threshold=10**6
    )
    return f"np.array({body})"


def snippet(fid: str, alias: str, module: str | None, case: CaseResult) -> str:
    """Python the student can paste to see the failure for themselves."""
    entry = FORMULAS[fid]
    source = (
        f"from {module} import {alias}"
        if module
        else f"# after running your code, which defines {alias}:"
    )
    lines = ["import numpy as np", source, ""]
    for name in entry.args:
        lines.append(f"{name} = {python_literal(case.case.args[name])}")
    if case.expected is not None:
        lines.append(f"expected = {python_literal(case.expected)}")
    lines.append(f"got = {alias}({', '.join(entry.args)})")
    if case.expected is None:
        lines.append("print(got)")
    elif fid == "backward":  # one line: a loop would need a blank line at the prompt
        lines.append(
            "print([(np.shape(g), float(np.abs(np.asarray(g) - e).max())) "
            "for gs, es in zip(got, expected) for g, e in zip(gs, es)])"
        )
    else:
        lines.append("print(np.shape(got), np.abs(np.asarray(got) - expected).max())")
    return "\n".join(lines)


def snippet_of(message: str) -> str | None:
    """The snippet of a message (`SNIPPET_START` to `SNIPPET_END`), or None."""
    if SNIPPET_START not in message:
        return None
    body = message.split(SNIPPET_START, 1)[1].split(SNIPPET_END, 1)[0]
    return body.strip("\n") + "\n"


def _pasteable(code: str) -> list[str]:
    return [SNIPPET_START, *code.splitlines(), SNIPPET_END]


def _entry(x: float) -> str:
    return f"{x:.8g}"


def aligned(expected: Any, got: Any, where: tuple[int, ...] = ()) -> list[str]:
    """`expected` and `got` one above the other, entry under entry, around `where`.

    At most `_ROWS` rows and `_COLS` columns are shown, those nearest the largest error
    (`where`); entries that differ are marked with ``^`` underneath.
    """
    try:
        E = np.asarray(expected, dtype=np.float64)
        G = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return []
    if E.shape != G.shape or E.ndim > 2:
        return []
    if E.ndim == 0:
        return [f"expected {_entry(float(E))}", f"got      {_entry(float(G))}"]
    E2, G2 = np.atleast_2d(E), np.atleast_2d(G)
    r0, c0 = (*where, 0, 0)[:2] if E.ndim == 2 else (0, where[0] if where else 0)
    rows = _window(E2.shape[0], r0, _ROWS)
    cols = _window(E2.shape[1], c0, _COLS)
    scale = float(np.max(np.abs(E2), initial=0.0)) or 1.0
    e = {(i, j): _entry(E2[i, j]) for i in rows for j in cols}
    g = {(i, j): _entry(G2[i, j]) for i in rows for j in cols}
    width = {j: max(max(len(e[i, j]), len(g[i, j])) for i in rows) for j in cols}
    out = []
    if len(rows) < E2.shape[0] or len(cols) < E2.shape[1]:
        out.append(f"rows {rows[0]}-{rows[-1]}, columns {cols[0]}-{cols[-1]} of {E.shape}:")
    label_width = len(f"row {rows[-1]}: ") if E.ndim == 2 else 0
    for i in rows:
        label = (f"row {i}: " if E.ndim == 2 else "").ljust(label_width)
        pad = " " * label_width
        out.append(f"{label}expected " + "  ".join(e[i, j].rjust(width[j]) for j in cols))
        out.append(f"{pad}got      " + "  ".join(g[i, j].rjust(width[j]) for j in cols))
        marks = [
            ("^" * width[j]) if not abs(G2[i, j] - E2[i, j]) <= 1e-12 * scale else " " * width[j]
            for j in cols
        ]
        if "".join(marks).strip():
            out.append((pad + " " * 9 + "  ".join(marks)).rstrip())
    return out


def _window(n: int, center: int, size: int) -> list[int]:
    start = min(max(center - size // 2, 0), max(n - size, 0))
    return list(range(start, min(start + size, n)))


def _where(case: CaseResult) -> str:
    if case.case.point is None:
        return f"on the special input ({case.case.label})"
    point = case.case.point
    widths = [np.shape(point.params[0][0])[1]] + [np.shape(W)[0] for W, _ in point.params]
    return (
        f"on the smallest case found ({len(point.params)} layer(s), widths {widths}, "
        f"m = {np.shape(point.X)[1]}, the {point.kind} loss)"
    )


def failure_message(
    fid: str, alias: str, failure: CaseResult, diagnoses: Sequence[Diagnosis], *, module: str | None
) -> str:
    """The message of a `fail`: the problem, the diagnoses, and a snippet to reproduce it."""
    name = f"`{alias}`" + (f" (the contract's `{fid}`)" if alias != fid else "")
    if failure.mutated:
        changed = ", ".join(f"`{n}`" for n in failure.mutated)
        return (
            f"{name} changed its argument(s) {changed} in place. A function must not "
            f"modify its arguments: work on a copy (`x = x.copy()`) or build new arrays."
        )
    if failure.comparison is None:
        return f"{name} {failure.message}."
    lines = [f"{name} is wrong {_where(failure)}: {failure.message}."]
    shown = _values_shown(fid, failure)
    if shown:
        lines += ["", *shown]
    if diagnoses:
        lines.append("")
        lines.append("What the difference looks like:")
        lines.extend(f"- {d.id}: {d.explanation}" for d in diagnoses)
    lines.append("")
    lines.append("Reproduce it (paste into Python, in the folder of your file):")
    lines.append("")
    lines.extend(_pasteable(snippet(fid, alias, module, failure)))
    return "\n".join(lines)


def _values_shown(fid: str, failure: CaseResult) -> list[str]:
    """The expected and returned values at the failing case, aligned (the worst block)."""
    expected, got = failure.expected, failure.got
    title = "Expected and got at this case"
    if fid == "backward":
        block = failure.block  # "dW_2" / "db_1": the block that failed
        if not block or not isinstance(got, list | tuple):
            return []
        layer, which = int(block.split("_")[1]) - 1, 0 if block.startswith("dW") else 1
        try:
            expected, got = expected[layer][which], got[layer][which]
        except (IndexError, TypeError, KeyError):
            return []
        title += f", block `{block}`"
    where = failure.comparison.where if failure.comparison is not None else ()
    rows = aligned(expected, got, where)
    return [title + ":", *rows] if rows else []


def _shapes(fid: str, case: CaseResult) -> str:
    entry = FORMULAS[fid]
    parts = []
    for name in entry.args:
        value = case.case.args[name]
        if isinstance(value, list):
            shapes = ", ".join(f"({np.shape(W)}, {np.shape(b)})" for W, b in value)
            parts.append(f"`{name}` = [{shapes}]")
        else:
            parts.append(f"`{name}` of shape {np.shape(value)}")
    return ", ".join(parts)


def error_message(fid: str, alias: str, failure: CaseResult, *, module: str | None) -> str:
    """The message of an `error`: what it raised, with which arguments, and a snippet.

    A template's ``NotImplementedError`` reads "not implemented yet"; a ``TypeError``
    about the arguments quotes the contract's signature.
    """
    entry = FORMULAS[fid]
    signature = f"{alias}({', '.join(entry.args)})"
    text = failure.message
    first = text.splitlines()[0] if text else ""
    if first.startswith("NotImplementedError"):
        return f"`{alias}` is not implemented yet (it raises NotImplementedError)."
    lines = [f"`{alias}` raised an error when called with {_shapes(fid, failure)}:", "", text]
    if first.startswith("TypeError") and "argument" in first:
        lines += [
            "",
            f"The contract's signature is `{signature}` "
            f"({', '.join(f'{a}: {entry.shapes[a]}' for a in entry.args)}); "
            "a function of the contract takes exactly these arguments, in this order.",
        ]
    lines += ["", "Reproduce it (paste into Python, in the folder of your file):", ""]
    lines.extend(_pasteable(snippet(fid, alias, module, failure)))
    return "\n".join(lines)
