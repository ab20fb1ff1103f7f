"""docs/courses.md: its commands run exactly as written, its TOML is the examples'."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "courses.md").read_text()


def _blocks(language: str) -> list[str]:
    return [
        "\n".join(line.strip() for line in b.strip().splitlines())
        for b in re.findall(rf"```{language}\n(.*?)```", DOC, re.S)
    ]


def _program(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"`{name}` is not installed (pip install -e .)"
    return found


def test_every_command_runs_and_the_preset_passes() -> None:
    commands = _blocks("console")
    assert commands
    for command in commands:
        argv = shlex.split(command)
        proc = subprocess.run(
            [_program(argv[0]), *argv[1:]], cwd=REPO, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_documented_configuration_is_the_example() -> None:
    [toml] = _blocks("toml")
    example = (REPO / "examples" / "cs231n.toml").read_text()
    body = "\n".join(line for line in example.splitlines() if not line.startswith("#")).strip()
    assert toml == body
