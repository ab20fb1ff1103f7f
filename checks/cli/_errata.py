"""`backprop-check` with no submission: the notes' formulas, each checked as written."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

import numpy as np

from backprop.catalog import ERRATA, FORMULAS
from checks.errata import Verdict, iter_notes

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--examples",
        type=int,
        default=60,
        metavar="N",
        help="test points per formula before it is said to hold (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the verdicts; exit 1 when they disagree with the catalog's errata.

    In text, each formula's verdict is printed as soon as it is known; on a terminal,
    a progress line on stderr names the formula being checked (never in a pipe or a
    file, where it would only be noise).
    """
    if args.examples < 1:
        raise SystemExit(f"backprop-check: `--examples` must be at least 1, got {args.examples}")
    text = args.format != "json"
    out = sys.stdout
    progress = _Progress(sys.stderr)
    if text:
        print(_header(args.seed, args.examples), file=out, flush=True)
    verdicts: dict[str, Verdict] = {}
    progress.show(0, next(iter(FORMULAS)))
    for k, verdict in enumerate(iter_notes(seed=args.seed, max_examples=args.examples), 1):
        verdicts[verdict.formula] = verdict
        progress.clear()
        if text:
            print("\n".join(_verdict_lines(verdict.formula, verdict)), file=out, flush=True)
        if k < len(FORMULAS):
            progress.show(k, list(FORMULAS)[k])
    progress.clear()
    if text:
        print("\n".join(_footer(verdicts)), file=out, flush=True)
    else:
        print(
            json.dumps(
                {"seed": args.seed, "formulas": {k: v.to_json() for k, v in verdicts.items()}}
            ),
            file=out,
        )
    return 0 if not disagreements(verdicts) else 1


class _Progress:
    """`checking dL_dz (9/14)…` on a terminal's stderr, overwritten in place."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.on = bool(getattr(stream, "isatty", lambda: False)())
        self.width = 0

    def show(self, done: int, fid: str) -> None:
        if self.on:
            line = f"checking {fid} ({done + 1}/{len(FORMULAS)})..."
            self.width = len(line)
            self.stream.write("\r" + line)
            self.stream.flush()

    def clear(self) -> None:
        if self.on and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def disagreements(verdicts: dict[str, Verdict]) -> list[str]:
    """Where computation and the catalog disagree: a new erratum, or one that vanished."""
    found = []
    for fid, verdict in verdicts.items():
        known = {e.id for e in FORMULAS[fid].errata}
        if verdict.new:
            found.append(f"{fid}: fails, and no erratum of the catalog names the failure")
        for missing in sorted(known - set(verdict.errata)):
            found.append(f"{fid}: erratum {missing} no longer reproduces")
    return found


def render(verdicts: dict[str, Verdict], *, seed: int, examples: int) -> str:
    """The whole text report (what `run` prints piece by piece)."""
    lines = [_header(seed, examples)]
    for fid, verdict in verdicts.items():
        lines.extend(_verdict_lines(fid, verdict))
    lines.extend(_footer(verdicts))
    return "\n".join(lines)


def _header(seed: int, examples: int) -> str:
    return (
        "The notes' formulas, as written, checked against numerical derivatives\n"
        f"(seed {seed}, up to {examples} Hypothesis test points each, failures shrunk):\n"
    )


def _verdict_lines(fid: str, verdict: Verdict) -> list[str]:
    tag = verdict.verdict + (" (" + ", ".join(verdict.errata) + ")" if verdict.errata else "")
    lines = [
        f"  {fid:<17} {tag:<22} max error {verdict.max_abs_error:<10.3g} "
        f"{verdict.method}, {verdict.examples} points tried"
    ]
    if verdict.unchecked:
        lines.append(
            f"      UNCHECKED entries at {verdict.unchecked} of {verdict.examples} points "
            "(every difference crossed a kink): not proven there"
        )
    if verdict.holds:
        return lines
    for eid in verdict.errata:
        lines.append(f"      {eid}: {ERRATA[eid].summary}")
        lines.append(f"          correct form: {ERRATA[eid].correct_form}")
    if verdict.new:
        lines.append("      NEW: no erratum of the catalog names this failure")
    example = verdict.counterexample
    if example is not None:
        lines.append(
            f"      smallest counterexample ({_first_line(example.detail) or example.reason}):"
        )
        for name, value in example.args.items():
            lines.append(_field(f"{name} =", value))
        lines.append(_field("expected", example.expected))
        lines.append(_field("got", example.got))
    return lines


def _footer(verdicts: dict[str, Verdict]) -> list[str]:
    problems = disagreements(verdicts)
    lines = [""]
    if problems:
        lines.append("Computation disagrees with the catalog of errata:")
        lines.extend(f"  - {p}" for p in problems)
    else:
        n = sum(not v.holds for v in verdicts.values())
        lines.append(
            f"{len(verdicts) - n} formulas hold, {n} are errata; every erratum of the catalog "
            "reproduced, and nothing else failed."
        )
    return lines


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def _field(label: str, value: Any) -> str:
    indent = " " * 10
    if isinstance(value, list | tuple) and value and isinstance(value[0], tuple | list):
        text = "\n".join(
            f"layer {l}: dW = {_array(dW)}, db = {_array(db)}"
            for l, (dW, db) in enumerate(value, 1)
        )
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_array(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "\n".join(f"{k}: {_array(v)}" for k, v in value.items())
    else:
        text = _array(value)
    body = text.replace("\n", "\n" + indent + "  ")
    return f"{indent}{label} {body}"


def _array(value: Any) -> str:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return repr(value)
    return np.array2string(arr, precision=4, suppress_small=True, max_line_width=88, threshold=60)
