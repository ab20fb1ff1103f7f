"""The per-example loss of logits moved along one direction each: the fast path's kernel.

`NetworkLoss.along_axes` reduces every one-entry perturbation that crosses no kink to
logits `a + t·G` (one scalar `t` per perturbation and example, one direction `G` per
perturbed unit and example). `LineLoss` evaluates the notes' loss there in a few fused
passes over `(n_L, k, c)` arrays that stay in cache; `checks.network._column_losses` is
the reference it is tested against.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LineLoss"]

Array = npt.NDArray[Any]

#: Rows multiplied before a logarithm is taken: each factor is in `[1/2, 1]`, so a
#: product of 256 of them stays above `2^-256`, far from underflow.
_SATURATED = 2.0**-20  # r below which a column's loss is computed with log1p
_ROWS_PER_LOG = 256
#: Where `r`, the sum of the non-top exponentials, is below this, `log r` loses
#: digits to underflow: such a batch is left to the reference evaluation.
_TINY = 1e-200
#: The truncation allowed in the polynomial `exp`: `ε/16`, below its rounding.
_EXP_REMAINDER = 2.0**-56


def _degree(largest: float, is_complex: bool) -> int | None:
    """The degree of the polynomial `exp` for moves up to `largest`, None for `np.exp`.

    The smallest `N` whose remainder `|x|^{N+1}/(N+1)!` is below `ε/16` (relative to
    `|x|` for a complex step, whose information is its imaginary part, of the size of
    `x` itself: there the degree is at least 1). None beyond 2^-4 or a degree of 9.
    """
    bound = _EXP_REMAINDER * (largest if is_complex else 1.0)
    degree, remainder = 0, largest
    while (remainder > bound or (degree == 0 and bound < _EXP_REMAINDER)) and degree < 9:
        degree += 1
        remainder *= largest / (degree + 1)
    if degree >= 9 or largest > 2.0**-4 or not math.isfinite(largest):
        return None
    return degree


def _exp_shifted(x: Array, s0: Array, largest: float) -> Array:
    """`exp(s0 + x)` for `s0` broadcast along the batch axis, `|x| ≤ largest`.

    Notes
    -----
    A perturbation that crosses no kink moves a logit by a small `x` (about the step,
    1e-5 for central differences): there `exp(s0 + x) = exp(s0)·Σ_{n≤N} x^n/n!` with
    `N` the smallest degree whose remainder `|x|^{N+1}/(N+1)!` is below `ε/16` on the
    whole batch (`_degree`): a few multiplications and additions (Horner, `exp(s0)/n!`
    folded into the coefficients) instead of a transcendental per logit, which costs 10
    to 20 of them in numpy without AVX-512. Rounding stays a few `ε` relative, as for
    `np.exp`. For a complex `x` (the complex step) the remainder is bounded relative
    to `|x|`, the size of the imaginary part that carries the derivative. Larger moves
    (beyond 2^-4, or a degree above 8): `np.exp`. `x` is overwritten.
    """
    degree = _degree(largest, np.iscomplexobj(x))
    if degree is None:
        x += s0
        return np.exp(x, out=x)
    e0 = np.exp(s0)
    if degree == 0:
        return np.broadcast_to(e0, x.shape).copy()
    coef = [e0 / math.factorial(n) for n in range(degree + 1)]
    p = np.multiply(x, coef[degree])
    p += coef[degree - 1]
    for c in coef[degree - 2 :: -1]:
        p *= x
        p += c
    return p


def _exp_along(s0: Array, d: Array, t: Array, degree: int, out: Array) -> Array:
    """`exp(s0 + d·t)` into `out` `(n_L, c, k)`, for `s0`, `d` `(n_L, c, 1)`, `t` `(c, k)`.

    Notes
    -----
    The polynomial of `_exp_shifted` in `t` rather than in `x = d·t`: its
    coefficients `exp(s0)·d^n/n!` are computed once per row and example, so the batch
    is not formed first (one pass fewer). Each term is `exp(s0)(d t)^n/n!` to a few
    `ε` relative, as in `_exp_shifted`: the same error. The caller keeps `|d|` and
    `|t|` below 1e30, so that `d^n` neither overflows nor loses a term above `ε`.
    """
    e0 = np.exp(s0)
    if degree == 0:
        out[...] = e0
        return out
    power, coef = e0, [e0]
    for n in range(1, degree + 1):
        power = power * d
        coef.append(power / math.factorial(n))
    np.multiply(coef[degree], t, out=out)
    out += coef[degree - 1]
    for c in coef[degree - 2 :: -1]:
        out *= t
        out += c
    return out


def _dtype(*arrays: Array) -> Any:
    return np.result_type(*arrays, np.float64)


class LineLoss:
    """The loss terms of each example at logits `a + t·G`, for one-hot labels.

    Parameters
    ----------
    a : array, shape (n_L, m)
        The logits at the point (after the last ReLU).
    Y : array, shape (n_L, m)
        One-hot labels.
    kind : {"notes", "categorical"}
        The loss.
    m : int
        The number of examples of the whole loss (each term is divided by it).

    Notes
    -----
    Every column is shifted by its largest logit at the point, `a_t` (row `t`), moved
    along with the others: `s = (a - a_t) + t·(G - G_t)`. Any shift gives the same
    softmax; this one is known before the perturbation, so the kernel needs no maximum
    and no comparison per perturbation, and `s_t = 0` exactly. Row `t` is set to
    `-inf` so that its exponential is exactly 0 and `r = Σ_{j≠t} e^{s_j}` is summed
    without cancellation (`log(1 - ŷ_t) = log r - log1p(r)` stays exact as `ŷ_t → 1`).
    For `j ≠ t`, `ŷ_j = e^{s_j}/(1 + r)`: a perturbation small enough to cross no kink
    moves the logits by far less than the gap that made `t` the largest, so `ŷ_j`
    stays about `≤ 1/2` and `Σ log(1 - ŷ_j)` is the logarithm of a product of factors
    in `[1/2, 1]`, one logarithm per 256 rows (as in `batched_loss`), with the label's
    factor divided out. The passes over the `(n_L, k, c)` batch: one product, one sum,
    one `exp`, one row sum and, for the notes' loss, two for the factors and one
    product: seven, of which one `exp`.
    """

    def __init__(self, a: Array, Y: Array, kind: str, m: int) -> None:
        self.a = a
        c = a.shape[1]
        cols = np.arange(c)
        self.top = np.argmax(a, axis=0)
        self.label = np.argmax(Y, axis=0)
        self.label_is_top = self.label == self.top
        shifted = a - a[self.top, cols]
        self.s0 = shifted.copy()
        self.s0[self.top, cols] = -np.inf
        self.e0 = np.exp(self.s0)  # the exponentials at the point (the compiled kernel's)
        self.s0_label = shifted[self.label, cols]
        self.notes = kind == "notes"
        self.m = m
        # the terms at the point itself, by the same kernel: a change is new - base
        zero = np.zeros((c, 1))
        base = self.terms(cols, np.zeros((a.shape[0], c, 1)), zero, zero)
        self.base = None if base is None else np.ascontiguousarray(base[:, 0])

    def direction(self, G: Array, cols: Array) -> tuple[Array, Array]:
        """`G - G_t` and its label row, for `G` `(n_L, c, k)` on the examples `cols`."""
        at = np.arange(len(cols))
        d = G - G[self.top[cols], at][None]
        return d, d[self.label[cols], at]

    def terms(self, cols: Array, d: Array, d_label: Array, t: Array) -> Array | None:
        """The loss terms `(c, k)` of the examples `cols` at logits `a + t·G`.

        `d` `(n_L, c, k or 1)` and `d_label` `(c, k or 1)` come from `direction`; `t`
        is `(c, k)`. Returns None where `log r` would underflow (the caller then uses
        the reference evaluation). The batch axis is the last one: every operation
        then runs along it with its broadcast operand fixed, numpy's fastest loop.
        """
        d_max, t_max = np.abs(d).max(axis=(0, 2)), np.abs(t).max(axis=1)
        largest = float(np.max(d_max * t_max))
        s0 = self.s0[:, cols, None]
        degree = _degree(largest, np.iscomplexobj(d) or np.iscomplexobj(t))
        if d.shape[2] == 1 and degree is not None and max(d_max.max(), t_max.max()) < 1e30:
            e = _exp_along(s0, d, t, degree, np.empty(d.shape[:2] + t.shape[1:], _dtype(d, t)))
        else:
            e = _exp_shifted(d * t[None], s0, largest)
        r = e.sum(axis=0)
        x_label = t * d_label
        s_label = x_label + self.s0_label[cols, None]
        if not self.notes:
            terms = s_label - np.log1p(r)
            terms /= -self.m
            return np.asarray(terms)
        label_is_top = self.label_is_top[cols]
        r_min = (np.abs(r) if np.iscomplexobj(r) else r).min(axis=1)  # one pass, then (c,)
        if np.any((r.real.min(axis=1) < _TINY) & ~label_is_top):
            return None
        # Where the label's class is the top one by far (r small), the column's loss is of
        # the size of r, below the rounding of the product of factors near 1 formed below:
        # there, log1p of each, exactly (few columns: a confident right answer).
        exact = small = None
        if np.any(label_is_top & (r_min < _SATURATED)):
            small = label_is_top[:, None] & (np.abs(r) < _SATURATED)
            y_hat = e[:, small] / (1.0 + r[small])
            exact = s_label[small] - np.log1p(r[small]) + np.log1p(-y_hat).sum(axis=0)
        scale = -1.0 / (1.0 + r)
        e *= scale
        e += 1.0  # the factors 1 - ŷ_j; row t's is 1
        # One logarithm for the column: log ŷ_label + Σ_{j≠label} log(1 - ŷ_j) is
        # s_label + log(Π_j (1 - ŷ_j) · [r/(1 + r)]/(1 - ŷ_label) / (1 + r)), the bracket
        # (1 - ŷ_t) and the label's factor only where the label is not the top row.
        # Each factor is in [2^-256·1e-200, n_L]: no underflow nor overflow.
        arg = r * scale
        arg *= scale
        with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 only where label is top,
            arg /= e[self.label[cols], np.arange(len(cols))]  # overwritten next
        arg[label_is_top] = -scale[label_is_top]
        terms = s_label
        for lo in range(0, len(e), _ROWS_PER_LOG):
            product = e[lo].copy() if lo else arg
            for row in e[lo + 1 if lo else lo : lo + _ROWS_PER_LOG]:
                product *= row
            terms = terms + np.log(product)
        if exact is not None and small is not None:
            terms = np.array(terms, copy=True)
            terms[small] = exact
        terms /= -self.m
        return np.asarray(terms)
