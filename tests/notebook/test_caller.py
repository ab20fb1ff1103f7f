"""The in-process caller returns what the sandbox returns, call for call."""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from checks.grader import Sandbox
from checks.notebook import InProcessCaller

_SUBMISSION = """
import sys
import numpy as np

def array(x):
    return x * 2.0

def float32(x):
    return (x * 2.0).astype(np.float32)

def scalar(x):
    return np.float64(x.sum())

def python_number(x):
    return 3

def nested_lists(x):
    return x.tolist()

def pairs(x):
    return [(x, x[:, :1]), (x.T, 1.5)]

def none(x):
    y = x + 1

def text(x):
    return "no"

def ragged(x):
    return [[1.0, 2.0], [3.0]]

def masked(x):
    return np.ma.masked_array(x)

def strings(x):
    return np.array(["a"])

def raises(x):
    raise KeyError("missing key")

def exits(x):
    sys.exit(3)

def mutates(x):
    x[0, 0] = 99.0
    return x

def prints(x):
    print("hello")
    return x
"""
_NAMES = [line[4:].split("(")[0] for line in _SUBMISSION.splitlines() if line.startswith("def ")]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, InProcessCaller]]:
    path = tmp_path_factory.mktemp("caller") / "submission.py"
    path.write_text(_SUBMISSION)
    box = Sandbox(path)
    assert box.load().error is None
    yield box, InProcessCaller(runpy.run_path(str(path)))
    box.close()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("name", [*_NAMES, "undefined"])
def test_the_same_status_value_message_and_mutations(
    both: tuple[Sandbox, InProcessCaller], name: str
) -> None:
    box, caller = both
    x = np.arange(6.0).reshape(2, 3)
    sandboxed, here = box.call(name, [x]), caller.call(name, [x])
    assert here.status == sandboxed.status, (here, sandboxed)
    assert here.mutated == sandboxed.mutated
    assert _same(here.value, sandboxed.value), (here.value, sandboxed.value)
    assert here.message == sandboxed.message
    assert (here.traceback is None) == (sandboxed.traceback is None)
    assert np.array_equal(x, np.arange(6.0).reshape(2, 3))  # the caller's own array: untouched
