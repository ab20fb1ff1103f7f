"""Findings: the shape of a difference between a result `G` and the truth `R`, in one vocabulary.

The engine (`fingerprint`, on a numerical truth) and the grader's diagnoses
(`checks.grader.judge`, on the exact reference) name what they find with the identifiers
of one registry, `DIAGNOSES`, as `Finding`s, and fit a constant factor the same way
(`fit_factor`). The engine's own identifier is ``zero-pattern``: `G` and `R` agree
except where one of them is exactly zero (a ReLU mask missing, or applied on the wrong
entries). Findings are listed most specific first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "DIAGNOSES",
    "Finding",
    "as_float64",
    "fingerprint",
    "fit_factor",
    "rel_diff",
    "relative_tolerance",
]

Array = npt.NDArray[Any]

#: Every finding's identifier with its general explanation: the contract's (docs/contract.md),
#: then the grader's own, then the engine's. docs/diagnoses.md documents each one.
DIAGNOSES: Final[dict[str, str]] = {
    "factor-m": "off by exactly a factor m or 1/m (the mean over the m examples)",
    "scaled": "off by another constant factor (the report says which)",
    "sign": "the negative of the expected result",
    "transposed": "the transpose of the expected result",
    "wrong-shape": "a shape other than the contract's (the report says both)",
    "bias-shape": "a bias gradient of shape (n,) or (1, n) instead of (n, 1) (erratum E4)",
    "wrong-axis": "a softmax, sum or mean taken over the wrong axis",
    "relu-mask-at-zero": "the ReLU mask is 1 at z == 0 (the notes' 1_{R+*} is 0 there)",
    "softmax-jacobian-diagonal": (
        "the softmax Jacobian's diagonal alone, so its off-diagonal terms are missing "
        "(errata E1, E2)"
    ),
    "mutates-input": "an argument was changed in place (the caller's array is not the same after)",
    "not-finite": "NaN or infinity where the true result is finite (e.g. an overflowing softmax)",
    "mask-added": "the ReLU mask added to ∂L/∂a_l instead of multiplied (erratum E3)",
    "missing-relu-mask": "the ReLU mask 1_{R+*}(z_l) is missing: nonzero where z_l ≤ 0",
    "mask-on-wrong-array": "the ReLU mask taken from the wrong array, or a_l used as the mask",
    "sigmoid-derivative": "the sigmoid's derivative, a(1 - a), in place of ReLU's mask",
    "a-for-a-prev": "∂L/∂W_l built with a_l (or X) where the notes have a_{l-1}",
    "logits-for-probabilities": "the scores a_L (logits) used where the probabilities ŷ belong",
    "no-last-relu": "no ReLU on the last layer: the notes' network is ŷ = softmax(relu(z_L))",
    "other-loss": "the formula for the other loss (the notes' binary or the categorical one)",
    "one-example": "one example's contribution only: `dW =` instead of `dW +=` in a loop",
    "ties": "1 at one maximum of a column only (np.argmax): S gives 1 to every maximum",
    "reversed-layers": "backward's pairs listed from layer L down to 1, not in layer order",
    "log-epsilon": (
        "a small ε added in a logarithm or a denominator (np.log(y_hat + 1e-7), "
        "1/(y_hat + eps)): right but for about ε/ŷ (the report says which ε)"
    ),
    "cascade": (
        "wrong only because a function it calls (the submission's own) is wrong: fix that one first"
    ),
    "zero-pattern": "right except where one side is exactly zero (a mask missing or misplaced)",
}


@dataclass(frozen=True)
class Finding:
    """One recognised shape of a difference: an identifier of `DIAGNOSES` and a specific `detail`.

    The grader's details read after "your <function> " (``is the transpose of ...``).
    """

    id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.id}: {self.detail}"


def relative_tolerance(dtype: np.dtype[Any]) -> float:
    """The relative tolerance `sqrt(eps)` for a result of type `dtype` (float64's at least).

    Notes
    -----
    A correct computation in precision `eps` is off by a modest multiple of `eps` in
    norm (`1e3 eps` covers a few layers with cancellation), while every mistake of
    docs/diagnoses.md changes the result by O(1) at a well-chosen point. `sqrt(eps)` (1.5e-8
    in float64, 3.5e-4 in float32) lies far from both. Integers and booleans are exact:
    float64's.
    """
    eps = float(np.finfo(dtype).eps) if dtype.kind == "f" else 0.0
    return float(np.sqrt(max(eps, float(np.finfo(np.float64).eps))))


def as_float64(x: Any) -> Array:
    """`x` as a float64 array (a copy only where needed)."""
    return np.asarray(x, dtype=np.float64)


def _max_abs(x: Array) -> float:
    return float(np.max(np.abs(x), initial=0.0))


def rel_diff(a: Array, b: Array) -> float:
    """`‖a - b‖ / max(‖a‖, ‖b‖)` for finite arrays of one shape; 0 when both are 0."""
    s = max(_max_abs(a), _max_abs(b))
    if s == 0:
        return 0.0
    a, b = a / s, b / s  # the norms cannot overflow
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b)))


def fit_factor(G: Array, R: Array) -> tuple[float, float]:
    """The best `c` in `G ≈ cR`, `⟨G, R⟩/⟨R, R⟩`, and the residual `‖G - cR‖/‖G‖`.

    Both are scaled to a largest entry of 1 first, so that neither product overflows.
    `c` is NaN (and the residual infinite) when either array is zero or not finite.
    """
    sg, sr = _max_abs(G), _max_abs(R)
    if sg == 0 or sr == 0 or not np.isfinite(sg * sr):
        return float("nan"), float("inf")
    g, r = G / sg, R / sr
    c = float(np.vdot(g, r) / np.vdot(r, r))
    return c * sg / sr, float(np.linalg.norm(g - c * r) / np.linalg.norm(g))


def _close(a: Array, b: Array, tol: float) -> bool:
    """`a ≈ b` up to `tol` in the max norm, ignoring entries where `b` is NaN (unknown)."""
    known = ~np.isnan(b)
    return bool(np.all(np.abs(a[known] - b[known]) <= tol))


def fingerprint(
    actual: object,
    expected: object,
    *,
    m: int | None = None,
    rtol: float = 1e-6,
    atol: float = 0.0,
) -> list[Finding]:
    """How `actual` (`G`) differs from `expected` (`R`), in the vocabulary of `DIAGNOSES`.

    Parameters
    ----------
    actual, expected : array_like
        The result to diagnose and the truth. NaN entries of `expected` are unknown
        (e.g. skipped at a kink) and ignored.
    m : int, optional
        The number of examples: a factor `m` or `1/m` is reported as ``factor-m``.
    rtol, atol : float
        Two values are "the same" when they differ by at most
        ``atol + rtol * max|R|``: the noise of the truth (for a numerical truth, its
        error bound).

    Returns
    -------
    list of Finding
        Empty when `G ≈ R` or no known shape fits.

    Notes
    -----
    A constant factor is fitted as `c = ⟨G, R⟩ / ⟨R, R⟩` (`fit_factor`) and accepted when
    `‖G - cR‖∞` is within the tolerance (scaled by `|c|`); `c = -1` is ``sign``, `c = ±m` or `±1/m`
    is ``factor-m`` (with ``sign`` too when negative), any other `c` is ``scaled``.
    """
    G = np.asarray(actual)
    R = np.asarray(expected, dtype=np.float64)
    if G.dtype.kind not in "biuf":
        return [Finding("wrong-shape", f"not a real numeric array (dtype {G.dtype})")]
    G = G.astype(np.float64)
    known = ~np.isnan(R)
    scale = float(np.max(np.abs(R[known]), initial=0.0))
    tol = atol + rtol * scale
    if G.shape != R.shape:
        return _shape_findings(G, R, tol)
    if not np.all(np.isfinite(G[known])):
        bad = int(np.count_nonzero(~np.isfinite(G[known])))
        return [Finding("not-finite", f"{bad} NaN or infinite entries where the truth is finite")]
    if _close(G, R, tol):
        return []
    findings: list[Finding] = []
    g, r = G[known], R[known]
    c = fit_factor(g, r)[0]
    if np.isfinite(c) and c != 0 and _close(G, c * R, tol * max(1.0, abs(c))):
        findings.extend(_factor(c, m))
        return findings
    if G.ndim == 2 and G.shape[0] == G.shape[1] and _close(G.T, R, tol):
        return [Finding("transposed", f"equals the transpose of the expected {R.shape} result")]
    zeros = _zero_pattern(G, R, tol)
    if zeros is not None:
        findings.append(zeros)
    return findings


def _factor(c: float, m: int | None) -> list[Finding]:
    out: list[Finding] = []
    mag = abs(c)
    if c < 0:
        out.append(Finding("sign", "the negative of the expected result"))
    if (
        m is not None
        and m > 1
        and (np.isclose(mag, m, rtol=1e-6) or np.isclose(mag, 1 / m, rtol=1e-6))
    ):
        which = f"m = {m}" if mag > 1 else f"1/m = 1/{m}"
        out.insert(0, Finding("factor-m", f"{'-' if c < 0 else ''}{which} times the expected"))
    elif not np.isclose(mag, 1.0, rtol=1e-6):
        out.append(Finding("scaled", f"{c:.6g} times the expected result"))
    return out


def _zero_pattern(G: Array, R: Array, tol: float) -> Finding | None:
    """`G ≈ R` except at entries where exactly one of them is zero."""
    known = ~np.isnan(R)
    differ = known & (np.abs(G - np.where(known, R, 0.0)) > tol)
    if not differ.any():
        return None
    g_zero, r_zero = (G == 0) & differ, (R == 0) & differ
    if not np.all((g_zero | r_zero)[differ]):
        return None
    extra, missing = int(np.count_nonzero(r_zero)), int(np.count_nonzero(g_zero))
    parts = []
    if extra:
        parts.append(f"nonzero at {extra} entries where the expected is 0")
    if missing:
        parts.append(f"0 at {missing} entries where the expected is not")
    return Finding(
        "zero-pattern", "; ".join(parts) + ", right elsewhere (a mask missing or misplaced?)"
    )


def _shape_findings(G: Array, R: Array, tol: float) -> list[Finding]:
    shapes = f"got shape {G.shape}, expected {R.shape}"
    if G.ndim == 2 and G.T.shape == R.shape and _close(G.T, R, tol):
        return [
            Finding("transposed", f"the transpose of the expected result ({shapes})"),
            Finding("wrong-shape", shapes),
        ]
    if G.size == R.size and np.all(np.isfinite(G)) and _close(G.reshape(R.shape), R, tol):
        findings = []
        if R.ndim == 2 and R.shape[1] == 1 and G.shape in ((R.shape[0],), (1, R.shape[0])):
            findings.append(Finding("bias-shape", f"right values, {shapes} (erratum E4)"))
        findings.append(Finding("wrong-shape", f"right values, {shapes}"))
        return findings
    return [Finding("wrong-shape", shapes)]
