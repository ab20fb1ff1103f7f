"""`NetworkLoss`: its fast evaluations agree with the reference network."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from backprop import formulas as f
from backprop import network as net
from backprop.catalog import param_blocks, params_from_blocks
from checks import NetworkLoss, batched_loss, network_check
from tests.engine._points import network

NEEDS_NUMBA = pytest.mark.skipif(
    importlib.util.find_spec("numba") is None,
    reason="numba is not installed (the optional extra `fast`)",
)

# The fast paths regroup the same floating-point operations: they agree with the
# reference to a few ulps of the loss (|L| ~ 3 here), not bit for bit.
ULPS = 64 * np.finfo(float).eps


@pytest.mark.parametrize("kind", ["notes", "categorical"])
@pytest.mark.parametrize("sizes", [[5, 4, 3], [6, 5, 4, 3]], ids=["L=2", "L=3"])
def test_along_axes_equals_the_loss_at_each_perturbed_point(
    rng: np.random.Generator, sizes: list[int], kind: str
) -> None:
    params, X, Y = network(rng, sizes, 7)
    F, blocks = NetworkLoss(X, Y, kind=kind), param_blocks(params)
    for name, block in blocks.items():
        index = np.arange(block.size)
        delta = rng.choice([-1, 1], block.size) * 10.0 ** rng.uniform(-6, -1, block.size)
        values, crossed = F.along_axes(blocks, name, index, delta)
        for k in index:
            moved = {n: b.copy() for n, b in blocks.items()}
            moved[name].reshape(-1)[k] += delta[k]
            expected = net.network_loss(params_from_blocks(moved), X, Y, kind=kind)
            assert abs(values[k] - expected) <= ULPS * abs(expected), (name, k)
            assert crossed[k] == bool(np.any(F.kinks(moved) != F.kinks(blocks)))


def test_a_batched_call_equals_calls_one_by_one(rng: np.random.Generator) -> None:
    params, X, Y = network(rng, [5, 4, 3], 6)
    blocks = param_blocks(params)
    batch = {n: b[None] + 0.1 * rng.standard_normal((4, *b.shape)) for n, b in blocks.items()}
    F = NetworkLoss(X, Y)
    one_by_one = [F({n: b[k] for n, b in batch.items()}) for k in range(4)]
    np.testing.assert_allclose(F(batch), one_by_one, rtol=ULPS)


@pytest.mark.parametrize("kind", ["notes", "categorical"])
@pytest.mark.parametrize("scale", [1.0, 30.0, 800.0], ids=["mild", "saturated", "extreme"])
def test_batched_loss_equals_loss_from_logits(
    rng: np.random.Generator, kind: str, scale: float
) -> None:
    a = scale * rng.standard_normal((5, 4, 6))
    a[0, :, 0] = 0.0  # a tie: every logit of a column equal, as after ReLU
    Y = np.eye(4)[:, rng.integers(0, 4, 6)]
    expected = [f.loss_from_logits(a_k, Y, kind=kind) for a_k in a]
    np.testing.assert_allclose(batched_loss(a, Y, kind), expected, rtol=ULPS)


def test_soft_labels_take_the_general_path(rng: np.random.Generator) -> None:
    a = rng.standard_normal((3, 4, 5))
    Y = rng.dirichlet(np.ones(4), 5).T
    expected = [f.loss_from_logits(a_k, Y) for a_k in a]
    np.testing.assert_allclose(batched_loss(a, Y, "notes"), expected, rtol=ULPS)


def test_bad_data_is_refused() -> None:
    with pytest.raises(ValueError, match="same m"):
        NetworkLoss(np.ones((3, 4)), np.ones((2, 5)))
    with pytest.raises(ValueError, match="`kind` must be"):
        NetworkLoss(np.ones((3, 4)), np.ones((2, 4)), kind="mse")


def _moved_losses(
    F: NetworkLoss, blocks: dict[str, np.ndarray], name: str, index: np.ndarray, delta: np.ndarray
) -> tuple[list[complex], list[bool]]:
    """The reference: the loss and the kinks of every moved point, one by one."""
    values, crossed = [], []
    for k, d in zip(index, delta, strict=True):
        moved = {n: b.astype(np.result_type(b, d), copy=True) for n, b in blocks.items()}
        moved[name].reshape(-1)[k] += d
        values.append(net.network_loss(params_from_blocks(moved), F.X, F.Y, kind=F.kind))
        real = {n: b.real for n, b in moved.items()}
        crossed.append(bool(np.any(F.kinks(real) != F.kinks(blocks))))
    return values, crossed


@pytest.mark.parametrize(
    ("sizes", "m", "memory"),
    [([7, 9, 6, 5], 6, 64 << 20), ([4, 120, 3], 30, 1 << 20)],
    ids=["deep", "one-unit-chunks"],
)
@pytest.mark.parametrize("step", ["real", "complex"])
@pytest.mark.parametrize("kernel", ["numpy", pytest.param("numba", marks=NEEDS_NUMBA)])
def test_the_fast_path_agrees_with_the_reference_and_sees_every_kink(
    rng: np.random.Generator, sizes: list[int], m: int, memory: int, step: str, kernel: str
) -> None:
    # steps from 1e-7 to 1e-1: the small ones take the fast path (with the polynomial
    # exp), the large ones cross kinks and take the exact path; 1 MiB of memory makes
    # every unit of the wide layer a chunk of its own. "numba": the compiled kernel
    # (tests/engine/test_network_jit.py compares the two kernels value by value).
    params, X, Y = network(rng, sizes, m)
    F, blocks = NetworkLoss(X, Y, memory=memory, kernel=kernel), param_blocks(params)
    seen: list[bool] = []
    for name, block in blocks.items():
        index = rng.choice(block.size, min(block.size, 40), replace=False)
        delta = rng.choice([-1, 1], len(index)) * 10.0 ** rng.uniform(-7, -1, len(index))
        if step == "complex":
            delta = 1j * 10.0 ** rng.uniform(-20, -1, len(index))
        values, crossed = F.along_axes(blocks, name, index, delta)
        expected, kinks = _moved_losses(F, blocks, name, index, delta)
        scale = np.abs(expected)
        assert np.all(np.abs(values - expected) <= ULPS * scale), name
        if step == "complex":  # the imaginary part is the derivative's: to rounding of it
            assert np.all(np.abs(values.imag - np.imag(expected)) <= ULPS * np.abs(delta))
        assert crossed.tolist() == kinks, name
        seen += kinks
    if step == "real":  # both paths were taken
        assert any(seen) and not all(seen)


def test_soft_labels_take_the_exact_path(rng: np.random.Generator) -> None:
    params, X, _ = network(rng, [5, 4, 3], 6)
    Y = rng.dirichlet(np.ones(3), 6).T
    F, blocks = NetworkLoss(X, Y), param_blocks(params)
    index = np.arange(blocks["W_1"].size)
    delta = np.full(index.size, 1e-3)
    values, _ = F.along_axes(blocks, "W_1", index, delta)
    expected, _ = _moved_losses(F, blocks, "W_1", index, delta)
    np.testing.assert_allclose(values, expected, rtol=ULPS)


@pytest.mark.parametrize("largest", [0.0, 1e-20, 1e-9, 1e-5, 1e-3, 0.05, 3.0])
@pytest.mark.parametrize("kind", ["real", "complex"])
def test_the_polynomial_exp_is_exp_to_rounding(
    rng: np.random.Generator, largest: float, kind: str
) -> None:
    from checks._network_kernel import _exp_shifted

    s0 = -5 * rng.random((4, 3, 1))
    x = largest * rng.uniform(-1, 1, (4, 3, 50)) * (1j if kind == "complex" else 1)
    got = _exp_shifted(x.copy(), s0, largest)
    eps = np.finfo(float).eps
    np.testing.assert_allclose(got.real, np.exp(s0 + x).real, rtol=4 * eps, atol=0)
    # the complex step's derivative is the imaginary part: to rounding of itself
    np.testing.assert_allclose(got.imag, np.exp(s0 + x).imag, rtol=4 * eps, atol=0)


def test_memory_must_be_at_least_a_mebibyte() -> None:
    with pytest.raises(ValueError, match="`memory`"):
        NetworkLoss(np.ones((3, 4)), np.eye(2)[:, [0, 1, 0, 1]], memory=1000)


@pytest.mark.parametrize("mode", ["full", "directional"])
@pytest.mark.parametrize("kind", ["notes", "categorical"])
def test_one_output_class_is_checked_not_crashed(kind: str, mode: str) -> None:
    # n_L = 1: softmax is 1, the loss 0 everywhere; the per-example losses once formed
    # log r with no other class, -inf - (-inf).
    rng = np.random.default_rng(3)
    params = [
        (rng.normal(size=(3, 2)), rng.normal(size=(3, 1))),
        (rng.normal(size=(1, 3)), rng.normal(size=(1, 1))),
    ]
    X, Y = rng.normal(size=(2, 5)), np.ones((1, 5))
    F, blocks = NetworkLoss(X, Y, kind=kind), param_blocks(params)
    assert F(blocks) == 0.0
    values, _ = F.along_axes(blocks, "W_1", np.arange(6), np.full(6, 1e-3))
    np.testing.assert_array_equal(values, 0.0)
    report = network_check(
        params, X, Y, net.backward(params, X, Y, kind=kind), kind=kind, mode=mode
    )
    assert report.ok, report
    wrong = [(W + 1.0, b) for W, b in net.backward(params, X, Y, kind=kind)]
    assert not network_check(params, X, Y, wrong, kind=kind, mode=mode).ok


def test_a_saturated_column_keeps_its_tiny_loss_on_the_fast_paths() -> None:
    # The label's class 40 above the others: the loss, 2·e^-40-ish, is below ε; the
    # product of (1 - ŷ_j) rounds to 1 there and once lost the half of it in ŷ_j.
    W = np.array([[-1.125, 1.0, 1.375, -0.75, -0.625], [1.125, -0.25, -0.75, 1.0, -0.75]])
    params = [(W, np.array([[0.75], [40.0]]))]
    X = np.array([[-0.125], [0.0], [0.75], [1.375], [-1.5]])
    Y = np.array([[0.0], [1.0]])
    F, blocks = NetworkLoss(X, Y), param_blocks(params)
    a_L = net.forward_cache(params, X).a[-1]
    want = f.loss_from_logits(a_L, Y)
    assert 0 < want < 1e-16
    assert F(blocks) == pytest.approx(want, rel=1e-12)
    values, _ = F.along_axes(blocks, "b_1", np.array([1]), np.array([0.0]))
    assert values[0] == pytest.approx(want, rel=1e-12)
    assert batched_loss(a_L[None], Y, "notes")[0] == pytest.approx(want, rel=1e-12)


def test_a_saturated_right_class_is_checked_at_its_logits_rounding() -> None:
    # Logits of ~40 on the right class: the loss (~1e-17) is far below the rounding its
    # logits carry (ε·40 each); bounded by ε|L| alone, the correct gradient failed here
    # (seed 23, found by bench/sweep.py's kind of case).
    params, X, Y = network(np.random.default_rng(23), [6, 5, 4], 3)
    W, b = params[-1]
    params[-1] = (W, b + 40.0 * (np.arange(4) == 0)[:, None])
    Y = np.zeros_like(Y)
    Y[0] = 1
    params = [(W.astype(np.float32), b.astype(np.float32)) for W, b in params]
    X = X.astype(np.float32)
    grads = net.backward(params, X, Y, kind="categorical")
    F, blocks = NetworkLoss(X, Y, kind="categorical"), param_blocks(params)
    assert F.rounding_scale(blocks) > 10 * F(blocks)
    assert network_check(params, X, Y, grads, kind="categorical").ok


def test_a_unit_at_exactly_0_above_is_not_a_kink_crossed() -> None:
    # The edges sweep's case 694 (bench/sweep.py): units planted exactly at 0 in four
    # layers. The exact path recomputed the layers above the moved one as W a + b, whose
    # rounding flipped the sign of a unit at 0 and reported a kink nothing crossed: 8
    # entries of W_1 were left unchecked (26 in the sweep's 10,000 networks).
    spec = importlib.util.spec_from_file_location(
        "sweep", Path(__file__).resolve().parents[2] / "bench" / "sweep.py"
    )
    assert spec is not None and spec.loader is not None
    sweep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweep)
    case = sweep.make_case(694)
    params, X, Y = case["params"], case["X"], case["Y"]
    grads = net.backward(params, X, Y, kind=case["kind"])
    report = network_check(params, X, Y, grads, kind=case["kind"])
    assert report.status == "passed" and not report.skipped, str(report)


def test_the_last_point_is_kept_by_reference_only_when_nothing_can_change_it(
    rng: np.random.Generator,
) -> None:
    # the engine's blocks are read-only views of a read-only flat copy: kept by
    # reference (a copy was 76 MiB at P = 1e7); a caller's writable blocks are copied,
    # so that a change in place is seen at the next call
    params, X, Y = network(rng, [4, 5, 3], 6)
    F = NetworkLoss(X, Y)
    blocks = param_blocks(params)
    index, delta = np.arange(3), np.full(3, 1e-3)
    before, _ = F.along_axes(blocks, "W_1", index, delta)
    assert F._last is not None and all(F._last[0][k] is not v for k, v in blocks.items())
    blocks["W_2"][0, 0] += 0.5  # in place: the next call must see it
    after, _ = F.along_axes(blocks, "W_1", index, delta)
    moved = NetworkLoss(X, Y).along_axes(
        {k: v.copy() for k, v in blocks.items()}, "W_1", index, delta
    )[0]
    np.testing.assert_array_equal(after, moved)
    assert not np.array_equal(after, before)

    flat = np.concatenate([v.ravel() for v in blocks.values()])
    flat.flags.writeable = False
    frozen, lo = {}, 0
    for k, v in blocks.items():
        frozen[k] = flat[lo : lo + v.size].reshape(v.shape)
        lo += v.size
    F = NetworkLoss(X, Y)  # (F's last point is equal to this one: it would be taken)
    F.along_axes(frozen, "W_1", index, delta)
    assert F._last is not None and all(F._last[0][k] is v for k, v in frozen.items())
    # a read-only view of a writable array is not frozen: copied
    view = blocks["W_1"].view()
    view.flags.writeable = False
    F = NetworkLoss(X, Y)
    F.along_axes({**frozen, "W_1": view}, "W_1", index, delta)
    assert F._last[0]["W_1"] is not view and F._last[0]["b_1"] is frozen["b_1"]
