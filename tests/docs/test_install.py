"""The students' install, as docs/install.md writes it: build the wheel, install, run.

The wheel is built from a copy of the clone's files (so the clone stays clean and the
build sees only what git holds) with the docs' own command, installed in a fresh virtual
environment, and the installed command is run from outside the clone, so that nothing
is imported from the source tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs._commands import sh_blocks
from tests.docs._files import ROOT, tracked_files

INSTALL = ROOT / "docs" / "install.md"


def _run(argv: list[str], cwd: Path, bin_: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `argv` in `cwd`, with `bin_` first on the PATH (an activated venv)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    if bin_ is not None:
        env["PATH"] = f"{bin_}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode in (0, 1), f"{argv}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_the_wheel_installs_in_a_fresh_venv_and_grades(tmp_path: Path) -> None:
    build_block, install_block = sh_blocks(INSTALL)[:2]
    assert build_block == ["python -m pip install build", "python -m build --wheel"]
    clone = tmp_path / "clone"
    for path in tracked_files():
        target = clone / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    # `build` is a test dependency (the first line of the block installs it).
    _run([sys.executable, *build_block[1].split()[1:]], clone)
    (wheel,) = (clone / "dist").glob("*.whl")
    documented = re.search(r"`dist/(\S+\.whl)`", INSTALL.read_text(encoding="utf-8"))
    assert documented is not None and documented.group(1) == wheel.name, (
        "docs/install.md names another wheel than the build gives: update its version"
    )

    # A fresh venv; the system's site-packages may provide numpy and scipy, as they may
    # on a student's machine: pip installs what is missing.
    student = tmp_path / "student"
    student.mkdir()
    shutil.copy(wheel, student / wheel.name)
    shutil.copy(ROOT / "examples" / "solution.py", student / "my_backprop.py")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], student)
    bin_ = venv / "bin"
    install, version = install_block
    assert install == f"python -m pip install {wheel.name}"
    _run([str(bin_ / "python"), *install.split()[1:], "-q"], student)
    where = _run([str(bin_ / "python"), "-c", "import checks; print(checks.__file__)"], student)
    assert Path(where.stdout.strip()).is_relative_to(venv), "not the installed package"
    shown = _run(version.split(), student, bin_)
    assert shown.stdout == f"backprop-check {wheel.name.split('-')[1]}\n"
    graded = _run(
        ["backprop-check", "my_backprop.py", "--examples", "2", "--format", "json"],
        student,
        bin_,
    )
    assert graded.returncode == 0
    report = json.loads(graded.stdout)
    assert report["score"] == report["max_score"] == 14.0
