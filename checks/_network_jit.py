"""The fast path's kernel compiled by numba: an optional extra (``pip install '.[fast]'``).

`NetworkLoss.along_axes` hands every unit's perturbations that cross no kink to
`LineLoss` (`checks._network_kernel`), which evaluates the loss at logits `a + t·G` in
numpy passes over `(n_L, c, k)` batches. `line_change` evaluates the same expressions,
in the same order, in one compiled loop per example that keeps its rows in a core's
first-level cache: the same values to rounding, without numpy's temporaries and calls.
The numpy kernel stays the reference, and the one used where numba is not installed,
for complex steps, for per-row directions (biases) and for the rare batches this one
declines (`None`: a polynomial `exp` of too high a degree, `log r` near underflow).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

try:  # the optional extra: without it, `KERNEL` is None and numpy does the work
    import numba
except ImportError:  # pragma: no cover - depends on the environment
    numba = None

__all__ = ["KERNEL", "line_change"]

Array = npt.NDArray[Any]

#: The perturbations taken at once: `n_L` rows of this many floats stay in cache.
_BLOCK = 256


def _line_change(
    coef: Array,
    t: Array,
    s0_label: Array,
    d_label: Array,
    label: Array,
    label_is_top: Array,
    base: Array,
    notes: bool,
    m: float,
    saturated: float,
    tiny: float,
    rows_per_log: int,
    out: Array,
) -> bool:
    """Add `Σ_c (term_c(t) - base_c)` to `out` `(k,)`; False (nothing added) if a column
    needs the reference (`log r` near underflow). See `line_change`."""
    n_coef, n_L, c = coef.shape
    k = t.shape[1]
    e = np.empty((n_L, _BLOCK))
    r = np.empty(_BLOCK)
    scale = np.empty(_BLOCK)
    product = np.empty(_BLOCK)
    terms = np.empty(_BLOCK)
    acc = np.zeros(k)
    for lo in range(0, k, _BLOCK):
        b = min(_BLOCK, k - lo)
        for col in range(c):
            tc = t[col, lo : lo + b]
            # e_j = exp(s0_j + d_j·t) by the polynomial of `_exp_along`, in the same order
            r[:b] = 0.0
            for j in range(n_L):
                # the usual degrees written out, so that each row is one vectorised pass
                if n_coef == 4:
                    c3, c2, c1, c0 = (
                        coef[3, j, col],
                        coef[2, j, col],
                        coef[1, j, col],
                        coef[0, j, col],
                    )
                    for q in range(b):
                        x = tc[q]
                        v = ((c3 * x + c2) * x + c1) * x + c0
                        e[j, q] = v
                        r[q] += v
                    continue
                if n_coef == 3:
                    c2, c1, c0 = coef[2, j, col], coef[1, j, col], coef[0, j, col]
                    for q in range(b):
                        x = tc[q]
                        v = (c2 * x + c1) * x + c0
                        e[j, q] = v
                        r[q] += v
                    continue
                top = coef[n_coef - 1, j, col]
                if n_coef == 1:
                    for q in range(b):
                        e[j, q] = top
                else:
                    below = coef[n_coef - 2, j, col]
                    for q in range(b):
                        e[j, q] = top * tc[q] + below
                    for n in range(n_coef - 3, -1, -1):
                        cn = coef[n, j, col]
                        for q in range(b):
                            e[j, q] = e[j, q] * tc[q] + cn
                for q in range(b):
                    r[q] += e[j, q]
            s0, dl = s0_label[col], d_label[col]
            if not notes:
                for q in range(b):
                    terms[q] = (dl * tc[q] + s0) - math.log1p(r[q])
            else:
                lab, is_top = label[col], label_is_top[col]
                for q in range(b):
                    if not is_top and r[q] < tiny:
                        return False
                for q in range(b):
                    scale[q] = -1.0 / (1.0 + r[q])
                    if is_top:
                        product[q] = -scale[q]
                    else:
                        product[q] = r[q] * scale[q] * scale[q] / (e[lab, q] * scale[q] + 1.0)
                for q in range(b):
                    terms[q] = dl * tc[q] + s0
                for j0 in range(0, n_L, rows_per_log):
                    if j0:
                        for q in range(b):
                            product[q] = e[j0, q] * scale[q] + 1.0
                    for j in range(j0 + 1 if j0 else 0, min(n_L, j0 + rows_per_log)):
                        for q in range(b):
                            product[q] *= e[j, q] * scale[q] + 1.0
                    for q in range(b):
                        terms[q] = terms[q] + math.log(product[q])
                if is_top:  # a confident right answer: log1p of each factor (`LineLoss`)
                    for q in range(b):
                        if abs(r[q]) < saturated:
                            one_r = 1.0 + r[q]
                            logs = 0.0
                            for j in range(n_L):
                                logs += math.log1p(-(e[j, q] / one_r))
                            terms[q] = (dl * tc[q] + s0) - math.log1p(r[q]) + logs
            for q in range(b):
                acc[lo + q] += terms[q] / -m - base[col]
    for q in range(k):
        out[q] += acc[q]
    return True


#: The compiled kernel, or None without numba. Compiled on first use, cached on disk
#: (numba's cache) so that later processes load it instead of compiling again.
KERNEL = None if numba is None else numba.njit(cache=True, nogil=True)(_line_change)


def line_change(
    kernel: Any,
    line: Any,
    cols: Array,
    d: Array,
    d_label: Array,
    t: Array,
    out: Array,
) -> bool:
    """Add to `out` `(k,)` the change of the terms of examples `cols` at logits `a + t·G`.

    `line` is the `LineLoss` of the point, `d` `(n_L, c, 1)` and `d_label` `(c, 1)`
    come from its `direction` (one direction per example for every perturbation), `t`
    is `(c, k)`, real. Returns False, having added nothing, where the numpy kernel must
    do it (see the module's docstring); `kernel` is `KERNEL` (or its pure-Python form,
    `_line_change`, which the tests run too).

    Notes
    -----
    The polynomial's coefficients, its degree and the bounds that decide it are those
    of `LineLoss.terms` (`_degree`, `_exp_along`): the compiled loop evaluates the same
    expressions in the same order, so its values equal numpy's to rounding (the
    logarithms of two libraries may differ in the last bit).
    """
    from checks._network_kernel import _ROWS_PER_LOG, _SATURATED, _TINY, _degree

    if line.base is None or np.iscomplexobj(t) or np.iscomplexobj(d) or d.shape[2] != 1:
        return False
    d2 = d[:, :, 0]
    d_max, t_max = float(np.abs(d2).max()), max(float(t.max()), -float(t.min()))
    # a bound of numpy's per-column `largest`: the degree may be one higher, not lower
    degree = _degree(d_max * t_max, False)
    if degree is None or max(d_max, t_max) >= 1e30:
        return False
    e0 = np.exp(line.s0[:, cols])
    coef = np.empty((degree + 1, *e0.shape))
    coef[0], power = e0, e0
    for n in range(1, degree + 1):
        power = power * d2
        coef[n] = power / math.factorial(n)
    return bool(
        kernel(
            coef,
            np.ascontiguousarray(t, dtype=np.float64),
            line.s0_label[cols],
            np.ascontiguousarray(d_label[:, 0]),
            line.label[cols],
            line.label_is_top[cols],
            line.base[cols],
            bool(line.notes),
            float(line.m),
            _SATURATED,
            _TINY,
            _ROWS_PER_LOG,
            out,
        )
    )
