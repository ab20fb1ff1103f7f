"""Eager checks of the bounds of `checks.strategies`: a bad bound fails when the strategy
is made, not when it draws, with a message naming it.

The errors are `hypothesis.errors.InvalidArgument`, as Hypothesis's own strategies
raise, and also `ValueError` or `TypeError`, as the rest of the project raises.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from backprop import LOSSES

__all__ = [
    "KINDS",
    "BadBound",
    "BadType",
    "check_int",
    "check_kind",
    "check_range",
    "check_real",
]

KINDS = LOSSES


class BadBound(InvalidArgument, ValueError):
    """A bound of a strategy out of its range."""


class BadType(InvalidArgument, TypeError):
    """A bound of a strategy of the wrong type."""


def check_int(name: str, value: object, *, at_least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise BadType(f"`{name}` must be an int, got {value!r}")
    if value < at_least:
        raise BadBound(f"`{name}` must be at least {at_least}, got {value}")
    return int(value)


def check_range(name: str, low: object, high: object, *, at_least: int) -> tuple[int, int]:
    lo = check_int(f"min_{name}", low, at_least=at_least)
    hi = check_int(f"max_{name}", high, at_least=at_least)
    if lo > hi:
        raise BadBound(f"`min_{name}` must be at most `max_{name}`, got {lo} > {hi}")
    return lo, hi


def check_real(
    name: str, value: object, *, above: float, below: float = np.inf, at_most: float = np.inf
) -> float:
    """`value` in `(above, below)`, or in `(above, at_most]` when `at_most` is given."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise BadType(f"`{name}` must be a real number, got {value!r}")
    if not (above < value < below and value <= at_most):
        interval = f"({above:g}, {at_most:g}]" if at_most < np.inf else f"({above:g}, {below:g})"
        raise BadBound(f"`{name}` must be in {interval}, got {value!r}")
    return float(value)


def check_kind(kind: object) -> st.SearchStrategy[str]:
    if isinstance(kind, st.SearchStrategy):
        return kind
    if kind not in KINDS:
        raise BadBound(f"`kind` must be one of {KINDS} or a strategy, got {kind!r}")
    return st.just(str(kind))
