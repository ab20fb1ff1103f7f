"""The compiled kernel of `NetworkLoss.along_axes` agrees with the numpy kernel, value by value.

`checks._network_jit._units_change` runs twice here: compiled by numba (the optional
extra ``fast``; skipped, saying so, where numba is not installed) and as plain Python,
which needs nothing and checks the same code line by line in every environment.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import checks.network as network_module
from backprop.catalog import param_blocks
from checks import NetworkLoss
from checks._network_jit import KERNEL, _units_change
from tests.engine._points import network

# Both kernels evaluate the same expressions; the compiled one takes one logarithm of
# the product of the examples' factors where numpy takes one per example, and sums the
# examples' terms before dividing by m: a few ulps of the loss, as in test_network.py.
ULPS = 64 * np.finfo(float).eps

CASES = {
    # (sizes, m, the gap added to class 0's logits, float32, a kink planted)
    "kinks": ([6, 7, 5, 4], 7, 0.0, False, True),
    "gap-40": ([5, 6, 4], 6, 40.0, False, False),
    "gap-40-right": ([5, 6, 4], 6, 40.0, False, False),  # every label class 0: a loss of 1e-17
    "gap-800": ([5, 6, 4], 6, 800.0, False, True),
    # wrong answers by 150 and 300: factors near 2^-216 (the product of three is taken
    # out before it leaves the normal floats) and near 2^-433 (a logarithm of its own)
    "gap-150": ([5, 6, 4], 12, 150.0, False, False),
    "gap-300": ([5, 6, 4], 6, 300.0, False, False),
    "one-class": ([4, 5, 1], 5, 0.0, False, True),
    "float32": ([6, 5, 4], 6, 0.0, True, True),
}


def _problem(rng: np.random.Generator, case: str) -> tuple[list[Any], Any, Any]:
    sizes, m, gap, single, kink = CASES[case]
    params, X, Y = network(rng, sizes, m)
    if kink:  # a pre-activation of the first layer at 0 exactly, in example 0
        W, b = params[0]
        b[1, 0] = -(W[1] @ X[:, 0])
    if gap:  # class 0 far above the others: saturated right or wrong, by the labels
        W, b = params[-1]
        b[0, 0] += gap
    if case.endswith("-right"):
        Y = np.zeros_like(Y)
        Y[0] = 1.0
    if single:
        params = [(W.astype(np.float32), b.astype(np.float32)) for W, b in params]
        X = X.astype(np.float32)
    return params, X, Y


def _kernels() -> list[Any]:
    skip = pytest.mark.skip(reason="numba is not installed (the optional extra `fast`)")
    return [
        pytest.param("python", id="python"),
        pytest.param("numba", id="numba", marks=() if KERNEL is not None else skip),
    ]


@pytest.mark.parametrize(
    ("rows_per_log", "fold_bits"),
    [(None, None), (2, 1)],
    ids=["one-log", "a-log-per-2-rows-and-per-column"],
)
@pytest.mark.parametrize("kind", ["notes", "categorical"])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("which", _kernels())
def test_the_compiled_kernel_gives_the_numpy_kernels_values(
    rng: np.random.Generator,
    monkeypatch: pytest.MonkeyPatch,
    which: str,
    case: str,
    kind: str,
    rows_per_log: int | None,
    fold_bits: int | None,
) -> None:
    if rows_per_log is not None:
        # a logarithm per group of rows, as for more than 256 classes, in both kernels,
        # and the compiled kernel's product of ratios taken out after every column
        monkeypatch.setattr("checks._network_kernel._ROWS_PER_LOG", rows_per_log)
        monkeypatch.setattr("checks._network_jit._ROWS_PER_LOG", rows_per_log)
        monkeypatch.setattr("checks._network_jit._FOLD_BITS", fold_bits)
    params, X, Y = _problem(rng, case)
    blocks = param_blocks(params)
    calls: list[bool] = []
    kernel: Callable[..., None] = _units_change if which == "python" else KERNEL

    def counted(*args: Any) -> None:
        kernel(*args)
        col_ptr, ptr, done = args[2], args[5], args[-1]
        moved = (np.diff(ptr) > 0) & (np.diff(col_ptr) > 0)  # units with work to do
        calls.append(bool((done & moved).any()))

    # the kernel for every call that may take one; kernel="numpy" keeps numpy's
    monkeypatch.setattr(
        network_module, "_compiled", lambda choice, work: None if choice == "numpy" else counted
    )
    compiled = NetworkLoss(X, Y, kind=kind)
    reference = NetworkLoss(X, Y, kind=kind, kernel="numpy")
    for name, block in blocks.items():
        index = np.repeat(np.arange(block.size), 2)
        # steps from 1e-9 to 1e-1, both signs: the fast path and, for the larger ones
        # or at the planted kink, the exact path; every entry moved twice
        delta = rng.choice([-1, 1], index.size) * 10.0 ** rng.uniform(-9, -1, index.size)
        got, got_crossed = compiled.along_axes(blocks, name, index, delta)
        want, want_crossed = reference.along_axes(blocks, name, index, delta)
        assert np.all(np.abs(got - want) <= ULPS * np.abs(want)), (name, got - want)
        np.testing.assert_array_equal(got_crossed, want_crossed)
    if case != "gap-800":  # there, most batches hold a column that needs the reference
        assert any(calls), "the compiled kernel never took a batch"


def test_the_compiled_kernel_declines_a_complex_step(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # complex steps stay with numpy: the kernel is real only, and says so by declining
    params, X, Y = network(rng, [5, 4, 3], 6)
    calls: list[bool] = []
    monkeypatch.setattr(
        network_module,
        "_compiled",
        lambda choice, work: None if choice == "numpy" else lambda *a: calls.append(True),
    )
    F, blocks = NetworkLoss(X, Y), param_blocks(params)
    index = np.arange(blocks["W_1"].size)
    got, _ = F.along_axes(blocks, "W_1", index, np.full(index.size, 1e-20j))
    want, _ = NetworkLoss(X, Y, kernel="numpy").along_axes(
        blocks, "W_1", index, np.full(index.size, 1e-20j)
    )
    np.testing.assert_array_equal(got, want)
    assert not calls


def test_the_kernel_keyword_is_checked() -> None:
    X, Y = np.ones((3, 4)), np.eye(2)[:, [0, 1, 0, 1]]
    with pytest.raises(ValueError, match="`kernel` must be"):
        NetworkLoss(X, Y, kernel="fortran")
    if KERNEL is None:
        with pytest.raises(ValueError, match="needs numba"):
            NetworkLoss(X, Y, kernel="numba")
    else:
        assert NetworkLoss(X, Y, kernel="numba").kernel == "numba"


@pytest.mark.skipif(KERNEL is None, reason="numba is not installed (the optional extra `fast`)")
def test_a_kernel_without_a_writable_cache_is_compiled_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # numba refuses `cache=True` where neither the package nor a home is writable (a
    # read-only install in a sandbox): the kernel is then compiled without its cache
    import checks._network_jit as jit

    njit = jit.numba.njit

    def refusing(*args: Any, **options: Any) -> Any:
        if options.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return njit(*args, **options)

    monkeypatch.setattr(jit.numba, "njit", refusing)
    assert jit._jit(_add_one)(1.0) == 2.0


def _add_one(x: float) -> float:
    return x + 1.0


def test_auto_loads_the_compiled_kernel_only_for_a_large_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # importing numba and loading the kernel cost about a second: "auto" pays it for a
    # call of at least _WORTH_COMPILING logits (or once it is loaded), never below
    monkeypatch.delitem(sys.modules, "checks._network_jit")
    assert network_module._compiled("auto", network_module._WORTH_COMPILING / 2) is None
    assert "checks._network_jit" not in sys.modules
    assert network_module._compiled("numpy", 1e12) is None
    large = network_module._compiled("auto", network_module._WORTH_COMPILING)
    assert (large is None) == (KERNEL is None)
