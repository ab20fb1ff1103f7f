"""Reports who it runs as and what it can see."""

import os
import sys

import numpy as np


def ids(z):
    return np.array([os.getuid(), os.getgid(), os.getpid(), os.getppid()], dtype=float)


def can_import(z):
    import importlib.util

    names = ("scipy", "hypothesis", "pytest", "backprop", "checks")
    return np.array([importlib.util.find_spec(n) is not None for n in names], dtype=float)


def path_length(z):
    return float(len(sys.path))


def site_packages_on_path(z):
    return float(sum("-packages" in entry for entry in sys.path))


def hash_of_text(z):
    return float(hash("backprop") % (1 << 52))


def dumpable(z):
    import ctypes

    return float(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))  # PR_GET_DUMPABLE
