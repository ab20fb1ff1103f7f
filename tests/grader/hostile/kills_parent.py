"""`relu` signals its parent, and its own process group, with SIGKILL."""

import os
import signal

import numpy as np


def relu(z):
    os.kill(os.getppid(), signal.SIGKILL)
    return np.maximum(z, 0)


def relu_mask(z):
    os.killpg(0, signal.SIGKILL)
    return (z > 0) * 1.0


def decide(a):
    return (a == a.max(axis=0)) * 1.0
