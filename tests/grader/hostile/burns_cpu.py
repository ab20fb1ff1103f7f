"""Burns CPU in C (no Python bytecode to interrupt)."""

import numpy as np


def relu(z):
    a = np.random.default_rng(0).random((600, 600))
    while True:
        a = a @ a
        a /= np.abs(a).max()
