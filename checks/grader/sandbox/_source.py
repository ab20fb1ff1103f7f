"""Read a submission, a `.py` file or a Jupyter notebook, as the cells the worker runs.

A notebook's code cells run in order, in one namespace, as Jupyter would run them top
to bottom. What is not Python is left out, line by line, so line numbers stay those the
student sees:

- IPython magics (``%time f()``, ``x = %timeit f()``), shell escapes (``!pip install``,
  ``files = !ls``) and help requests (``np.sum?``) are skipped;
- a cell magic on a cell's first line skips the whole cell (``%%bash``, ``%%html``,
  ``%%writefile``: its body is not Python), except ``%%time``, ``%%timeit``,
  ``%%capture`` and ``%%prun``, whose body is Python and runs without the magic;
- a cell tagged ``skip`` or ``skip-grading`` is left out (in Jupyter: View > Cell
  Toolbar > Tags), for scratch work or slow experiments the grader should not run;
- a line importing the notebook's checks (``from checks import notebook as bc``,
  ``import checks.notebook as bc``, ``from checks.notebook import check``), which the
  submission could not import, binds a stand-in instead whose every function does
  nothing and returns None: ``bc.check(relu)`` left in a cell is harmless.

A notebook exported as a script (``jupyter nbconvert --to script``) runs alike: there,
``get_ipython()`` answers magics and shell escapes with nothing (running the body of
the four cell magics above), and ``display(x)`` prints ``repr(x)``.

Each cell is compiled under the name ``"FILE, cell N"``, N counting every cell of the
notebook from 1 (markdown cells included, as one counts them scrolling down), so an
error is reported at the cell and line the student sees. A `.py` file is one cell named
after the file.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import stat
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks.grader import SUBMISSION_SUFFIXES

__all__ = ["SKIP_TAGS", "Cell", "Source", "read_source"]

SKIP_TAGS = frozenset({"skip", "skip-grading"})
"""Cell tags that leave a notebook cell out of grading."""

_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_NOT_PYTHON = re.compile(
    r"""^\s*(?:
        [%!]                                # %magic, !shell
      | [\w.]+\s*=\s*[%!]                   # x = %magic, x = !shell
      | \?{1,2}[\w.]+\s*$ | [\w.]+\?{1,2}\s*$  # ?name, name??
    )""",
    re.VERBOSE,
)
_MAX_BYTES = 16 << 20
# One line, alone, importing `checks.notebook` (the student's checks in the notebook).
_NOTEBOOK_IMPORT = re.compile(
    r"""^(?P<indent>\s*)(?:
        from\s+checks\s+import\s+notebook(?:\s+as\s+(?P<alias>\w+))?
      | import\s+checks\.notebook\s+as\s+(?P<module_alias>\w+)
      | from\s+checks\.notebook\s+import\s+(?P<names>\w+(?:\s+as\s+\w+)?
            (?:\s*,\s*\w+(?:\s+as\s+\w+)?)*)
    )\s*(?:\#.*)?$""",
    re.VERBOSE,
)
# Its stand-in: any attribute is a function that does nothing and returns None.
_INERT = 'type("inert", (), {"__getattr__": lambda self, name: lambda *args, **kwargs: None})()'


@dataclass(frozen=True)
class Cell:
    """Code the worker compiles under `name`; `number` is the notebook cell (None for .py)."""

    name: str
    number: int | None
    code: str


@dataclass(frozen=True)
class Source:
    """A submission as cells to run in order; `file` is the path as given."""

    file: str
    cells: tuple[Cell, ...]
    data: bytes = field(default=b"", repr=False)
    """The bytes read, once: what the worker's copy is made of (never the path again)."""

    def cell_number(self, name: str) -> int | None:
        """The notebook cell compiled under `name`, or None (a `.py` file, another file)."""
        return next((c.number for c in self.cells if c.name == name), None)

    def owns(self, name: str) -> bool:
        """Whether `name` is one of this submission's compiled cells."""
        return any(c.name == name for c in self.cells)


