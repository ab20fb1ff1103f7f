"""Tries what a submission run as root, or as the instructor, could do to the host.

Each function returns what it managed (or raises): the sandbox must leave it nothing.
"""

import contextlib
import os
import signal
import time

import numpy as np

MARKER = "backprop-check-escape-4243"


def relu(z):
    """Reads the host's password hashes (root could)."""
    with open("/etc/shadow") as stream:
        return float(len(stream.read()))


def relu_mask(z):
    """SIGKILLs every process it can see, then every one it may signal (kill -1)."""
    killed = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                os.kill(int(entry), signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    with contextlib.suppress(OSError):
        os.kill(-1, signal.SIGKILL)
    return float(killed)


def softmax(a):
    """Leaves a daemon behind: a double fork, a new session, a long sleep."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["/bin/sleep", "4243.5"])
        os._exit(0)
    time.sleep(0.2)
    return a


def decide(a):
    """Leaves files where students could pass them to one another."""
    left = []
    for folder in ("/run/lock", "/var/lock", "/dev/shm", "/var/tmp", "/tmp"):
        try:
            with open(os.path.join(folder, MARKER), "w") as stream:
                stream.write("for the next student")
            left.append(1.0)
        except OSError:
            left.append(0.0)
    return np.array(left)


def loss(y_hat, y):
    """Who it runs as: real and effective uid, and gid."""
    return np.array([os.getuid(), os.geteuid(), os.getgid()], dtype=float)


def forward(params, X):
    """How many of the host's usual top folders it sees (only /usr and /proc are given)."""
    seen = os.listdir("/")
    return float(sum(n in seen for n in ("home", "run", "var", "srv", "opt", "mnt", "work")))
