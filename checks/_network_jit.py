"""The fast path's kernel compiled by numba: an optional extra (``pip install '.[fast]'``).

`NetworkLoss.along_axes` hands every unit's perturbations that cross no kink to
`LineLoss` (`checks._network_kernel`), which evaluates the loss at logits `a + t·G` in
numpy passes over `(n_L, c, k)` batches. `units_change` evaluates the same expressions
for every unit of a chunk in one compiled call, in loops per example that keep their
rows in a core's first-level cache, without numpy's temporaries and calls, and with one
logarithm per perturbation instead of one per example: the sum of the examples'
logarithms is taken as the logarithm of the product of their factors (each in (0, 1],
the product kept a normal float). The values are numpy's to a few ulps of the loss.
The numpy kernel stays the reference, and the one used where numba is not installed,
for complex steps and for the rare units this one declines (a polynomial `exp` of too
high a degree, `log r` near underflow).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from checks._network_kernel import _EXP_REMAINDER, _ROWS_PER_LOG, _SATURATED, _TINY

try:  # the optional extra: without it, `KERNEL` is None and numpy does the work
    import numba
    import numba.extending
except ImportError:  # pragma: no cover - depends on the environment
    numba = None


__all__ = ["KERNEL", "units_change"]

Array = npt.NDArray[Any]

#: The perturbations taken at once: `n_L` rows of this many floats stay in cache.
_BLOCK = 256
#: The product of the columns' ratios (each within `2^±(n_L + 1)`, every logit moving by
#: at most 1/16) is taken out to a logarithm every `_FOLD_BITS // (n_L + 1)` columns, so
#: that it stays within `2^±_FOLD_BITS`, a normal float.
_FOLD_BITS = 600
#: Above this many classes a column's ratio could leave the floats: numpy's kernel.
_MAX_CLASSES = 1024


def _line_change(
    e0: Array,
    G: Array,
    cols: Array,
    A_T: Array,
    j_of: Array,
    delta: Array,
    top: Array,
    label: Array,
    label_is_top: Array,
    s0_label: Array,
    base: Array,
    notes: bool,
    m: float,
    saturated: float,
    tiny: float,
    rows_per_log: int,
    fold_bits: int,
    out: Array,
) -> bool:
    """Add `Σ_c (term_c(t) - base_c)` to `out` `(k,)` for one unit; False (nothing added)
    where the numpy kernel must do it. See `units_change`."""
    n_L = e0.shape[0]
    c = len(cols)
    k = len(delta)
    # the direction d = G - G_t of each example, and the bounds that set the degree
    d = np.empty((n_L, c))
    d_label = np.empty(c)
    d_max = 0.0
    for i in range(c):
        col = cols[i]
        g_top = G[top[col], col]
        for row in range(n_L):
            d[row, i] = G[row, col] - g_top
            d_max = max(d_max, abs(d[row, i]))
        d_label[i] = d[label[col], i]
    t_max = 0.0
    for i in range(c):
        col = cols[i]
        for q in range(k):
            t_max = max(t_max, abs(A_T[col, j_of[q]] * delta[q]))
    if not (d_max < 1e30 and t_max < 1e30):
        return False
    # `_degree` for a real step, with the bound d_max·t_max of numpy's per-example one
    largest = d_max * t_max
    degree, remainder = 0, largest
    while remainder > _EXP_REMAINDER and degree < 9:
        degree += 1
        remainder *= largest / (degree + 1)
    if degree >= 9 or largest > 2.0**-4 or n_L > _MAX_CLASSES:
        return False
    # every logit moves by at most 1/16: a column's ratio is within 2^±(n_L + 1)
    fold = max(1, fold_bits // (n_L + 1))
    n_coef = degree + 1
    coef = np.empty((n_coef, n_L, c))  # exp(s0)·d^n/n!, as `_exp_along`
    for i in range(c):
        for row in range(n_L):
            power = e0[row, cols[i]]
            coef[0, row, i] = power
            factorial = 1.0
            for n in range(1, n_coef):
                power = power * d[row, i]
                factorial *= n
                coef[n, row, i] = power / factorial
    e = np.empty((n_L, _BLOCK))
    tc = np.empty(_BLOCK)
    r = np.empty(_BLOCK)
    scale = np.empty(_BLOCK)
    product = np.empty(_BLOCK)
    logs_before = np.empty(_BLOCK)
    group = np.ones(_BLOCK)  # the product of every column's factors, per perturbation
    logs = np.zeros(_BLOCK)  # and the logarithms taken out of it
    linsum = np.zeros(_BLOCK)  # the columns' linear changes `d_label·t`, summed
    acc = np.zeros(k)
    # each column's factor at the point (t = 0), by the same expressions: the kernel
    # folds the ratio of the factor at t to it, whose logarithm is the change of the
    # column's term, without the rounding of the terms themselves
    inv0 = np.empty(c)  # 1 / the factor at the point (0 where it is not positive)
    early0 = np.zeros(c)  # the logarithms of its earlier groups of rows (n_L > rows_per_log)
    for i in range(c):
        col = cols[i]
        r0 = 0.0
        for j in range(n_L):
            r0 += coef[0, j, i]
        if not notes:
            inv0[i] = 1.0 + r0  # the factor is 1 / (1 + r)
            continue
        s = -1.0 / (1.0 + r0)
        p0 = -s if label_is_top[col] else r0 * s * s / (coef[0, label[col], i] * s + 1.0)
        positive = True  # every group's factor: a column with one at 0 is declined
        for j0 in range(0, n_L, rows_per_log):
            if j0:
                if p0 > 0.0:
                    early0[i] += math.log(p0)
                else:
                    positive = False
                p0 = coef[0, j0, i] * s + 1.0
            for j in range(j0 + 1 if j0 else 0, min(n_L, j0 + rows_per_log)):
                p0 *= coef[0, j, i] * s + 1.0
        inv0[i] = 1.0 / p0 if positive and p0 > 0.0 else 0.0
    for lo in range(0, k, _BLOCK):
        b = min(_BLOCK, k - lo)
        folded = 0  # the columns in `group` since its last logarithm
        for i in range(c):
            col = cols[i]
            for q in range(b):
                tc[q] = A_T[col, j_of[lo + q]] * delta[lo + q]
            # e_j = exp(s0_j + d_j·t) by the polynomial of `_exp_along`, in the same order
            r[:b] = 0.0
            for j in range(n_L):
                # the usual degrees written out, so that each row is one vectorised pass
                if n_coef == 4:
                    c3, c2, c1, c0 = coef[3, j, i], coef[2, j, i], coef[1, j, i], coef[0, j, i]
                    for q in range(b):
                        x = tc[q]
                        v = ((c3 * x + c2) * x + c1) * x + c0
                        e[j, q] = v
                        r[q] += v
                    continue
                if n_coef == 3:
                    c2, c1, c0 = coef[2, j, i], coef[1, j, i], coef[0, j, i]
                    for q in range(b):
                        x = tc[q]
                        v = (c2 * x + c1) * x + c0
                        e[j, q] = v
                        r[q] += v
                    continue
                lead = coef[n_coef - 1, j, i]
                if n_coef == 1:
                    for q in range(b):
                        e[j, q] = lead
                else:
                    below = coef[n_coef - 2, j, i]
                    for q in range(b):
                        e[j, q] = lead * tc[q] + below
                    for n in range(n_coef - 3, -1, -1):
                        cn = coef[n, j, i]
                        for q in range(b):
                            e[j, q] = e[j, q] * tc[q] + cn
                for q in range(b):
                    r[q] += e[j, q]
            s0, dl = s0_label[col], d_label[i]
            if not notes:
                low = r[0]
                for q in range(b):
                    low = min(low, r[q])
                if low < saturated:  # 1 + r would lose r: a log1p each, as `LineLoss`
                    for q in range(b):
                        acc[lo + q] += ((dl * tc[q] + s0) - math.log1p(r[q])) / -m - base[col]
                    continue
                for q in range(b):
                    linsum[q] += dl * tc[q]
                    product[q] = inv0[i] / (1.0 + r[q])
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
                if n_L > rows_per_log:
                    for q in range(b):
                        logs_before[q] = logs[q]
                for j0 in range(0, n_L, rows_per_log):
                    if j0:  # more than `rows_per_log` rows: a logarithm per group of them
                        for q in range(b):
                            logs[q] += math.log(product[q])
                            product[q] = e[j0, q] * scale[q] + 1.0
                    for j in range(j0 + 1 if j0 else 0, min(n_L, j0 + rows_per_log)):
                        for q in range(b):
                            product[q] *= e[j, q] * scale[q] + 1.0
                low = r[0]
                for q in range(b):
                    low = min(low, abs(r[q]))
                if is_top and low < saturated:
                    # a confident right answer: log1p of each factor (`LineLoss`), where r
                    # is below `saturated` (a rare column: all of it takes its own logs)
                    for q in range(b):
                        if abs(r[q]) < saturated:
                            one_r = 1.0 + r[q]
                            sat = 0.0
                            for j in range(n_L):
                                sat += math.log1p(-(e[j, q] / one_r))
                            lin = dl * tc[q] + s0
                            acc[lo + q] += (lin - math.log1p(r[q]) + sat) / -m - base[col]
                            product[q] = 1.0
                            if n_L > rows_per_log:  # its groups' logs were taken: undone
                                logs[q] = logs_before[q]
                            continue
                        if inv0[i] == 0.0:
                            return False
                        linsum[q] += dl * tc[q]
                        product[q] *= inv0[i]
                        logs[q] -= early0[i]
                else:
                    if inv0[i] == 0.0:
                        return False
                    for q in range(b):
                        linsum[q] += dl * tc[q]
                        product[q] *= inv0[i]
                        logs[q] -= early0[i]
            # the column's ratios into each perturbation's product: one logarithm per
            # perturbation and `fold` columns (see `_FOLD_BITS`)
            for q in range(b):
                group[q] *= product[q]
            folded += 1
            if folded == fold:
                folded = 0
                for q in range(b):
                    logs[q] += math.log(group[q])
                    group[q] = 1.0
        for q in range(b):  # the logarithms of the block, one per perturbation
            acc[lo + q] += (linsum[q] + logs[q] + math.log(group[q])) / -m
            group[q], logs[q], linsum[q] = 1.0, 0.0, 0.0
    for q in range(k):
        out[q] += acc[q]
    return True


if numba is not None:  # callable from compiled code too, where `_units_change` calls it
    numba.extending.register_jitable(_line_change)


def _units_change(
    e0: Array,
    gains: Array,
    col_ptr: Array,
    col_idx: Array,
    A_T: Array,
    ptr: Array,
    j_of: Array,
    delta: Array,
    top: Array,
    label: Array,
    label_is_top: Array,
    s0_label: Array,
    base: Array,
    notes: bool,
    m: float,
    saturated: float,
    tiny: float,
    rows_per_log: int,
    fold_bits: int,
    out: Array,
    done: Array,
) -> None:
    """`_line_change` for every unit `u` of a chunk: its perturbations `ptr[u]:ptr[u+1]`,
    its active examples `col_idx[col_ptr[u]:col_ptr[u+1]]`; `done[u]` says whether
    it was added. See `units_change`."""
    for u in range(len(done)):
        lo, hi = ptr[u], ptr[u + 1]
        cols = col_idx[col_ptr[u] : col_ptr[u + 1]]
        if lo == hi or len(cols) == 0:  # nothing moves: no change to add
            done[u] = True
            continue
        done[u] = _line_change(
            e0, gains[:, u, :], cols, A_T, j_of[lo:hi], delta[lo:hi], top, label,
            label_is_top, s0_label, base, notes, m, saturated, tiny, rows_per_log,
            fold_bits, out[lo:hi],
        )  # fmt: skip


def _jit(function: Any) -> Any:
    """`function` compiled on first use, and cached on disk (numba's cache) so that later
    processes load it instead of compiling it again (a few seconds)."""
    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError:  # no writable cache (a read-only install, no home): compile each time
        return numba.njit(nogil=True)(function)


#: The compiled kernel, or None without numba.
KERNEL = None if numba is None else _jit(_units_change)


def units_change(
    kernel: Any,
    line: Any,
    gains: Array,
    active: Array,
    A_T: Array,
    unit_of: Array,
    j_of: Array,
    delta: Array,
    out: Array,
) -> Array:
    """Add to `out` `(k,)` the change of the terms of each unit's active examples when
    row `i` of `z_l` moves by `t = δ_q·a_{l-1}[j_q, c]` (perturbation `q` of `W_l[i, j_q]`,
    of unit `unit_of[q]`, ascending). Returns which units were added: the others, none
    of whose perturbations changed `out`, are the numpy kernel's.

    `line` is the `LineLoss` of the point, `gains` `(n_L, u, m)` the units' gains (the
    logits move by `t·G`), `active` `(u, m)` their active examples, `A_T` `(m, n_{l-1})`
    the layer's inputs, examples first, `j_of` and `delta` `(k,)` real. `kernel` is
    `KERNEL` (or its plain-Python form, `_units_change`, which the tests run too).

    Notes
    -----
    One call for every unit of a chunk: the per-unit numpy calls it saves cost as much as
    the arithmetic at size L. Inside, the directions `G - G_t`, the degree of the
    polynomial (from the bound `max|d| · max|t|` of numpy's per-example one: the same or
    one more, never fewer), its coefficients and `t` itself are formed in the loop. The
    expressions are those of `LineLoss.terms`, but the logarithms: one of the product of
    every example's factors per perturbation (a logarithm cost as much as the rest of an
    example's arithmetic), and the examples' terms summed before the division by `m`.
    The values equal numpy's to a few ulps of the loss. A unit is declined where numpy
    must do it (see the module's docstring).
    """
    n_units = active.shape[0]
    done = np.zeros(n_units, dtype=bool)
    if line.base is None:
        return done
    ptr = np.zeros(n_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(unit_of, minlength=n_units), out=ptr[1:])
    units, cols = np.nonzero(active)
    col_ptr = np.zeros(n_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(units, minlength=n_units), out=col_ptr[1:])
    kernel(  # one layout and dtype per argument: one compiled specialisation
        line.e0,
        np.ascontiguousarray(gains, dtype=np.float64),
        col_ptr,
        cols.astype(np.int64),
        A_T,
        ptr,
        np.ascontiguousarray(j_of, dtype=np.int64),
        np.ascontiguousarray(delta, dtype=np.float64),
        line.top,
        line.label,
        line.label_is_top,
        line.s0_label,
        line.base,
        bool(line.notes),
        float(line.m),
        _SATURATED,
        _TINY,
        _ROWS_PER_LOG,
        _FOLD_BITS,
        out,
        done,
    )
    return done
