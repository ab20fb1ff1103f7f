"""`backprop-check` with no submission: the notes' formulas, each checked as written."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from backprop.catalog import ERRATA, FORMULAS
from checks.errata import Verdict, check_notes

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
    """Print the verdicts; exit 1 when they disagree with the catalog's errata."""
    if args.examples < 1:
        raise SystemExit(f"backprop-check: `--examples` must be at least 1, got {args.examples}")
    verdicts = check_notes(seed=args.seed, max_examples=args.examples)
    if args.format == "json":
        print(
            json.dumps(
                {"seed": args.seed, "formulas": {k: v.to_json() for k, v in verdicts.items()}}
            )
        )
    else:
        print(render(verdicts, seed=args.seed, examples=args.examples))
    return 0 if not disagreements(verdicts) else 1


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
    lines = [
        "The notes' formulas, as written, checked against numerical derivatives",
        f"(seed {seed}, up to {examples} Hypothesis test points each, failures shrunk):",
        "",
    ]
    for fid, verdict in verdicts.items():
        tag = verdict.verdict + (" (" + ", ".join(verdict.errata) + ")" if verdict.errata else "")
        lines.append(
            f"  {fid:<17} {tag:<22} max error {verdict.max_abs_error:<10.3g} "
            f"{verdict.method}, {verdict.examples} points tried"
        )
        if verdict.unchecked:
            lines.append(
                f"      UNCHECKED entries at {verdict.unchecked} of {verdict.examples} points "
                "(every difference crossed a kink): not proven there"
            )
        if verdict.holds:
            continue
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
    problems = disagreements(verdicts)
    lines.append("")
    if problems:
        lines.append("Computation disagrees with the catalog of errata:")
        lines.extend(f"  - {p}" for p in problems)
    else:
        n = sum(not v.holds for v in verdicts.values())
        lines.append(
            f"{len(verdicts) - n} formulas hold, {n} are errata; every erratum of the catalog "
            "reproduced, and nothing else failed."
        )
    return "\n".join(lines)


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
