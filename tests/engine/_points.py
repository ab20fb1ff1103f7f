"""Small networks of the notes for the engine's tests, built on an explicit generator."""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop import network as net
from backprop.catalog import param_blocks

Blocks = dict[str, Any]


def network(
    rng: np.random.Generator, sizes: list[int], m: int
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """Parameters, inputs and one-hot labels, with weights scaled like `1/√n_{l-1}`."""
    params = [
        (
            rng.standard_normal((sizes[i + 1], sizes[i])) / np.sqrt(sizes[i]),
            0.1 * rng.standard_normal((sizes[i + 1], 1)),
        )
        for i in range(len(sizes) - 1)
    ]
    X = rng.standard_normal((sizes[0], m))
    Y = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], m)]
    return params, X, Y


def grad_blocks(params: Any, X: np.ndarray, Y: np.ndarray, kind: str = "notes") -> Blocks:
    """The reference gradient as named blocks, like `param_blocks`."""
    pairs = net.backward(params, X, Y, kind=kind)
    return param_blocks(pairs)
