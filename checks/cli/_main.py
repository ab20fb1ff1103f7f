"""The `backprop-check` command.

With no argument, it checks every formula of the notes as written and says which hold
and which are errata, with the evidence. With a submission (a `.py` file, a notebook or
a folder of them), it grades it against the submission contract; a folder is a class,
graded several submissions at once, each report written as soon as it is known.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from checks.cli import _errata as _cli_errata
from checks.cli import _options

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
            "every function passes); a folder of submissions is a class, graded in parallel."
        ),
    )
    parser.add_argument(
        "submission", nargs="?", help="a student's .py file, .ipynb notebook, or a folder of them"
    )
    _options.add_to_argparse(parser, (_options.SEED,))
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="the report's format (default: %(default)s); the errata report takes text or json",
    )
    _options.add_to_argparse(parser, (_options.CONFIG,))
    batch = parser.add_argument_group("grading a folder (a class)")
    batch.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N",
        help="grade N submissions at once (default: the machine's cores)",
    )
    batch.add_argument(
        "--output",
        "-o",
        metavar="DIR",
        help="write each submission's JSON report to DIR/reports/ as soon as it is graded, "
        "then DIR/summary.json and the chosen format's file (grades.csv, report.html, ...); "
        "stdout then gets the class summary only (as JSON with --format json)",
    )
    batch.add_argument(
        "--resume",
        action="store_true",
        help="with --output: grade only the submissions without a report in DIR, then write "
        "the output of all of them",
    )
    parser.add_argument(
        "--isolation",
        choices=("auto", "none"),
        default="auto",
        help="how submissions run: auto (default) in a bubblewrap sandbox, or refuse with "
        "exit status 3 when none can be made; none runs them WITHOUT isolation, as you, "
        "for checking your own code only",
    )
    _cli_errata.add_arguments(parser)
    return parser


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 1, got `{text}`")
    return jobs


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.submission is None:
        if args.format not in ("text", "json"):
            parser.error(f"the errata report is text or json, not {args.format}")
        for option in ("config", "jobs", "output"):
            if getattr(args, option) is not None:
                parser.error(f"`--{option}` is for grading a submission")
        if args.resume:
            parser.error("`--resume` is for grading a submission")
        if args.seed is None:
            args.seed = 0
        return _cli_errata.run(args)
    from checks.cli import _grade as _cli_grade

    return _cli_grade.run(args)
