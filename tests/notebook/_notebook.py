"""A student's notebook, built from the template, and executed by a real Jupyter kernel."""

from __future__ import annotations

import ast
import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Sets an attribute on <body> if it ever runs: it must stay text.
PAYLOAD = (
    "<script>document.body.setAttribute('data-pwned','1')</script>"
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
)
_BUGGY_DL_DB = "def dL_db(dL_dz):\n    return np.sum(dL_dz, axis=1)\n"
_RAISING_SOFTMAX = f"def softmax(a):\n    raise ValueError({PAYLOAD!r})\n"


def template() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "student.ipynb").read_text(encoding="utf-8"))
    return data


def solution_sources() -> dict[str, str]:
    text = (EXAMPLES / "solution.py").read_text(encoding="utf-8")
    return {
        node.name: ast.get_source_segment(text, node) or ""
        for node in ast.parse(text).body
        if isinstance(node, ast.FunctionDef)
    }


def _code(source: str) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source}  # fmt: skip


def student_at_work() -> dict[str, Any]:
    """The template worked through: right, wrong then fixed, raising, and missing cells.

    `dL_db` is first written as the notes have it (erratum E4), checked, then fixed and
    checked again; `softmax` raises an exception whose message is hostile HTML;
    `decide` is not written (its cell deleted) and checked by name.
    """
    notebook = template()
    solution = solution_sources()
    cells: list[dict[str, Any]] = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        defined = source.startswith("def ") and source[4:].split("(")[0]
        if defined == "decide":
            continue
        if defined == "softmax":
            cells.append(_code(_RAISING_SOFTMAX))
        elif defined == "dL_db":
            cells += [_code(_BUGGY_DL_DB), _code("bc.check(dL_db)")]
            cells.append(_code(solution["dL_db"]))
        elif defined:
            cells.append(_code(solution[defined]))
        elif source == "bc.check(decide)":
            cells.append(_code('bc.check("decide")'))
        else:
            cells.append(copy.deepcopy(cell))
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:02d}"
    notebook["cells"] = cells
    return notebook


def execute(notebook: dict[str, Any], where: Path) -> dict[str, Any]:
    """Run every cell in a fresh kernel of this interpreter, as Jupyter would."""
    nbformat = pytest.importorskip(
        "nbformat", reason="nbformat is not installed: `pip install '.[notebook]'`"
    )
    nbclient = pytest.importorskip(
        "nbclient", reason="nbclient is not installed: `pip install '.[notebook]'`"
    )
    pytest.importorskip(
        "ipykernel", reason="ipykernel is not installed: `pip install '.[notebook]'`"
    )
    # A kernel of this very interpreter (the one with the project installed), whatever
    # kernels the machine has: a kernel spec found first on JUPYTER_PATH.
    spec = where / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
    )
    node = nbformat.reads(json.dumps(notebook), as_version=4)
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(where / "jupyter")
    try:
        client = nbclient.NotebookClient(
            node, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(where)}}
        )
        client.execute()
    finally:
        if previous is None:
            del os.environ["JUPYTER_PATH"]
        else:
            os.environ["JUPYTER_PATH"] = previous
    result: dict[str, Any] = json.loads(nbformat.writes(node))
    return result


def source(cell: dict[str, Any]) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else str(text)


def html_shown(notebook: dict[str, Any]) -> list[tuple[str, str]]:
    """Each check cell's source and the HTML it displayed, in order."""
    shown = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and source(cell).startswith("bc.check"):
            (output,) = [o for o in cell["outputs"] if o["output_type"] == "execute_result"]
            html = output["data"]["text/html"]
            shown.append((source(cell), "".join(html) if isinstance(html, list) else html))
    return shown
