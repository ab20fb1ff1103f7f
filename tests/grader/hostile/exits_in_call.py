"""`relu` ends the process with os._exit, `dL_db` with sys.exit; `softmax` is right."""

import os
import sys

import numpy as np


def relu(z):
    os._exit(3)


def dL_db(dL_dz):
    sys.exit(1)


def softmax(a):
    e = np.exp(a - a.max(axis=0))
    return e / e.sum(axis=0)
