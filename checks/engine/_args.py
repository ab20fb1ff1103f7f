"""The arguments of the checks: a gradient given as a value or as a function, options.

`scipy.optimize.check_grad(func, grad, x0)` and every peer take the gradient as a
function; `check_gradient`, `assert_gradient_close` and `taylor_test` take it either
way. An argument that cannot be used at all (not numeric, not callable where it must
be, an option of the wrong type) is a `TypeError` that names it, never a failed check:
a failed check must mean that the gradient is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from checks.engine._problem import Array, FunctionError, Problem

__all__ = ["evaluate_grad", "numeric_block", "option_number"]


def evaluate_grad(p: Problem, grad: object) -> object:
    """`grad` itself, or, when it is a function, its value at the point `x` of `p`."""
    if grad is None:
        raise TypeError("`grad` must be an array, a mapping of arrays or a function, got None")
    if isinstance(grad, np.ndarray | Mapping) or not callable(grad):
        return grad
    point = p.layout.unflatten(p.x.copy())
    try:
        value = grad(point)
    except Exception as exc:
        raise FunctionError(f"`grad` raised {type(exc).__name__}: {exc}") from exc
    if value is None:
        raise TypeError("`grad` is a function: it must return the gradient at `x`, got None")
    return value


def numeric_block(name: str, value: object) -> Array:
    """`value` as a real numeric array, or a `TypeError` naming the block `name`."""
    try:
        arr = np.asarray(value)
    except Exception as exc:
        raise TypeError(
            f"`{name}` must be a real numeric array, could not convert it: {exc}"
        ) from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"`{name}` must be a real numeric array, got {type(value).__name__} "
            f"of dtype {arr.dtype}"
        )
    return arr


def option_number(name: str, value: Any, *, integer: bool = False) -> float:
    """An option's value as a number, or a `TypeError` when it is not one (bool included)."""
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool | np.bool_) or not isinstance(value, kinds):
        what = "an integer" if integer else "a number"
        raise TypeError(f"`{name}` must be {what}, got {type(value).__name__} {value!r}")
    return float(value)
