"""The options that the command and the pytest plugin share, defined once.

Every shared option has one name, `PREFIX` + name, in both places (`--backprop-seed`,
`--backprop-config`); the command also takes it without the prefix (`--seed`,
`--config`), its historical spelling. Both parse and resolve it the same way
(`resolve_seed`); the command stores it under its name (`args.seed`), pytest under
`Option.dest` (`backprop_seed`, unique among plugins). So `pytest --submission FILE
--backprop-seed 3` grades exactly as `backprop-check FILE --seed 3` does.

This module imports nothing heavy: the plugin imports it when pytest starts.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "CONFIG",
    "EXAMPLES",
    "ISOLATION",
    "PLUGIN_GROUP",
    "PREFIX",
    "SEED",
    "SHARED",
    "SUBMISSION",
    "Option",
    "add_to_argparse",
    "add_to_pytest",
    "at_least_1",
    "resolve_seed",
]

PREFIX = "--backprop-"
PLUGIN_GROUP = "backprop-check"


class _AddOption(Protocol):
    def addoption(self, *opts: str, **attrs: Any) -> None: ...


@dataclass(frozen=True)
class Option:
    """One option: its name without the prefix, and what argparse/pytest need to know."""

    name: str
    help: str
    metavar: str
    type: Callable[[str], Any] = str
    short: str | None = None
    """A spelling without the prefix, for the plugin too (`--submission`)."""

    @property
    def dest(self) -> str:
        """Where pytest stores it: `backprop_seed`, unique among plugins."""
        return "backprop_" + self.name.replace("-", "_")

    @property
    def flag(self) -> str:
        return PREFIX + self.name


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is an integer, got `{text}`") from None


SUBMISSION = Option(
    "submission",
    "the student's .py file or .ipynb notebook to grade, one test per contract function",
    "FILE",
    short="--submission",
)
CONFIG = Option("config", "the grading configuration (TOML)", "FILE")
SEED = Option(
    "seed",
    "the seed of every random choice (default: the configuration's, else 0)",
    "N",
    type=_seed,
)


def at_least_1(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 1, got `{text}`")
    return number


EXAMPLES = Option(
    "examples",
    "random test points per function (default: the configuration's `examples`, else 12)",
    "N",
    type=at_least_1,
)


def _isolation(text: str) -> str:
    if text not in ("auto", "none"):
        raise argparse.ArgumentTypeError(f"the isolation is auto or none, got `{text}`")
    return text


ISOLATION = Option(
    "isolation",
    "auto (default): run the submission in a bubblewrap sandbox, or refuse when none can be"
    " made; none: WITHOUT isolation, as you, for your own code only",
    "MODE",
    type=_isolation,
)
"""Both the command's (`--isolation`, `--backprop-isolation`) and the plugin's."""
SHARED = (CONFIG, SEED, EXAMPLES)
"""The options of the command that the plugin has too (the plugin also has SUBMISSION)."""


def add_to_argparse(parser: argparse.ArgumentParser, options: tuple[Option, ...]) -> None:
    """Add `options` to the command: `--name` (as before) and `--backprop-name`."""
    for option in options:
        parser.add_argument(
            "--" + option.name,
            option.flag,
            dest=option.name,
            type=option.type,
            default=None,
            metavar=option.metavar,
            help=option.help,
        )


def add_to_pytest(group: _AddOption, options: tuple[Option, ...]) -> None:
    """Add `options` to pytest's option group: `--backprop-name` (and the short spelling)."""
    for option in options:
        flags = [option.flag] + ([option.short] if option.short else [])
        group.addoption(
            *flags,
            dest=option.dest,
            type=option.type,
            default=None,
            metavar=option.metavar,
            help=option.help,
        )


def resolve_seed(given: int | None, configured: int | None) -> int:
    """The seed in force: the option's, else the configuration's, else 0."""
    if given is not None:
        return given
    return configured if configured is not None else 0
