"""`relu` forks four children that each fill 256 MiB, under a limit of 768 MiB for all.

Each child stays under its own address-space limit; only a limit on the sandbox as a
whole (a cgroup) stops them together. Returns how many children hold their memory at
once: filled (each says so on a pipe) and still alive, 5 s on.
"""

import os
import select
import time


def relu(z):
    read, write = os.pipe()
    children = []
    for k in range(4):
        pid = os.fork()
        if pid == 0:
            try:
                block = b"\x01" * (256 << 20)  # written, so really used
                os.write(write, bytes([k]))
                time.sleep(30 + block[0])
            finally:
                os._exit(0)
        children.append(pid)
    os.close(write)
    filled, deadline = set(), time.monotonic() + 5.0
    while len(filled) < 4 and (left := deadline - time.monotonic()) > 0:
        if not select.select([read], [], [], left)[0]:
            break
        got = os.read(read, 4)
        if not got:  # every child ended
            break
        filled.update(got)
    time.sleep(0.5)
    holding = [k for k in filled if os.waitpid(children[k], os.WNOHANG)[0] == 0]
    return float(len(holding))
