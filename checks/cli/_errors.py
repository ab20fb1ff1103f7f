"""The command's one error type for usage and configuration errors (exit status 2).

Every mistake of the person typing the command (an unknown option, a missing file, a
bad TOML, an output folder that cannot be used) raises `UsageError`, whatever finds it:
argparse (through `Parser.error`), the subcommand's own checks, or the grader's
validation. `checks.cli._main.main` prints it once, as argparse prints its own errors,
and returns `USAGE`.
"""

from __future__ import annotations

import argparse
from typing import Any, Final, NoReturn

__all__ = ["FAILED", "OK", "USAGE", "Parser", "UsageError"]

OK: Final = 0
"""Every graded function of every submission passes (the errata: computation agrees)."""
FAILED: Final = 1
"""Some function of some submission does not pass (the errata: computation disagrees)."""
USAGE: Final = 2
"""A usage or configuration error: nothing was graded. pytest and ruff use 2 alike."""


class UsageError(Exception):
    """A command line, file or configuration that cannot be used; the message says why.

    Parameters
    ----------
    message : str
        What is wrong, naming the option or file in backticks.
    prog : str
        The (sub)command it concerns, for the prefix of the message.
    """

    def __init__(self, message: str, prog: str = "backprop-check") -> None:
        super().__init__(message)
        self.message, self.prog = message, prog


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are `UsageError` rather than `SystemExit`.

    Notes
    -----
    argparse exits by itself on an error; raising instead lets `main` return its status
    like every other outcome, and keeps one path for all usage errors.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: dict[str, Parser] = {}
        """The subcommands' parsers, by name (the top-level parser's only)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)
