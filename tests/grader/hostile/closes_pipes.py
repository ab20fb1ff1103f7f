"""`relu` closes every file descriptor it did not open, the protocol's pipes included."""

import os

import numpy as np


def relu(z):
    os.closerange(3, 1024)
    return np.maximum(z, 0)


def softmax(a):
    e = np.exp(a - a.max(axis=0))
    return e / e.sum(axis=0)
