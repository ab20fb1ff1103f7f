"""The shape of a difference: how an analytic result `G` differs from the truth `R`.

Findings use the diagnosis identifiers of docs/contract.md (`factor-m`, `scaled`, `sign`,
`transposed`, `wrong-shape`, `bias-shape`, `not-finite`) and one more, `zero-pattern`:
`G` and `R` agree except where one of them is exactly zero (a ReLU mask missing, or
applied on the wrong entries). They are listed most specific first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Finding", "fingerprint"]

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Finding:
    """One recognised shape of a difference: a stable `id` and a human `detail`."""

    id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.id}: {self.detail}"


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
    """How `actual` (`G`) differs from `expected` (`R`), in docs/contract.md's vocabulary.

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
    A constant factor is fitted as `c = ⟨G, R⟩ / ⟨R, R⟩` and accepted when `‖G - cR‖∞`
    is within the tolerance (scaled by `|c|`); `c = -1` is ``sign``, `c = ±m` or `±1/m`
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
    rr = float(np.dot(r, r))
    if rr > 0:
        c = float(np.dot(g, r)) / rr
        if c != 0 and _close(G, c * R, tol * max(1.0, abs(c))):
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