def read_source(path: str | Path) -> Source:
    """Read a `.py` file or a `.ipynb` notebook.

    Parameters
    ----------
    path : str or Path
        The submission.

    Returns
    -------
    Source
        Its code cells, magics and skipped cells left out.

    Raises
    ------
    ValueError
        If `path` is neither a `.py` nor a `.ipynb` file, is a symbolic link, a folder
        or another file that is not regular, is too large, cannot be decoded, or is not
        a notebook in nbformat 4.
    OSError
        If it cannot be read.

    Notes
    -----
    The file is opened once, without following a symbolic link (in a class folder, a
    link may point at a classmate's work, or at a file only the checker may read), and
    checked with `fstat` before a byte is read: a FIFO would block, a device or a huge
    file would exhaust the checker. What was read is kept (`Source.data`), so the
    worker runs exactly what was checked.
    """
    file = str(path)
    data = _read_regular(file)
    suffix = Path(file).suffix.lower()
    if suffix not in SUBMISSION_SUFFIXES:
        raise ValueError(f"`submission` must be a .py file or a .ipynb notebook, got `{file}`")
    if suffix == ".py":
        return Source(file, (Cell(file, None, _decode(data, file)),), data)
    return Source(file, tuple(_notebook_cells(data, file)), data)


def _read_regular(file: str) -> bytes:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(file, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ValueError(
                f"`{file}` is a symbolic link; a submission must be a regular file"
            ) from None
        raise
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            inside = sorted(
                p.name for p in Path(file).iterdir() if p.suffix.lower() in (".py", ".ipynb")
            )
            raise ValueError(
                f"`{file}` is a folder holding {len(inside)} submissions"
                f" ({', '.join(inside) or 'none'}); it must hold exactly one"
            )
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"`{file}` is not a regular file")
        if info.st_size > _MAX_BYTES:
            raise ValueError(f"`{file}` is {info.st_size} bytes, more than a submission can be")
        chunks, left = [], _MAX_BYTES + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > _MAX_BYTES:  # it grew after fstat
        raise ValueError(f"`{file}` is more than {_MAX_BYTES} bytes, more than a submission can be")
    return data


def _decode(data: bytes, file: str) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise ValueError(f"`{file}` cannot be decoded: {error}") from None


def _notebook_cells(data: bytes, file: str) -> list[Cell]:
    try:
        notebook = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"`{file}` is not a notebook: {error}") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError(f"`{file}` is not a notebook in nbformat 4: it has no list of `cells`")
    found = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        tags = (cell.get("metadata") or {}).get("tags") or []
        if isinstance(tags, list) and SKIP_TAGS.intersection(map(str, tags)):
            continue
        code = _python_only(_text(cell.get("source", ""), file, number))
        if code is not None:
            found.append(Cell(f"{file}, cell {number}", number, code))
    return found


def _text(source: Any, file: str, number: int) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    raise ValueError(f"`{file}`: cell {number} has a `source` that is not text")


def _python_only(code: str) -> str | None:
    """`code` with magics, shell escapes and help blanked out; None to skip the cell."""
    lines = code.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("%%"):
        if (first[2:].split() or [""])[0] not in _PYTHON_CELL_MAGICS:
            return None
        lines[next(i for i, line in enumerate(lines) if line.strip())] = ""
    inside = _inside_strings(code)
    for i, line in enumerate(lines):
        if i + 1 not in inside and _NOT_PYTHON.match(line):
            indent = line[: len(line) - len(line.lstrip())]
            lines[i] = indent + "pass" if indent else ""
        elif i + 1 not in inside and (found := _NOTEBOOK_IMPORT.match(line)):
            lines[i] = _inert_import(found)
    return "\n".join(lines) + "\n"


def _inert_import(found: re.Match[str]) -> str:
    """The line binding what an import of `checks.notebook` binds, to the stand-in."""
    indent = found.group("indent")
    if found.group("names"):
        pairs = [item.split() for item in found.group("names").split(",")]
        bound = [(p[0], p[-1]) for p in pairs]  # (name, as), `as` dropped or not
        targets = ", ".join(alias for _, alias in bound)
        values = ", ".join(f"_inert_notebook.{name}" for name, _ in bound)
        return f"{indent}_inert_notebook = {_INERT}; {targets} = {values},"
    alias = found.group("alias") or found.group("module_alias") or "notebook"
    return f"{indent}{alias} = {_INERT}"


def _inside_strings(code: str) -> set[int]:
    """Line numbers (from 1) that continue a multi-line string, so are not line starts."""
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # broken code: the worker reports the syntax error; lines are judged alone
    return inside
