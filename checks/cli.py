"""The `backprop-check` command.

With no argument, it checks every formula of the notes as written and says which hold
and which are errata, with the evidence. With a submission (a `.py` file, a notebook or
a folder of them), it grades it against the submission contract.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from checks import _cli_errata

# The formats the grader writes; the grader itself is imported only to grade.
FORMATS = ("csv", "gradescope", "html", "json", "junit", "markdown", "text")

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backprop-check",
        description=(
            "Check the backpropagation formulas of the course's notes. With no SUBMISSION, "
            "check every formula as the notes write it and report which are errata (exit "
            "status 1 when the computed verdicts disagree with the catalog of errata). With "
            "a SUBMISSION, grade it against the submission contract (exit status 0 only when "
            "every function passes)."
        ),
    )
    parser.add_argument(
        "submission", nargs="?", help="a student's .py file, .ipynb notebook, or a folder of them"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the seed of every random choice (default: the configuration's, else 0)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="the report's format (default: %(default)s); the errata report takes text or json",
    )
    parser.add_argument("--config", metavar="FILE", help="the grading configuration (TOML)")
    _cli_errata.add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.submission is None:
        if args.format not in ("text", "json"):
            parser.error(f"the errata report is text or json, not {args.format}")
        if args.config is not None:
            parser.error("`--config` is for grading a submission")
        if args.seed is None:
            args.seed = 0
        return _cli_errata.run(args)
    from checks import _cli_grade

    return _cli_grade.run(args)
