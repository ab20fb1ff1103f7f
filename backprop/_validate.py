"""Argument checks shared by the reference formulas.

Every public formula validates its arguments here first, so that a bad input is a
`ValueError` or `TypeError` naming the argument and its shape, never a traceback from
deep inside numpy, and never a silent broadcast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

Array: TypeAlias = npt.NDArray[Any]
Params: TypeAlias = Sequence[tuple[Array, Array]]

LOSSES = ("notes", "categorical")


def as_array(name: str, x: object, *, ndim: int | None = None, finite: bool = False) -> Array:
    """`x` as a float64 (or complex128) array, with its dimension checked.

    Integers and booleans become float64; lower-precision floats are promoted to
    float64; complex inputs stay complex (the complex-step derivative needs them).
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # an object whose __array__ raises
        raise TypeError(f"`{name}` must be a numeric array, could not convert it: {exc}") from exc
    if arr.dtype.kind in "biuf":
        arr = arr.astype(np.float64, copy=False)
    elif arr.dtype.kind == "c":
        arr = arr.astype(np.complex128, copy=False)
    else:
        raise TypeError(f"`{name}` must be a numeric array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        if ndim == 2:
            hint = " with examples as columns, e.g. x.reshape(-1, 1) for one example"
        else:
            hint = ""
        raise ValueError(f"`{name}` must have {ndim} dimension(s){hint}, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite, got {_count_bad(arr)} NaN or infinite entries")
    return arr


def _count_bad(arr: Array) -> int:
    return int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))


def same_shape(name_a: str, a: Array, name_b: str, b: Array) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same shape, got {a.shape} and {b.shape}"
        )


def check_loss(kind: str) -> str:
    if kind not in LOSSES:
        raise ValueError(f"`kind` must be one of {LOSSES}, got {kind!r}")
    return kind


def probabilities(name: str, y_hat: object) -> Array:
    """`y_hat` as a 2-D array of probabilities, each entry in [0, 1]."""
    arr = as_array(name, y_hat, ndim=2)
    real = arr.real
    if np.any(np.isnan(real)) or np.any(real < 0) or np.any(real > 1):
        raise ValueError(f"`{name}` must hold probabilities in [0, 1], got values outside it")
    return arr


def predictions(y_hat: object, y: object) -> tuple[Array, Array]:
    """`y_hat` (probabilities) and `y` (labels), both 2-D and of the same shape."""
    y_hat_arr = probabilities("y_hat", y_hat)
    y_arr = as_array("y", y, ndim=2, finite=True)
    same_shape("y_hat", y_hat_arr, "y", y_arr)
    return y_hat_arr, y_arr


def elementwise(name_a: str, a: object, name_b: str, b: object) -> tuple[Array, Array]:
    """Two 2-D arrays of the same shape, for an elementwise formula."""
    a_arr, b_arr = as_array(name_a, a, ndim=2), as_array(name_b, b, ndim=2)
    same_shape(name_a, a_arr, name_b, b_arr)
    return a_arr, b_arr


def product(
    name_a: str, a: object, name_b: str, b: object, *, axes: tuple[int, int], what: str
) -> tuple[Array, Array]:
    """Two 2-D arrays whose dimensions `a.shape[axes[0]]`, `b.shape[axes[1]]` must agree."""
    a_arr, b_arr = as_array(name_a, a, ndim=2), as_array(name_b, b, ndim=2)
    if a_arr.shape[axes[0]] != b_arr.shape[axes[1]]:
        raise ValueError(
            f"`{name_a}` {a_arr.shape} and `{name_b}` {b_arr.shape} must have the same "
            f"number of {what}"
        )
    return a_arr, b_arr


def params_list(params: object, *, finite: bool = True) -> list[tuple[Array, Array]]:
    """`params` as a list of `(W_l, b_l)` with `W_l` `(n_l, n_{l-1})`, `b_l` `(n_l, 1)`."""
    if isinstance(params, np.ndarray) or not isinstance(params, Sequence) or not params:
        raise TypeError("`params` must be a non-empty list of (W_l, b_l) pairs, in layer order")
    checked: list[tuple[Array, Array]] = []
    for l, pair in enumerate(params, start=1):
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError(f"`params[{l - 1}]` must be a pair (W_{l}, b_{l})")
        W = as_array(f"W_{l}", pair[0], ndim=2, finite=finite)
        b = as_array(f"b_{l}", pair[1], finite=finite)
        if b.shape != (W.shape[0], 1):
            raise ValueError(
                f"`b_{l}` must have shape {(W.shape[0], 1)} to match `W_{l}` {W.shape}, "
                f"got {b.shape}"
            )
        if checked and W.shape[1] != checked[-1][0].shape[0]:
            raise ValueError(
                f"`W_{l}` has shape {W.shape}: its {W.shape[1]} columns must match the "
                f"{checked[-1][0].shape[0]} rows of `W_{l - 1}`"
            )
        checked.append((W, b))
    return checked


def inputs(params: list[tuple[Array, Array]], X: object) -> Array:
    arr = as_array("X", X, ndim=2, finite=True)
    n_0 = params[0][0].shape[1]
    if arr.shape[0] != n_0:
        raise ValueError(
            f"`X` must have {n_0} rows to match `W_1` {params[0][0].shape}, got {arr.shape}"
        )
    return arr


def labels(params: list[tuple[Array, Array]], X: Array, Y: object) -> Array:
    arr = as_array("Y", Y, ndim=2, finite=True)
    expected = (params[-1][0].shape[0], X.shape[1])
    if arr.shape != expected:
        raise ValueError(f"`Y` must have shape (n_L, m) = {expected}, got {arr.shape}")
    return arr
