"""Fixtures of the command's tests: small classes of submissions, in a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli._class import HOSTILE, SOLUTION, mutant

EXAMPLES = Path(__file__).parents[2] / "examples"
# Fast limits for the hostile submissions; a correct one needs well under a second a call.
FAST_LIMITS = "[limits]\ncall_timeout = 1.5\ntotal_timeout = 20.0\nmemory_mb = 512\n"


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A folder holding the two examples, `buggy.py` and `solution.py`."""
    folder = tmp_path / "examples"
    folder.mkdir()
    for name in ("buggy.py", "solution.py"):
        shutil.copy(EXAMPLES / name, folder / name)
    return folder


@pytest.fixture
def fast_config(tmp_path: Path) -> Path:
    path = tmp_path / "fast.toml"
    path.write_text(FAST_LIMITS, encoding="utf-8")
    return path


@pytest.fixture
def small_class(tmp_path: Path) -> Path:
    """Seven submissions: correct, two mutants (one in a student folder), four hostile."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ada.py").write_text(SOLUTION, encoding="utf-8")
    (folder / "bob").mkdir()
    (folder / "bob" / "hw.py").write_text(mutant("db-shape"), encoding="utf-8")
    (folder / "cy.py").write_text(mutant("relu-mask-at-zero", "da-sign"), encoding="utf-8")
    (folder / "dee.py").write_text(HOSTILE["memory-bomb"], encoding="utf-8")
    (folder / "eve.py").write_text(HOSTILE["output-flood"], encoding="utf-8")
    (folder / "fay.py").write_text(HOSTILE["syntax-error"], encoding="utf-8")
    (folder / "gus.py").write_text(HOSTILE["exit-at-import"], encoding="utf-8")
    return folder
