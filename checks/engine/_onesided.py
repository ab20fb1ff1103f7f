"""One-sided differences that stay on the point's own smooth piece.

A central difference whose step crosses a kink (a ReLU's pre-activation changing sign)
differentiates neither piece. But the function is smooth on each piece, and the
analytic gradient is the derivative of the piece `x` lies on (with the notes'
convention, `z = 0` lies on the piece where the unit is off). A difference taken on one
side of `x` only, with every point on `x`'s own pattern, measures exactly that
derivative: the entry is checked instead of skipped.
"""

from __future__ import annotations

import numpy as np

from checks.engine._problem import ROUNDING_ULPS, Array, Problem

__all__ = ["ONE_SIDED_SHRINKS", "one_sided"]

#: Step shrink factors tried on each side, in order: down to `h/32768` (2e-10 at the
#: central step in float64), below a kink planted 1e-9 away. The rounding term grows
#: as `1/h` and is in each entry's own error bound, so a tiny step only loosens that
#: entry's tolerance (to ~1e-5 at the smallest), never makes it wrong.
ONE_SIDED_SHRINKS = (1.0, 8.0, 64.0, 512.0, 4096.0, 32768.0)


def _weights(t1: Array, t2: Array) -> tuple[Array, Array, Array]:
    """Weights of `f(x)`, `f(x + t1)`, `f(x + t2)` in `f'(x)` of their interpolating parabola."""
    c0 = -(t1 + t2) / (t1 * t2)
    c1 = t2 / (t1 * (t2 - t1))
    c2 = -t1 / (t2 * (t2 - t1))
    return c0, c1, c2


def one_sided(p: Problem, idx: Array, h: Array) -> tuple[Array, Array, Array]:
    """Second-order one-sided differences at entries `idx`, on `x`'s own piece.

    For each entry, each side `s = ±1` (forward first) and each step `h/k`
    (`k` in `ONE_SIDED_SHRINKS`), `f` is evaluated at `x + s·t` for `t = h/2, h, 2h`; the
    first side and step where none of the three crosses a kink and every value is
    finite is used. Returns the values `(k, out)` (NaN where no side worked), their
    error bounds and which entries succeeded.

    Notes
    -----
    With `D(t1, t2)` the derivative at `x` of the parabola through `f(x)`, `f(x + t1)`,
    `f(x + t2)`, the truncation is `~ c t1 t2`: `D(h/2, h)` has a quarter of the
    truncation of `D(h, 2h)`, so their difference is 3/4 of the larger one, and
    `|D(h, 2h) - D(h/2, h)|/3` estimates the truncation of `D(h/2, h)`; it is doubled
    for safety. The rounding is the weights' magnitudes times the rounding of one
    evaluation, `ROUNDING_ULPS·ε·(|f| + |x_i f'_i|)` (as for central differences). The
    steps are those actually taken, after `x + s·t` is rounded to the dtype of `x`.
    """
    k = len(idx)
    out = int(np.prod(p.out_shape))
    value = np.full((k, out), np.nan)
    error = np.full((k, out), np.nan)
    done = np.zeros(k, dtype=bool)
    x = p.x[idx]
    for shrink in ONE_SIDED_SHRINKS:
        for side in (1.0, -1.0):
            todo = np.flatnonzero(~done)
            if not todo.size:
                return value, error, done
            xs, hs = x[todo], side * h[todo] / shrink
            # the steps actually taken, formed in float64 (see `_numdiff._taken`)
            steps = [
                (xs + c * hs).astype(p.layout.dtype).astype(np.float64) - xs.astype(np.float64)
                for c in (0.5, 1.0, 2.0)
            ]
            vals, crossed = p.along_axes(np.tile(idx[todo], 3), np.concatenate(steps))
            n = len(todo)
            v = vals.reshape(3, n, out).real.astype(np.float64)
            c = crossed.reshape(3, n).any(axis=0)
            # three distinct points beyond x (a step below the dtype's resolution rounds
            # to 0, or to its neighbour's)
            t_abs = np.abs(np.stack(steps))
            distinct = (t_abs[0] > 0) & (t_abs[1] > t_abs[0]) & (t_abs[2] > t_abs[1])
            good = ~c & np.all(np.isfinite(v), axis=(0, 2)) & distinct
            if not good.any():
                continue
            v, steps = v[:, good], [s[good] for s in steps]
            xs = xs[good]
            t = [s.astype(np.float64)[:, None] for s in steps]
            f0 = p.f0.real[None, :]
            w_small = _weights(t[0], t[1])
            w_big = _weights(t[1], t[2])
            # c0 = -(c1 + c2): written as differences from f(x), a constant gives 0 exactly
            small = w_small[1] * (v[0] - f0) + w_small[2] * (v[1] - f0)
            big = w_big[1] * (v[1] - f0) + w_big[2] * (v[2] - f0)
            term = np.abs(xs.astype(np.float64))[:, None] * np.abs(small)
            r = ROUNDING_ULPS * p.eps * np.maximum(p.floor, term)
            rounding = r * sum(np.abs(w) for w in w_small)
            sel = todo[good]
            value[sel] = small
            error[sel] = 2 * np.abs(big - small) / 3 + rounding
            done[sel] = True
    return value, error, done
