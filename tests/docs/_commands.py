"""The commands of the README and docs/: every line of their fenced `sh` blocks."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["sh_blocks"]

_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def sh_blocks(page: Path) -> list[list[str]]:
    """Each fenced `sh` block of `page`: its commands, continuation lines joined."""
    blocks = []
    for body in _BLOCK.findall(page.read_text(encoding="utf-8")):
        commands: list[str] = []
        pending = ""
        for line in body.splitlines():
            if line.endswith("\\"):
                pending += line[:-1].strip() + " "
                continue
            line = (pending + line.strip()).strip()
            pending = ""
            if line and not line.startswith("#"):
                commands.append(line)
        blocks.append(commands)
    return blocks
