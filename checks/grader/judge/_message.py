"""What a student reads when a function fails: what, where, why, and how to reproduce it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backprop.catalog import FORMULAS
from checks.grader.judge._diagnose import Diagnosis
from checks.grader.judge._judge import CaseResult

__all__ = ["failure_message", "python_literal", "snippet"]


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
    if fid == "backward":
        lines.append("for (dW, db), (dW_, db_) in zip(got, expected):")
        lines.append("    print(np.shape(db), np.abs(np.asarray(dW) - dW_).max())")
    else:
        lines.append("print(np.shape(got), np.abs(np.asarray(got) - expected).max())")
    return "\n".join(lines)


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
    if diagnoses:
        lines.append("")
        lines.append("What the difference looks like:")
        lines.extend(f"- {d.id}: {d.explanation}" for d in diagnoses)
    lines.append("")
    lines.append("Reproduce it (paste into Python, in the folder of your file):")
    lines.append("")
    lines.extend("    " + line for line in snippet(fid, alias, module, failure).splitlines())
    return "\n".join(lines)
