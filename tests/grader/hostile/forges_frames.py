"""Forges well-framed replies meant to exhaust or crash the checker's decoder.

Each forged reply is written to the worker's reply pipe before the worker's own; the
checker must turn it into this function's `invalid` outcome (an `error` verdict), and
grade the honest functions as usual.
"""

import fcntl
import json
import os
import stat
import struct

import numpy as np


def _reply_pipe():
    for fd in range(3, 64):
        try:
            writable = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
            if writable and stat.S_ISFIFO(os.fstat(fd).st_mode):
                return fd
        except OSError:
            continue
    raise RuntimeError("no reply pipe")


def _send(header, blobs=()):
    text = json.dumps(dict(header, blobs=[len(b) for b in blobs])).encode()
    body = b"".join([struct.pack(">I", len(text)), text, *blobs])
    data = struct.pack(">Q", len(body)) + body
    fd = _reply_pipe()
    while data:
        data = data[os.write(fd, data) :]


def _npy(shape_text, data=b""):
    text = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_text}, }}".encode()
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


def relu(z):
    # One 1 MiB array named 200 times: 200 MiB if each were copied (200 × (2^20 + 128
    # bytes of .npy header) + 8 for the list).
    blob = _npy("(131072,)", bytes(1 << 20))
    _send({"status": "ok", "value": {"list": [{"array": 0}] * 200}}, [blob])
    return np.maximum(z, 0)


def relu_mask(z):
    _send({"status": "ok", "value": {"array": 0}}, [_npy("(True, 1)", bytes(8))])
    return (z > 0) * 1.0


def softmax(a):
    _send({"status": "error", "message": "boom", "traceback": 12345})
    e = np.exp(a - a.max(axis=0))
    return e / e.sum(axis=0)


def loss(y_hat, y):
    return -np.sum(y * np.log(y_hat)) / y.shape[1]
