"""The `backprop-check` command: `main(argv) -> int`.

`_main` parses the command line and dispatches to one module per subcommand: `_errata`
(the notes' verdict, the default with no argument) and `_grade` (grading a submission
or a class). `options` holds the options shared with the pytest plugin; it imports
nothing heavy, and neither does this package's face.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with `argv` (default: `sys.argv[1:]`) and return its exit status."""
    from checks.cli._main import main as run

    return run(argv)
