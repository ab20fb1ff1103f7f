"""The `backprop-check` command."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from backprop.catalog import FORMULAS

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backprop-check",
        description="Check the backpropagation formulas of the course's notes.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    build_parser().parse_args(argv)
    for entry in FORMULAS.values():
        errata = ", ".join(f"{e.id}: {e.summary}" for e in entry.errata) or "none known"
        print(f"{entry.id:<17} {entry.notes}\n{'':<17} ({entry.where}); errata: {errata}")
    return 0
