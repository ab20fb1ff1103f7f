"""The `backprop-check` command: `main(argv) -> int`, with a subcommand per task.

- `backprop-check grade SUBMISSION ...` grades a submission (a `.py` file, a notebook
  or a folder of them: a class), `checks.cli._grade`;
- `backprop-check errata ...` checks every formula of the notes as written and says
  which hold and which are errata, with the evidence, `checks.cli._errata`;
- `backprop-check classroom-workflow ...` prints the GitHub Classroom workflow, its points from
  the grading configuration, `checks.cli._classroom`.

The bare forms of earlier versions keep working: `backprop-check` alone (or with only
options) is `errata`, `backprop-check FILE ...` is `grade FILE ...`. Each subcommand's
parser checks its own options, so an option is accepted only where it means something.
Every usage or configuration error is a `UsageError`, printed once, exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from checks.cli import _classroom as _cli_classroom
from checks.cli import _errata as _cli_errata
from checks.cli import _grade as _cli_grade
from checks.cli import options
from checks.cli._errors import FAILED, OK, USAGE, Parser, UsageError

__all__ = ["COMMANDS", "FORMATS", "build_parser", "main", "version"]

FORMATS = _cli_grade.FORMAT_NAMES
"""The formats the grader writes (the grader itself is imported only to grade)."""

COMMANDS = ("grade", "errata", "classroom-workflow")

NO_SANDBOX = _cli_grade.NO_ISOLATION

_STATUSES = f"""\
exit status:
  {OK}    every graded function of every submission passes
  {FAILED}    some function of some submission does not pass
  {USAGE}    usage or configuration error (an unknown option, no such file, a bad
       configuration, an output folder that cannot be used): nothing was graded
  {NO_SANDBOX}    no sandbox can be made on this machine (the message says how to get one):
       nothing was run
  130  interrupted (with --output, the reports graded so far are kept)
"""

_ERRATA_STATUSES = f"""\
exit status:
  {OK}    the computed verdicts agree with the catalog of errata
  {FAILED}    they disagree: a new erratum, or a known one that no longer reproduces
  {USAGE}    usage error
"""


def version() -> str:
    """The installed package's version, as `--version` prints it."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("backprop-check")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> Parser:
    """The command's parser: one subparser per command, each with only its own options."""
    parser = Parser(
        prog="backprop-check",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Check the backpropagation formulas of the course's notes, and grade students'\n"
            "implementations of them against the submission contract (docs/contract.md)."
        ),
        epilog=(
            "`backprop-check` alone is `backprop-check errata`; `backprop-check FILE ...` is\n"
            "`backprop-check grade FILE ...`. `backprop-check COMMAND --help` lists a\n"
            "command's options.\n\n"
            + _STATUSES
            + "  (errata: 0 when the verdicts agree with the catalog of errata, 1 when not)\n"
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {version()}", help="print the version"
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    grade = commands.add_parser(
        "grade",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="grade a submission (.py, .ipynb) or a folder of them (a class)",
        description=(
            "Grade a submission against the submission contract (docs/contract.md): a\n"
            "verdict and points per function. A folder of submissions is a class, graded\n"
            "several at once."
        ),
        epilog=_STATUSES,
    )
    _cli_grade.add_arguments(grade)
    grade.set_defaults(run=_cli_grade.run)
    errata = commands.add_parser(
        "errata",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="check every formula of the notes as written: which hold, which are errata",
        description=(
            "Check every formula of the notes as written against numerical derivatives\n"
            "and report which hold and which are errata, with the smallest counterexample\n"
            "(docs/formulas.md)."
        ),
        epilog=_ERRATA_STATUSES,
    )
    options.add_to_argparse(errata, (options.SEED,))
    errata.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="the report's format (default: %(default)s)",
    )
    _cli_errata.add_arguments(errata)
    errata.set_defaults(run=_run_errata)
    classroom = commands.add_parser(
        "classroom-workflow",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="print the GitHub Classroom workflow, its points from the configuration's [points]",
        description=(
            "Print the GitHub Classroom workflow (docs/github-classroom.md): one graded step\n"
            "per function, worth the grading configuration's points for it."
        ),
        epilog=f"exit status:\n  {OK}    printed\n  {USAGE}    usage or configuration error\n",
    )
    _cli_classroom.add_arguments(classroom)
    classroom.set_defaults(run=_cli_classroom.run)
    parser.commands = {"grade": grade, "errata": errata, "classroom-workflow": classroom}
    return parser


def _run_errata(args: argparse.Namespace) -> int:
    if args.examples < 1:
        raise UsageError(f"`--examples` must be at least 1, got {args.examples}", args.prog)
    if args.seed is None:
        args.seed = 0
    return _cli_errata.run(args)


def _with_command(argv: list[str], parser: Parser) -> tuple[list[str], bool]:
    """`argv` with its command made explicit, and whether it was implied (a bare form)."""
    if not argv or argv[0] in COMMANDS or argv[0] in ("-h", "--help", "--version"):
        return (argv or ["errata"]), not argv
    taking_values = {
        flag
        for sub in parser.commands.values()
        for action in sub._actions
        if action.nargs != 0
        for flag in action.option_strings
    }
    tokens = iter(argv)
    for token in tokens:
        if token == "--" or not token.startswith("-"):
            return ["grade", *argv], True
        if token in taking_values:
            next(tokens, None)
    return ["errata", *argv], True


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with `argv` (default: `sys.argv[1:]`) and return its exit status."""
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    explicit, implied = _with_command(given, parser)
    try:
        try:
            args = parser.parse_args(explicit)
        except SystemExit as exit_:  # --help, --version: printed, nothing else to do
            return exit_.code if isinstance(exit_.code, int) else OK
        args.prog = parser.commands[args.command].prog
        return int(args.run(args))
    except UsageError as error:
        print(f"{error.prog}: error: {error.message}", file=sys.stderr)
        if implied:
            form = "with a submission" if explicit[0] == "grade" else "without a submission"
            command = f"backprop-check {explicit[0]}"
            hint = f"(`backprop-check` {form} is `{command}`; see `{command} --help`)"
            print(hint, file=sys.stderr)
        return USAGE
