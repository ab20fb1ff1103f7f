"""Calls sys.exit while being imported."""

import sys


def relu(z):
    return z * (z > 0)


sys.exit(0)
