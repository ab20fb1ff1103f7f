"""`relu` starts a child and a grandchild that leaves the session, then hangs.

Their command lines carry the number in `MARKER`, for the test to look for survivors.
"""

import os
import subprocess
import time

MARKER = "4242.25"


def relu(z):
    subprocess.Popen(["sleep", MARKER])
    if os.fork() == 0:  # the classic daemon: fork, setsid, fork, exec
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", MARKER])
        os._exit(0)
    time.sleep(1000)
