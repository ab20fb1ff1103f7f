"""`relu` spins, `relu_mask` sleeps; `softmax` is right."""

import time

import numpy as np


def relu(z):
    while True:
        pass


def relu_mask(z):
    time.sleep(1000)


def softmax(a):
    e = np.exp(a - a.max(axis=0))
    return e / e.sum(axis=0)
