"""How `checks.strategies.edge_points` builds a point in one region of the input space's edges.

Private to `checks.strategies`, which documents the guarantees. Every value is a
multiple of 1/8 (the planted offsets, of a power of 2): products and sums of such
values are exact in float64 at these sizes, so a pre-activation planted at 0 *is* 0,
not a rounding away from it, and the point is exactly representable in float32.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from backprop.catalog import Point
from backprop.network import forward_cache

__all__ = ["NEAR", "REGIONS", "SATURATING_GAPS", "build_edge_point"]

FloatArray = npt.NDArray[np.float64]

#: The edge regions: pre-activations at and next to 0, saturated softmax, tied
#: logits, one output class, float32 data.
REGIONS = ("kink", "saturated", "ties", "one-class", "float32")
#: The offset of a pre-activation planted next to 0: far below a central step (6e-6).
NEAR = 2.0**-30
#: Logit gaps planted in the saturated region: `ŷ` within 1e-16 of 1 (rounds to 1.0
#: from 37 on), and past `exp`'s overflow (709.8) for a softmax without its shift.
SATURATING_GAPS = (40.0, 64.0, 800.0)


def _grid(rng: np.random.Generator, shape: tuple[int, ...]) -> FloatArray:
    return rng.integers(-12, 13, size=shape) / 8.0


def build_edge_point(
    rng: np.random.Generator, widths: list[int], m: int, kind: str, region: str
) -> Point:
    """A point of the given shape in `region` (see `checks.strategies.edge_points`)."""
    X = _grid(rng, (widths[0], m))
    params = [
        (_grid(rng, (n_out, n_in)), _grid(rng, (n_out, 1)))
        for n_in, n_out in itertools.pairwise(widths)
    ]
    top = np.zeros(1, dtype=int)
    if region == "kink":
        _plant_kinks(rng, params, X)
    elif region == "saturated":
        _, b = params[-1]
        top = rng.integers(0, len(b), size=2)  # one unit pushed up, another maybe too
        b[top[0]] = SATURATING_GAPS[int(rng.integers(len(SATURATING_GAPS)))]
        b[top[1]] += 1.0
    elif region == "ties" and widths[-1] > 1:
        W, b = params[-1]
        i, j = rng.choice(widths[-1], size=2, replace=False)
        W[j], b[j] = W[i], b[i]  # two units with the same logits in every column
    n_L = widths[-1]
    labels = rng.integers(0, n_L, size=m)
    if region == "saturated" and n_L > 1:
        # one example labelled away from the saturated class: there `1 - ŷ` of that
        # class, 0 in float64, divides a weight of 1 (and a loss of ŷ is infinite)
        labels[0] = (top[0] + 1 + labels[0] % (n_L - 1)) % n_L
    Y = np.eye(n_L)[:, labels]
    if region == "float32":
        params = [(W.astype(np.float32), b.astype(np.float32)) for W, b in params]
        return Point(params, X.astype(np.float32), Y.astype(np.float32), kind)
    return Point(params, X, Y, kind)


def _plant_kinks(
    rng: np.random.Generator, params: list[tuple[FloatArray, FloatArray]], X: FloatArray
) -> None:
    """In each layer, one pre-activation exactly 0 and, in another unit, one at `±NEAR`."""
    for l, (_W, b) in enumerate(params):
        z = forward_cache(params, X).z[l]
        n, m = z.shape
        i, j = int(rng.integers(n)), int(rng.integers(m))
        b[i] -= z[i, j]  # exact: every term is a dyadic rational of few bits
        if n > 1:
            k = (i + 1 + int(rng.integers(n - 1))) % n
            j2 = int(rng.integers(m))
            b[k] -= z[k, j2] + (NEAR if rng.integers(2) else -NEAR)
