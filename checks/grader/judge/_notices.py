"""Messages for files that do not follow the contract: a load error, a missing name.

A load error is said once, in full, with what it usually means (a notebook magic in a
`.py` file, a module that is not installed); a name the submission does not define gets
the names it does define that are close to it (`difflib`), and the configuration's
``[names]`` setting that maps a contract function to the course's name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "cell_costs",
    "cells_summary",
    "cost_message",
    "load_error_message",
    "missing_message",
]


def _source_line(path: str | Path | None, line: int | None) -> str:
    if path is None or line is None or Path(path).suffix.lower() != ".py":
        return ""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def load_error_message(error: Any, path: str | Path | None) -> str:
    """Why the submission did not load, and what it usually means.

    `error` is the sandbox's `LoadError` (file, line, cell, message); `path`, the file
    whose line is quoted (None: no line quoted).
    """
    text = f"the submission did not load: {error}"
    message = str(getattr(error, "message", ""))
    code = _source_line(path, getattr(error, "line", None))
    if message.startswith(("SyntaxError", "IndentationError")) and code.startswith(("%", "!")):
        what = "a notebook magic" if code.startswith("%") else "a notebook shell command"
        text += (
            f"\n\nLine {error.line}, `{code}`, is {what}, which only Jupyter understands: "
            "it is not Python. Remove it from the .py file (or submit the notebook itself)."
        )
    return text + "\n\nNo function could be graded: fix this first."


def missing_message(fid: str, alias: str, names: Sequence[str]) -> str:
    """`alias` is not defined: the close names the submission defines, and `[names]`."""
    text = f"`{alias}` is not defined at module level"
    lower = {n.lower(): n for n in names}
    close = [lower[alias.lower()]] if alias.lower() in lower else []
    close += [
        n
        for n in difflib.get_close_matches(alias, names, n=3, cutoff=0.6)
        if n not in close and not n.startswith("_")
    ]
    if not close:
        return text + "."
    quoted = " or ".join(f"`{n}`" for n in close)
    return (
        f"{text}; your file defines {quoted}. If that is this function, rename it to "
        f"`{alias}`, or the instructor can map it in the configuration: "
        f'`[names]` `{fid} = "{close[0]}"`.'
    )


def _defines(code: str, name: str) -> bool:
    return (
        re.search(rf"^(?:def\s+{re.escape(name)}\s*\(|{re.escape(name)}\s*=)", code, re.M)
        is not None
    )


def cell_costs(
    errors: Sequence[Any], cells: Sequence[Any], missing: Sequence[str]
) -> dict[str, Any]:
    """For each missing name, the failed cell (a `LoadError`) whose code defines it."""
    costs: dict[str, Any] = {}
    codes = {c.number: c.code for c in cells}
    for error in errors:
        code = codes.get(error.cell, "")
        for name in missing:
            if name not in costs and _defines(code, name):
                costs[name] = error
    return costs


def _cell(error: Any) -> str:
    where = f"cell {error.cell}" if error.cell is not None else "a cell"
    return where + (f", line {error.line}" if error.line is not None else "")


def cells_summary(errors: Sequence[Any], costs: dict[str, Any]) -> str:
    """One paragraph: which cells failed, that the others ran, and what it cost."""
    lines = [
        f"{'A cell' if len(errors) == 1 else f'{len(errors)} cells'} of the notebook failed; "
        "the other cells ran (as nbgrader and otter run a notebook) and what they "
        "define was graded:"
    ]
    for error in errors:
        lost = [name for name, e in costs.items() if e is error]
        cost = (
            "it cost " + ", ".join(f"`{n}`" for n in lost) + " (defined there, so not defined)"
            if lost
            else "it defines none of the contract's functions"
        )
        lines.append(f"- {_cell(error)}: {error.message.splitlines()[0]}; {cost}.")
    return "\n".join(lines)


def cost_message(alias: str, error: Any) -> str:
    """`alias` is missing because the cell defining it failed."""
    return (
        f"`{alias}` is not defined: {_cell(error)}, which defines it, failed "
        f"({error.message.splitlines()[0]}). Fix that cell (or tag it `skip` if it only "
        "plots or installs)."
    )
