"""An independent float64 oracle: plain central differences, one entry at a time.

Deliberately naive and separate from `checks` (the engine under test elsewhere), so that
the reference is proven against something that shares no code with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

H = 1e-6  # central differences: truncation h²/6 f''' ~ 1e-12, rounding eps/h ~ 1e-10


def gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = H) -> np.ndarray:
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = float(f(x))
        x[i] = old - h
        down = float(f(x))
        x[i] = old
        g[i] = (up - down) / (2 * h)
    return g


def jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float = H) -> np.ndarray:
    x = np.array(x, dtype=np.float64)
    columns = []
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = np.array(f(x), dtype=np.float64)
        x[i] = old - h
        down = np.array(f(x), dtype=np.float64)
        x[i] = old
        columns.append((up - down).ravel() / (2 * h))
    return np.stack(columns, axis=1)


def network(
    rng: np.random.Generator, sizes: list[int], m: int
) -> tuple[list, np.ndarray, np.ndarray]:
    """Random parameters, inputs and one-hot labels (every class present when m allows)."""
    params = [
        (rng.normal(size=(n_out, n_in)) / np.sqrt(n_in), rng.normal(size=(n_out, 1)) * 0.5)
        for n_in, n_out in itertools.pairwise(sizes)
    ]
    X = rng.normal(size=(sizes[0], m))
    classes = np.arange(m) % sizes[-1]
    rng.shuffle(classes)
    Y = np.eye(sizes[-1])[:, classes]
    return params, X, Y
