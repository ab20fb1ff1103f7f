"""`relu` allocates without bound, in numpy and in pure Python."""

import numpy as np


def relu(z):
    return np.ones((1 << 20, 1 << 12))  # 32 GiB


def relu_mask(z):
    hoard = []
    while True:
        hoard.append(bytearray(1 << 24))


def softmax(a):
    e = np.exp(a - a.max(axis=0))
    return e / e.sum(axis=0)
