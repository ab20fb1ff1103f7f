"""The `backprop-check` command: `main(argv) -> int`.

`_main` parses the command line and dispatches to one module per subcommand: `_errata`
(`backprop-check errata`, the notes' verdict, also the bare `backprop-check`), `_grade`
(`backprop-check grade`, grading a submission or a class, also `backprop-check FILE`)
and `_classroom` (`backprop-check classroom-workflow`). `_errors` holds the one error
type of usage and configuration errors (exit status 2). `options` holds the options
shared with the pytest plugin; it imports nothing heavy, and neither does this
package's face. `python -m checks.cli` runs the command too.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with `argv` (default: `sys.argv[1:]`) and return its exit status."""
    from checks.cli._main import main as run

    return run(argv)
