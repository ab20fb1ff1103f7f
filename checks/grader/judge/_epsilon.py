"""Log guards: `np.log(y_hat + 1e-7)` and `1/(y_hat + eps)`, recognised with the ε used.

Course code often adds a small ε inside the loss's logarithms, or to the denominators
of its gradient, so that a probability of exactly 0 does not give `log(0)` or a
division by zero. The result then differs from the exact formula by about `ε/ŷ`
relative: far above float64's rounding (the grader's tolerance), far below any
mistake of the catalog. This module finds the ε: among the values students write
(`k·10^-e`, k in 1, 2, 5, and float64's machine epsilon), the one whose guarded formula
the result equals *to the grader's own rounding tolerance* (`_compare.compare`), so a
guess never passes: the guarded formula must reproduce the result as closely as a
correct result reproduces the reference.

The grader then passes the function with a note by default, or fails it with the
diagnosis ``log-epsilon`` when the instructor asks for exact formulas
(``log_epsilon = "strict"`` in the configuration).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from backprop.catalog import FORMULAS
from checks.findings import as_float64
from checks.grader.judge._compare import compare, compare_pairs

__all__ = ["CANDIDATES", "EPSILON_FUNCTIONS", "Guard", "find_guard", "guarded"]

Array = npt.NDArray[Any]

#: The ε students write: 1e-3 down to 1e-16, with 2 and 5 between, and float64's eps.
CANDIDATES: Final[tuple[float, ...]] = tuple(
    sorted(
        {k * 10.0**-e for e in range(3, 17) for k in (1.0, 2.0, 5.0)}
        | {float(np.finfo(np.float64).eps)},
        reverse=True,
    )
)
#: The contract functions that compute a guarded logarithm or ratio, directly or inside.
EPSILON_FUNCTIONS: Final = ("loss", "dL_dyhat", "dL_daL", "backward")
#: The grader's tolerance grows linearly with its number of terms: 10 times as many terms
#: is 10 times the tolerance, the margin by which a guard must differ from the exact.
_DISTINCT: Final = 10


@dataclass(frozen=True)
class Guard:
    """An ε found in a result: its value and where it was added (`where`, in words)."""

    epsilon: float
    where: str

    def sentence(self, name: str) -> str:
        return (
            f"{name} adds ε = {self.epsilon:g} {self.where}: its result equals the exact "
            f"formula with that guard to rounding, and differs from the exact one by about "
            f"ε/ŷ relative"
        )


def _log_terms(y_hat: Array, y: Array, kind: str, eps: float, both: bool) -> Array:
    m = y.shape[1]
    with np.errstate(all="ignore"):
        terms = np.where(y == 0, 0.0, y * np.log(y_hat + eps))
        if kind == "notes":
            rest = np.log(1 - y_hat + (eps if both else 0.0))
            terms = terms + np.where(y == 1, 0.0, (1 - y) * rest)
    return as_float64(-terms.sum() / m)


def _dyhat(y_hat: Array, y: Array, kind: str, eps: float, variant: str) -> Array:
    m = y.shape[1]
    with np.errstate(all="ignore"):
        if variant == "combined":  # (ŷ - y) / (ŷ(1 - ŷ) + ε): the notes' form simplified
            return as_float64((y_hat - y) / (y_hat * (1 - y_hat) + eps) / m)
        g = -np.where(y == 0, 0.0, y / (y_hat + eps))
        if kind == "notes":
            second = 1 - y_hat + (eps if variant == "both" else 0.0)
            g = g + np.where(y == 1, 0.0, (1 - y) / second)
    return as_float64(g / m)


def _through_softmax(g: Array, y_hat: Array) -> Array:
    """`∂L/∂a_L` from `∂L/∂ŷ`, per column `ŷ * (g - gᵀŷ)` (the softmax's Jacobian)."""
    return as_float64(y_hat * (g - np.sum(g * y_hat, axis=0, keepdims=True)))


_VARIANTS: Final = {
    "both": "inside both logarithms (log(ŷ + ε) and log(1 - ŷ + ε))",
    "first": "inside log(ŷ + ε)",
    "combined": "to the denominator ŷ(1 - ŷ) + ε",
}
_RATIO: Final = {
    "both": "to the denominators (y/(ŷ + ε) and (1 - y)/(1 - ŷ + ε))",
    "first": "to the denominator y/(ŷ + ε)",
    "combined": "to the denominator ŷ(1 - ŷ) + ε",
}


def _variants(fid: str, kind: str) -> tuple[str, ...]:
    if kind == "categorical":
        return ("first",)
    return ("both", "first") if fid == "loss" else ("both", "first", "combined")


def guarded(fid: str, args: Mapping[str, Any], kind: str, eps: float, variant: str) -> Any:
    """The result of `fid` at `args` with the guard `eps` added as `variant` says."""
    if fid == "loss":
        return _log_terms(
            as_float64(args["y_hat"]), as_float64(args["y"]), kind, eps, variant == "both"
        )
    if fid == "dL_dyhat":
        return _dyhat(as_float64(args["y_hat"]), as_float64(args["y"]), kind, eps, variant)
    if fid == "dL_daL":
        y_hat, y = as_float64(args["y_hat"]), as_float64(args["y"])
        return _through_softmax(_dyhat(y_hat, y, kind, eps, variant), y_hat)
    if fid == "backward":
        compose = FORMULAS["backward"].compose
        assert compose is not None
        step: Callable[..., Array] = partial(_guarded_daL, kind=kind, eps=eps, variant=variant)
        return compose({"dL_daL": step})(args["params"], args["X"], args["Y"], kind=kind)
    raise ValueError(f"`fid` must be one of {EPSILON_FUNCTIONS}, got {fid!r}")


def _guarded_daL(y_hat: Array, y: Array, *, kind: str, eps: float, variant: str) -> Array:
    return _through_softmax(_dyhat(as_float64(y_hat), as_float64(y), kind, eps, variant), y_hat)


def _dtype(got: Any) -> np.dtype[Any]:
    """The least precise floating dtype among the arrays of `got`."""
    if isinstance(got, list | tuple):
        found = [_dtype(x) for x in got]
        return min(found, key=lambda d: d.itemsize, default=np.dtype(np.float64))
    if isinstance(got, np.ndarray | np.generic) and got.dtype.kind == "f":
        return got.dtype
    return np.dtype(np.float64)


def _like(value: Any, got: Any) -> Array:
    """`value` in the precision of `got`."""
    return np.asarray(value, dtype=_dtype(got))


def _gap(a: Any, b: Any) -> float:
    """The largest absolute difference of two results (arrays, or lists of pairs)."""
    if isinstance(a, list):
        return max(
            (_gap(x, y) for pa, pb in zip(a, b, strict=True) for x, y in zip(pa, pb, strict=True)),
            default=0.0,
        )
    x, y = np.asarray(a), np.asarray(b)
    if x.dtype.kind not in "biuf" or y.dtype.kind not in "biuf" or x.shape != y.shape:
        raise TypeError(f"not two real arrays of one shape: {x.dtype}{x.shape}, {y.dtype}{y.shape}")
    diff = x.astype(np.float64) - y.astype(np.float64)
    return float(np.max(np.abs(diff), initial=0.0))


def _beyond_every_guard(
    fid: str, args: Mapping[str, Any], kind: str, variant: str, expected: Any, got: Any, tol: float
) -> bool:
    """Whether `got` is so far from the exact result that no candidate ε can explain it.

    Notes
    -----
    A guard moves the result away from the exact one more the larger it is: each term
    `log(ŷ + ε)` or `1/(ŷ + ε)` moves monotonically with ε, and the Jacobian's sums of
    them nearly so. When `got` is more than 10 times further from the exact result than
    the largest candidate's result, plus 10 of the comparison's tolerances `tol`, no
    candidate comes within `tol` of it, and the search of 43 candidates (for
    ``backward``, each a whole backward pass) is skipped: it was most of the time of
    grading a wrong `backward`. Only a diagnosis depends on it, never a verdict. Any
    doubt (a result that does not compare, a candidate that raises) searches as before.
    """
    try:
        reach = _gap(guarded(fid, args, kind, CANDIDATES[0], variant), expected)
        off = _gap(got, expected)
    except (ValueError, TypeError, FloatingPointError):
        return False
    if not (np.isfinite(reach) and np.isfinite(off)):
        return False
    return off > 10 * (reach + tol)


def find_guard(
    fid: str, args: Mapping[str, Any], got: Any, kind: str, n_terms: int
) -> Guard | None:
    """The guard ε that makes the exact formula of `fid` reproduce `got`, or None.

    Notes
    -----
    A guard in ``dL_daL`` or ``backward`` comes through the softmax's Jacobian
    (`∂L/∂a_L = ŷ * (g - gᵀŷ)` with `g = ∂L/∂ŷ` guarded); with the categorical loss and
    the shortcut `ŷ - y`, there is no ratio to guard. The candidates run from the
    largest ε down, and the first that matches within the grader's tolerance wins: two
    candidates a factor 2 apart change the result by about `ε/ŷ`, distinguishable
    whenever the guard is.
    """
    if fid not in EPSILON_FUNCTIONS:
        return None
    expected = FORMULAS[fid].reference(dict(args), kind)
    if fid == "backward":
        first = compare_pairs(expected, got, n_terms=n_terms)[0]
    else:
        first = compare(expected, got, n_terms=n_terms)
    if first.ok:
        return None
    tol = first.tolerance if np.isfinite(first.tolerance) else 0.0
    far = _DISTINCT * n_terms  # the guard must differ from the exact by 10 tolerances
    words = _VARIANTS if fid == "loss" else _RATIO
    with np.errstate(all="ignore"):
        for variant in _variants(fid, kind):
            if _beyond_every_guard(fid, args, kind, variant, expected, got, tol):
                continue
            for eps in CANDIDATES:
                try:
                    template = guarded(fid, args, kind, eps, variant)
                except (ValueError, FloatingPointError):
                    continue
                # The guard must show at the result's own precision: a float32 result
                # within float32's rounding of the exact formula has no guard to find.
                if fid == "backward":
                    ok = compare_pairs(template, got, n_terms=n_terms)[0].ok
                    like = [(_like(dW, got), _like(db, got)) for dW, db in template]
                    differs = not compare_pairs(expected, like, n_terms=far)[0].ok
                else:
                    ok = compare(template, got, n_terms=n_terms).ok
                    differs = not compare(expected, _like(template, got), n_terms=far).ok
                if ok and differs:
                    return Guard(eps, words[variant])
    return None
