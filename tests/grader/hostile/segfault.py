"""`relu` crashes the interpreter with a segmentation fault."""

import ctypes

import numpy as np


def relu(z):
    return ctypes.string_at(0)


def softmax(a):
    e = np.exp(a - a.max(axis=0))
    return e / e.sum(axis=0)
