"""Comparing a submission's plain result with the reference's, within rounding.

Everything here runs in the checker's process on plain arrays that came back from the
submission's process: nothing the submission did can reach it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Comparison", "compare", "n_terms", "tolerance"]

# Rounding of a correct computation: each output entry of these formulas is a sum of at
# most `n` products of inputs (n the largest dimension involved, times the depth for a
# whole pass); in the worst case its error is n·eps·Σ|terms|, and Σ|terms| is at most
# the scale of the inputs' products. We allow 16·n·eps64 of that scale (at least 1, the
# inputs' own scale): a correct result, computed any reasonable way in float64, passes;
# a wrong formula (an O(1) relative change in some entry) fails by many orders of
# magnitude.
#
# A result in a lower precision (float32, float16) gets, on top, its own rounding: the
# worst-case error of n roundings in that precision, n·eps_low (Higham's γ_n = n·u with
# u = eps/2, times 2), relative to the largest expected value and with no absolute
# floor. An absolute floor (max(1, ...)) scaled by float16's eps let a result off by
# 12 % everywhere pass; relative to the values, n·eps16 stays below 12 % up to n = 122,
# and n·eps32 below 1e-5 up to n = 83.
_SAFETY = 16.0


def n_terms(args: dict[str, Any]) -> int:
    """A bound on how many rounded terms add up in one entry of the result."""
    total = 0
    for value in args.values():
        if isinstance(value, list):  # params: a whole forward and backward pass
            total += sum(sum(np.shape(W)) for W, _ in value)
        else:
            total += max(np.shape(value), default=1)
    return max(total, 1)


def tolerance(expected: np.ndarray, *, n_terms: int, dtype: np.dtype[Any], scale: float) -> float:
    """The absolute tolerance for one result (the comment above says why).

    ``16 · n · eps64 · max(scale, max|expected|)``, plus, for a result in a precision
    lower than float64, ``n · eps(dtype) · max|expected|``.
    """
    eps64 = float(np.finfo(np.float64).eps)
    largest = float(np.max(np.abs(expected), initial=0.0))
    n = max(n_terms, 1)
    tol = _SAFETY * n * eps64 * max(scale, largest, 1e-300)
    if dtype.kind == "f" and dtype.itemsize < 8:
        tol += n * float(np.finfo(dtype).eps) * largest
    return tol


@dataclass(frozen=True)
class Comparison:
    """How a result compares with the expected one."""

    ok: bool
    problem: str  # "" | "wrong-shape" | "not-finite" | "values" | "not-numeric"
    max_abs_error: float = 0.0
    where: tuple[int, ...] = ()
    tolerance: float = 0.0
    low_precision: bool = False
    detail: str = ""


def compare(expected: Any, got: Any, *, n_terms: int, scale: float = 1.0) -> Comparison:
    """Compare one result (array or scalar) with the expected array, shape first."""
    expected = np.asarray(expected, dtype=np.float64)
    if not isinstance(got, np.ndarray | float | int | np.generic) or isinstance(got, bool):
        return Comparison(
            False, "not-numeric", np.inf, detail=f"returned {type(got).__name__}, not an array"
        )
    got_arr = np.asarray(got)
    if got_arr.dtype.kind not in "biuf":
        return Comparison(
            False, "not-numeric", np.inf, detail=f"returned an array of dtype {got_arr.dtype}"
        )
    low = got_arr.dtype.kind == "f" and got_arr.dtype.itemsize < 8
    if got_arr.shape != expected.shape:
        return Comparison(
            False,
            "wrong-shape",
            np.inf,
            low_precision=low,
            detail=f"shape {got_arr.shape}, expected {expected.shape}",
        )
    finite = np.isfinite(got_arr)
    if not np.all(finite[np.isfinite(expected)]):
        where = tuple(int(i) for i in np.argwhere(~finite & np.isfinite(expected))[0])
        return Comparison(
            False,
            "not-finite",
            np.inf,
            where,
            low_precision=low,
            detail=f"{got_arr[where]} at index {where}, where the result is finite",
        )
    tol = tolerance(expected, n_terms=n_terms, dtype=got_arr.dtype, scale=scale)
    diff = np.where(np.isfinite(expected), np.abs(got_arr.astype(np.float64) - expected), 0.0)
    if diff.size == 0:
        return Comparison(True, "", 0.0, tolerance=tol, low_precision=low)
    where = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
    error = float(diff[where])
    ok = error <= tol
    detail = "" if ok else f"largest error {error:.3g} at index {where} (tolerance {tol:.2g})"
    return Comparison(ok, "" if ok else "values", error, where, tol, low, detail)


def compare_pairs(
    expected: list[tuple[np.ndarray, np.ndarray]], got: Any, *, n_terms: int, scale: float = 1.0
) -> tuple[Comparison, str]:
    """Compare `backward`'s list of `(dW_l, db_l)`; returns the worst and which block."""
    if not isinstance(got, list | tuple) or len(got) != len(expected):
        n = len(got) if isinstance(got, list | tuple) else type(got).__name__
        return Comparison(
            False,
            "wrong-shape",
            np.inf,
            detail=f"returned {n} items, expected a list of {len(expected)} (dW_l, db_l) pairs",
        ), ""
    worst, worst_name = Comparison(True, ""), ""
    for l, (pair, (dW, db)) in enumerate(zip(got, expected, strict=True), start=1):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            return Comparison(
                False, "wrong-shape", np.inf, detail=f"item {l - 1} is not a pair (dW_{l}, db_{l})"
            ), f"layer {l}"
        for name, g, e in ((f"dW_{l}", pair[0], dW), (f"db_{l}", pair[1], db)):
            c = compare(e, g, n_terms=n_terms, scale=scale)
            if not c.ok:
                return Comparison(
                    c.ok,
                    c.problem,
                    c.max_abs_error,
                    c.where,
                    c.tolerance,
                    c.low_precision,
                    f"`{name}`: {c.detail}",
                ), name
            if c.max_abs_error >= worst.max_abs_error:
                worst, worst_name = c, name
            worst = Comparison(
                True,
                "",
                worst.max_abs_error,
                worst.where,
                worst.tolerance,
                worst.low_precision or c.low_precision,
            )
    return worst, worst_name


def same_result(first: Any, second: Any) -> bool:
    """Whether two results of the same call are identical (NaN equal to NaN)."""
    if isinstance(first, list | tuple) or isinstance(second, list | tuple):
        if not (isinstance(first, list | tuple) and isinstance(second, list | tuple)):
            return False
        return len(first) == len(second) and all(
            same_result(a, b) for a, b in zip(first, second, strict=True)
        )
    if isinstance(first, Mapping) or isinstance(second, Mapping):
        return bool(first == second)
    a, b = np.asarray(first), np.asarray(second)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))
