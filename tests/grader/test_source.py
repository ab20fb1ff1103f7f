"""Reading a submission: a `.py` file, or a notebook's code cells without what is not Python."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from checks.grader.sandbox._source import SKIP_TAGS, Cell, read_source


def notebook(tmp_path: Path, *cells: dict[str, Any]) -> Path:
    path = tmp_path / "student.ipynb"
    path.write_text(json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4}))
    return path


def code(source: str | list[str], **metadata: Any) -> dict[str, Any]:
    return {"cell_type": "code", "source": source, "metadata": metadata, "outputs": []}


def test_a_py_file_is_one_cell_named_after_it(tmp_path: Path) -> None:
    path = tmp_path / "student.py"
    path.write_bytes("# -*- coding: latin-1 -*-\nname = 'Zoë'\n".encode("latin-1"))
    source = read_source(path)
    assert source.cells == (Cell(str(path), None, "# -*- coding: latin-1 -*-\nname = 'Zoë'\n"),)
    assert source.owns(str(path)) and source.cell_number(str(path)) is None


def test_code_cells_run_in_order_numbered_among_all_cells(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        {"cell_type": "markdown", "source": "# ReLU", "metadata": {}},
        code(["import numpy as np\n", "x = 1"]),
        {"cell_type": "raw", "source": "not code", "metadata": {}},
        code("def relu(z):\n    return np.maximum(z, 0)\n"),
    )
    source = read_source(path)
    assert [(c.number, c.name) for c in source.cells] == [
        (2, f"{path}, cell 2"),
        (4, f"{path}, cell 4"),
    ]
    assert source.cells[0].code == "import numpy as np\nx = 1\n"
    assert source.cell_number(f"{path}, cell 4") == 4
    assert not source.owns("<stdin>")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("%matplotlib inline\nx = 1", "\nx = 1\n"),
        ("!pip install numpy\nx = 1", "\nx = 1\n"),
        ("files = !ls\nnp.sum?\n??np\nt = %timeit f()\nx = 1", "\n\n\n\nx = 1\n"),
        ("if True:\n    %time f()\n", "if True:\n    pass\n"),
        ("x = 10 % 3\ny = x != 1", "x = 10 % 3\ny = x != 1\n"),
        ('doc = """\n%d of them\n!important\n"""', 'doc = """\n%d of them\n!important\n"""\n'),
        ("%%time\nx = 1\n", "\nx = 1\n"),
        ("\n%%capture out\nx = 1", "\n\nx = 1\n"),
        ("%%bash\necho hi\n", None),
        ("%%writefile helper.py\ndef f(): pass\n", None),
    ],
    ids=[
        "line-magic",
        "shell",
        "assigned-magics-and-help",
        "magic-in-a-block",
        "operators",
        "inside-a-string",
        "python-cell-magic",
        "python-cell-magic-after-blank",
        "bash-cell",
        "writefile-cell",
    ],
)
def test_what_is_not_python_is_left_out_line_by_line(
    tmp_path: Path, cell: str, expected: str | None
) -> None:
    source = read_source(notebook(tmp_path, code(cell)))
    assert [c.code for c in source.cells] == ([] if expected is None else [expected])
    if expected is not None:  # lines keep their numbers
        assert expected.count("\n") == len(cell.splitlines())


@pytest.mark.parametrize("tag", sorted(SKIP_TAGS))
def test_a_tagged_cell_is_left_out(tmp_path: Path, tag: str) -> None:
    path = notebook(tmp_path, code("x = 1"), code("train_for_an_hour()", tags=[tag, "other"]))
    assert [c.number for c in read_source(path).cells] == [1]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("student.txt", "x = 1", "`submission` must be a .py file or a .ipynb notebook, got `"),
        ("student.ipynb", "{not json", "is not a notebook: "),
        ("student.ipynb", "[1, 2]", "is not a notebook in nbformat 4: it has no list of `cells`"),
        ("student.ipynb", '{"cells": [{"cell_type": "code", "source": 3}]}', "cell 1 has a"),
        ("student.py", b"\xff\xfe = 1", "cannot be decoded: "),
    ],
    ids=["suffix", "not-json", "no-cells", "source-not-text", "not-utf8"],
)
def test_what_is_not_a_submission_is_refused(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ValueError, match=re.escape(message)):
        read_source(path)


def test_a_huge_file_is_refused_by_its_size_before_a_byte_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.py"
    with huge.open("wb") as stream:
        stream.truncate(1536 << 20)  # sparse: 1.5 GB that take no disk
    with pytest.raises(ValueError, match=r"`.*huge.py` is 1610612736 bytes, more than a"):
        read_source(huge)


def test_links_folders_and_fifos_are_refused_by_name(tmp_path: Path) -> None:
    target = tmp_path / "target.py"
    target.write_text("x = 1\n")
    (tmp_path / "link.py").symlink_to(target)
    os.mkfifo(tmp_path / "fifo.py")
    (tmp_path / "two").mkdir()
    for name in ("a.py", "b.ipynb"):
        (tmp_path / "two" / name).write_text("")
    for name, why in [
        ("link.py", "is a symbolic link; a submission must be a regular file"),
        ("fifo.py", "is not a regular file"),
        ("two", "is a folder holding 2 submissions (a.py, b.ipynb); it must hold exactly one"),
    ]:
        with pytest.raises(ValueError, match=re.escape(f"`{tmp_path / name}` {why}")):
            read_source(tmp_path / name)
    assert read_source(target).data == b"x = 1\n"
