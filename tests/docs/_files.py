"""The clone's own files, as the docs' tests read them."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["ROOT", "markdown_files", "tracked_files"]

ROOT = Path(__file__).resolve().parents[2]

# Outside git (an unpacked sdist), the tree is walked instead, without what builds and
# tools leave behind.
_LEFT_BEHIND = {".git", ".tox", ".venv", "build", "dist", "__pycache__", ".mypy_cache"}


def tracked_files() -> list[Path]:
    """The project's files: git's list when the clone is a git checkout, else the tree."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
        ).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return [
            p
            for p in sorted(ROOT.rglob("*"))
            if p.is_file()
            and not _LEFT_BEHIND.intersection(p.relative_to(ROOT).parts)
            and not p.name.endswith(".egg-info")
        ]
    return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def markdown_files() -> list[Path]:
    return [p for p in tracked_files() if p.suffix == ".md"]
