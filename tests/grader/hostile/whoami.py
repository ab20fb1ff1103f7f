"""Reports who it runs as and what it can see."""

import os
import sys

import numpy as np


def ids(z):
    return np.array([os.getuid(), os.getgid(), os.getpid(), os.getppid()], dtype=float)


def can_import(z):
    import importlib.util

    return np.array(
        [importlib.util.find_spec(n) is not None for n in ("scipy", "hypothesis", "pytest")],
        dtype=float,
    )


def path_length(z):
    return float(len(sys.path))
