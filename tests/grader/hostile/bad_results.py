"""Results that are not plain numeric arrays."""

import numpy as np


class Sneaky:
    def __array__(self, dtype=None, copy=None):
        raise SystemExit("__array__ must never run in the checker")


class Tagged(np.ndarray):
    pass


def relu(z):
    return Sneaky()


def relu_mask(z):
    return np.array([object(), 1.0], dtype=object)


def softmax(a):
    return np.zeros_like(a).view(Tagged)


def decide(a):
    return "1.0"


def loss(y_hat, y):
    pass


def dL_db(dL_dz):
    return np.ma.masked_array(dL_dz.sum(axis=1, keepdims=True))


def dL_dz(dL_da, z):
    return np.zeros(2, dtype=[("x", float), ("y", float)])
