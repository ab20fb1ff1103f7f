"""Messages for files that do not follow the contract: a load error, a missing name.

A load error is said once, in full, with what it usually means (a notebook magic in a
`.py` file, a module that is not installed); a name the submission does not define gets
the names it does define that are close to it (`difflib`), and the configuration's
``[names]`` setting that maps a contract function to the course's name.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["load_error_message", "missing_message"]


def _source_line(path: str | Path, line: int | None) -> str:
    if line is None or Path(path).suffix.lower() != ".py":
        return ""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def load_error_message(error: Any, path: str | Path) -> str:
    """Why the submission did not load, and what it usually means.

    `error` is the sandbox's `LoadError` (file, line, cell, message).
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
