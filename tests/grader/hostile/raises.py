"""Raises: plainly, with a message that cannot be printed, and with a huge message."""

import numpy as np


def _check(z):
    if z.ndim != 3:
        raise ValueError(f"expected a 3-d array, got {z.ndim}-d")


def relu(z):
    _check(z)
    return np.maximum(z, 0)


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


def relu_mask(z):
    raise Unprintable


def softmax(a):
    raise ValueError("x" * 1_000_000)
