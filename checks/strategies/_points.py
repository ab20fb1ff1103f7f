"""How `checks.strategies.test_points` builds a point that exposes mistakes.

Private to `checks.strategies`, which documents the guarantees. Plain numpy on an
explicit `numpy.random.Generator`: Hypothesis chooses the shapes and the seed, this
module chooses the values by construction, and `defects` is the final gate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from backprop import formulas as f
from backprop.catalog import Point
from backprop.network import forward_cache

__all__ = ["ATTEMPTS", "MAX_WEIGHT", "POINT_ATTEMPTS", "build_point", "defects", "last_layer_scale"]

FloatArray = npt.NDArray[np.float64]

#: Fresh weights drawn for one unit, or one layer, before trying new inputs.
ATTEMPTS = 16
#: Fresh inputs drawn before the point is given up (and rejected).
POINT_ATTEMPTS = 4

#: The largest weight kept; beyond, the unit's weights are drawn again (see `_row`).
MAX_WEIGHT = 4.0


def last_layer_scale(n_L: int, m: int, min_probability: float) -> float:
    """The standard deviation of each last-layer unit's `z_L` that keeps softmax unsaturated.

    In a column, `ŷ_i ≥ 1 / (1 + (n_L - 1) e^D)`, with `D` the column's largest minus
    its smallest entry of `a_L`; `ŷ_i ≥ p` holds when `D ≤ log((1/p - 1) / (n_L - 1))`,
    and then `ŷ_i ≤ 1 - (n_L - 1) p ≤ 1 - p` too. Each `a_L` entry lies between 0 and
    the range of its unit's `z_L`, and `m` numbers of standard deviation `σ` span at
    most `σ √(2m)`; so `σ = D / √(2m)` (at most 1) bounds `D`.
    """
    D = np.log((1 / min_probability - 1) / (n_L - 1))
    return float(min(1.0, D / np.sqrt(2 * m)))


def build_point(
    rng: np.random.Generator,
    widths: Sequence[int],
    m: int,
    kind: str,
    *,
    margin: float,
    min_probability: float,
) -> Point | None:
    """A point with the given widths and `m` examples, meeting every guarantee, or None.

    `Y` has every class when `m >= n_L` (else `m` distinct ones); `X` is standard
    normal. Each layer's weights are drawn standard normal, each unit's row rescaled so
    that its pre-activations `W_l a_{l-1}` have standard deviation 1 over the examples
    (the last layer: `last_layer_scale`), and its bias set so that its pre-activations
    straddle 0 with a gap: see `_thresholds`.
    """
    n_L = widths[-1]
    if m >= n_L:  # every class, in a random order
        classes = rng.permutation(np.concatenate([np.arange(n_L), rng.integers(0, n_L, m - n_L)]))
    else:
        classes = rng.choice(n_L, size=m, replace=False)
    Y = np.eye(n_L)[:, classes]
    scales = [1.0] * (len(widths) - 2) + [last_layer_scale(n_L, m, min_probability)]
    for _ in range(POINT_ATTEMPTS):  # new inputs: with few examples, X's may be too alike
        X = rng.standard_normal((widths[0], m))
        params: list[tuple[FloatArray, FloatArray]] = []
        a_prev = X
        for n_l, scale in zip(widths[1:], scales, strict=True):
            layer = _layer(rng, a_prev, n_l, scale, margin)
            if layer is None:
                break
            params.append(layer)
            a_prev = f.relu(layer[0] @ a_prev + layer[1])
        else:
            point = Point(params, X, Y, kind)
            if not defects(point, margin=margin, min_probability=min_probability):
                return point
    return None


def _layer(
    rng: np.random.Generator, a_prev: FloatArray, n: int, scale: float, margin: float
) -> tuple[FloatArray, FloatArray] | None:
    for _ in range(ATTEMPTS):
        rows = [_row(rng, a_prev, scale) for _ in range(n)]
        if any(row is None for row in rows):
            return None
        W = np.array(rows)
        found = _thresholds(rng, W @ a_prev, margin)
        if found is not None:
            signs, t = found
            return W * signs[:, None], -(t[:, None])
    return None


def _row(rng: np.random.Generator, a_prev: FloatArray, scale: float) -> FloatArray | None:
    """One unit's weights, scaled so that its pre-activations have standard deviation `scale`.

    Weights beyond `MAX_WEIGHT` (a unit that barely varies over the examples, scaled
    up) are drawn again: they would make `z` sensitive to a step in the layers below.
    """
    for _ in range(ATTEMPTS):
        w = rng.standard_normal(a_prev.shape[0])
        spread = float((w @ a_prev).std())
        if spread > 0 and np.abs(w).max() * scale <= MAX_WEIGHT * spread:
            return np.asarray(w * (scale / spread), dtype=np.float64)
    return None


def _cuts(row: FloatArray, margin: float) -> FloatArray:
    """Midpoints between consecutive sorted values of `row` that are over `2 margin` apart."""
    s = np.sort(row)
    gaps = np.diff(s)
    # A safety factor over 2 margin absorbs the rounding of `W a + b` (relative ~1e-16).
    ok = gaps > 2 * margin * (1 + 1e-6)
    return ((s[:-1] + s[1:]) / 2)[ok]


def _thresholds(
    rng: np.random.Generator, u: FloatArray, margin: float
) -> tuple[FloatArray, FloatArray] | None:
    """Per unit a sign and a threshold `t` such that `sign * u - t` mixes signs, off 0.

    Each unit's threshold is a random cut between two of its sorted pre-activations
    that are more than `2 margin` apart, so the unit is active on some examples,
    inactive on others, and no `|z|` is within `margin` of 0. An example inactive in
    every unit is then activated by lowering, in one unit, the threshold to the next
    cut below it (which activates, never deactivates); if it sits below every cut of
    every unit, one unit's sign is flipped (its weights negated), making it a top
    example there. A bounded number of repairs, then None.
    """
    n, m = u.shape
    u = u.copy()
    signs = np.ones(n)
    t = np.empty(n)
    for i in range(n):
        cuts = _cuts(u[i], margin)
        if cuts.size == 0:
            return None
        t[i] = rng.choice(cuts)
    for _ in range(4 * m):
        dead = np.flatnonzero(~np.any(u > t[:, None], axis=0))
        if dead.size == 0:
            return signs, t
        j = int(rng.choice(dead))
        lowerable = [i for i in range(n) if np.any(_cuts(u[i], margin) < u[i, j])]
        if lowerable:
            i = int(rng.choice(lowerable))
        else:
            i = int(rng.integers(n))
            u[i] = -u[i]
            signs[i] = -signs[i]
        cuts = _cuts(u[i], margin)
        below = cuts[cuts < u[i, j]]
        if below.size == 0:
            return None
        t[i] = below.max()
    return None


def defects(point: Point, *, margin: float, min_probability: float) -> list[str]:
    """What `point` fails of the guarantees of `test_points`; empty when it meets them all."""
    found = []
    cache = forward_cache(point.params, point.X)
    for layer, z in enumerate(cache.z, start=1):
        name = f"z_{layer}"
        if not np.all(np.abs(z) > margin):
            found.append(f"{name}: min |z| = {np.abs(z).min():.3g} <= margin {margin:g}")
        if not np.all(np.any(z > 0, axis=1) & np.any(z < 0, axis=1)):
            found.append(f"{name}: a unit is active on every example or on none")
        if not np.all(np.any(z > 0, axis=0)):
            found.append(f"{name}: an example is inactive in every unit")
    y_hat = cache.y_hat
    if not np.all((y_hat >= min_probability) & (y_hat <= 1 - min_probability)):
        found.append(f"y_hat outside [{min_probability:g}, 1 - {min_probability:g}]")
    n_L, m = point.Y.shape
    if m >= n_L and not np.all(point.Y.sum(axis=1) > 0):
        found.append("a class is missing from Y")
    return found
