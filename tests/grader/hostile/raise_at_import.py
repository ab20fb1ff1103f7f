"""Raises while being imported, from inside a helper."""


def helper():
    return 1 / 0


VALUE = helper()
