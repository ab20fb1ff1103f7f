"""`numerical_gradient` and `numerical_jacobian`: known derivatives within each method's error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from backprop import formulas as f
from checks import (
    ComplexStepError,
    FunctionError,
    default_step,
    numerical_gradient,
    numerical_jacobian,
)

METHODS = ["forward", "central", "richardson", "complex", "scipy"]


def _rosenbrock(x: Any) -> Any:
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def _rosenbrock_grad(x: np.ndarray) -> np.ndarray:
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def _lse(x: Any) -> Any:
    return np.log(np.sum(np.exp(x - x.real.max()))) + x.real.max()


# (id, f, its gradient, the point): polynomials, exp/log, log-sum-exp, Rosenbrock
KNOWN: list[tuple[str, Callable[[Any], Any], Callable[[np.ndarray], np.ndarray], np.ndarray]] = [
    ("cubic", lambda x: np.sum(x**3 - 2 * x), lambda x: 3 * x**2 - 2, np.linspace(-2, 3, 7)),
    (
        "exp-log",
        lambda x: np.sum(np.exp(x) * np.log(x)),
        lambda x: np.exp(x) * (np.log(x) + 1 / x),
        np.array([0.3, 1.0, 2.5, 4.0]),
    ),
    ("logsumexp", _lse, lambda x: np.exp(x - _lse(x)), np.array([[1.0, -2.0], [30.0, 29.5]])),
    ("rosenbrock", _rosenbrock, _rosenbrock_grad, np.array([-1.2, 1.0, 0.5, 2.0])),
    (
        "large-x",
        lambda x: np.sum(np.sin(x / 1e3)),
        lambda x: np.cos(x / 1e3) / 1e3,
        np.array([1e3, -4e3, 2.5e4]),
    ),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("fun", "grad", "x"), [k[1:] for k in KNOWN], ids=[k[0] for k in KNOWN])
def test_known_gradients_lie_within_the_error_bound(
    method: str, fun: Callable[[Any], Any], grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray
) -> None:
    value, est = numerical_gradient(fun, x, method=method, full_output=True)
    true = grad(x)
    assert value.shape == x.shape
    assert np.all(np.abs(value - true) <= est.error[:, 0].reshape(x.shape)), est.model


@pytest.mark.parametrize(
    ("method", "bound"),
    # float64, |f| and |f'''| of order 1: the figures in `default_step`'s Notes
    [("forward", 1e-6), ("central", 1e-9), ("richardson", 1e-11), ("complex", 1e-14)],
)
def test_each_method_reaches_its_documented_accuracy(method: str, bound: float) -> None:
    x = np.array([0.3, -0.7, 1.1])
    value = numerical_gradient(lambda v: np.sum(np.exp(v)), x, method=method)
    assert np.max(np.abs(value - np.exp(x))) < bound


def test_the_error_bound_is_not_vacuous() -> None:
    x = np.linspace(-1, 1, 5)
    _, est = numerical_gradient(lambda v: np.sum(np.cosh(v)), x, full_output=True)
    # central: ~ε^(2/3)·|f| ≈ 2e-10 here; a bound 1e4 times looser would be useless
    assert est.error.max() < 1e-8


def test_named_blocks_give_named_gradients() -> None:
    x = {"A": np.arange(6.0).reshape(2, 3), "c": np.array([[0.5], [-1.0]])}
    got = numerical_gradient(lambda p: np.sum(p["A"] ** 2) + np.sum(p["c"] ** 3), x)
    assert set(got) == {"A", "c"}
    np.testing.assert_allclose(got["A"], 2 * x["A"], atol=1e-8)
    np.testing.assert_allclose(got["c"], 3 * x["c"] ** 2, atol=1e-8)


@pytest.mark.parametrize("method", ["central", "richardson", "complex", "forward"])
def test_softmax_jacobian_matches_the_correct_formula(method: str) -> None:
    a = np.array([0.2, -1.0, 0.7, 2.0])
    J, est = numerical_jacobian(
        lambda v: f.softmax(v.reshape(-1, 1))[:, 0], a, method=method, full_output=True
    )
    true = f.softmax_jacobian(f.softmax(a.reshape(-1, 1))[:, 0])
    assert J.shape == (4, 4)
    assert np.all(np.abs(J - true) <= est.error.T)


def test_batched_functions_are_evaluated_per_batch() -> None:
    calls: list[int] = []

    def f_batch(x: np.ndarray) -> np.ndarray:
        calls.append(x.shape[0])
        return np.sum(x**2, axis=(1, 2))

    x = np.arange(12.0).reshape(3, 4) / 10
    got = numerical_gradient(f_batch, x, batched=True)
    np.testing.assert_allclose(got, 2 * x, atol=1e-9)
    assert len(calls) < 12 and max(calls) >= 24  # every ± perturbation in one call


def test_kink_crossings_are_retried_then_one_sided_on_the_own_piece() -> None:
    x = np.array([1e-7, -2e-9, 0.0, 1.0])  # central step ≈ 6e-6 crosses the first three

    got, est = numerical_gradient(
        lambda z: np.sum(f.relu(z)), x, kinks=lambda z: z > 0, full_output=True
    )
    assert got[0] == pytest.approx(1.0)  # retried at h/64 < 1e-7: on the smooth side
    assert got[3] == pytest.approx(1.0)
    # x[1] < 0 and x[2] == 0 lie on the piece where the unit is off: differenced from the
    # left only, their derivative is that piece's, 0 (the notes' convention at z = 0)
    assert got[1] == 0.0 and got[2] == 0.0
    assert est.one_sided.tolist() == [1, 2] and est.skipped.size == 0


def test_an_entry_that_crosses_on_both_sides_is_skipped_with_why() -> None:
    x = np.array([0.5, 1.0])
    got, est = numerical_gradient(
        lambda z: np.sum(z**2), x, kinks=lambda z: z[0], full_output=True
    )  # any move of x[0] changes its pattern
    assert np.isnan(got[0]) and got[1] == pytest.approx(2.0)
    assert est.skipped.tolist() == [0]
    assert all("on either side) crossed a kink" in r for r in est.skip_reasons)


def test_float32_steps_and_bounds_use_float32_precision() -> None:
    x = np.linspace(0.1, 2, 6, dtype=np.float32)
    got, est = numerical_gradient(lambda v: np.sum(np.exp(v)), x, full_output=True)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(est.step, (x + default_step("central", x, np.float32)) - x)
    assert np.all(np.abs(got - np.exp(x.astype(float))) <= est.error[:, 0])
    assert est.error.max() > 1e-6  # float32 errors are honest, not float64's


def test_complex_step_refuses_a_function_that_is_not_complex_safe() -> None:
    with pytest.raises(ComplexStepError, match="not complex-safe"):
        numerical_gradient(lambda v: np.sum(np.abs(v) ** 3), np.array([1.0, 2.0]), method="complex")
    with pytest.raises(ComplexStepError, match="not complex-safe"):
        numerical_gradient(lambda v: float(np.sum(v**2)), np.array([1.0, 2.0]), method="complex")


def _raises(x: Any) -> Any:
    raise ZeroDivisionError("boom")


BAD = [
    ("not-callable", dict(f=3.0, x=np.ones(2)), TypeError, "`f` must be callable"),
    ("non-scalar-f", dict(f=lambda v: v * 2, x=np.ones(2)), ValueError, "must return a scalar"),
    ("nan-in-x", dict(f=np.sum, x=np.array([1.0, np.nan])), ValueError, "`x` must be finite"),
    ("nan-in-block", dict(f=np.sum, x={"W": np.array([np.inf])}), ValueError, "x\\['W'\\]"),
    ("string-x", dict(f=np.sum, x=np.array(["a"])), TypeError, "`x` must be a real numeric"),
    ("empty-x", dict(f=np.sum, x=np.zeros(0)), ValueError, "at least one entry"),
    ("f-raises", dict(f=_raises, x=np.ones(2)), FunctionError, "`f` raised ZeroDivisionError"),
    ("bad-method", dict(f=np.sum, x=np.ones(2), method="fast"), ValueError, "`method` must be"),
    ("bad-step", dict(f=np.sum, x=np.ones(2), step=-1.0), ValueError, "`step` must be"),
    (
        "f-not-finite",
        dict(f=lambda v: np.log(v - 2).sum(), x=np.ones(2)),
        ValueError,
        "finite at `x`",
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_arguments_raise_clear_errors(
    kwargs: dict[str, Any], error: type, message: str
) -> None:
    with np.errstate(invalid="ignore"), pytest.raises(error, match=message):
        numerical_gradient(**kwargs)


def test_a_jacobian_rejects_scipy() -> None:
    with pytest.raises(ValueError, match="`method='scipy'` is for gradients"):
        numerical_jacobian(lambda v: v, np.ones(2), method="scipy")


@pytest.mark.parametrize("dtype", [float, complex])
def test_each_black_box_path_returns_f_at_each_moved_point(dtype: type) -> None:
    # the batched path reuses one buffer and the plain loop one point: the values must
    # be exactly f at each moved point, in any order of entries, repeated or not
    from checks.engine._problem import Problem

    rng = np.random.default_rng(3)
    x = {"A": rng.standard_normal((3, 4)), "b": rng.standard_normal(5)}

    def plain(p: Any) -> Any:
        return np.sum(np.sin(p["A"]) @ np.ones(4)) + np.prod(np.cos(p["b"]))

    def batched(p: Any) -> Any:
        return np.sin(p["A"]).sum(axis=(1, 2)) + np.prod(np.cos(p["b"]), axis=1)

    index = rng.integers(0, 17, 40)
    delta = (1e-3 * rng.standard_normal(40)).astype(dtype) * (1j if dtype is complex else 1)
    flat = np.concatenate([x["A"].ravel(), x["b"]])
    expected = []
    for i, d in zip(index, delta, strict=True):
        moved = flat.astype(dtype)
        moved[i] += d
        expected.append(plain({"A": moved[:12].reshape(3, 4), "b": moved[12:]}))
    for fn, is_batched in ((plain, False), (batched, True)):
        p = Problem(fn, x, batched=is_batched)
        values, crossed = p.along_axes(index, delta)
        np.testing.assert_allclose(values[:, 0], expected, rtol=1e-15, atol=1e-15)
        assert not crossed.any() and p.evaluations == 41


def test_a_function_that_writes_into_its_argument_gets_a_clear_error() -> None:
    def writes(x: Any) -> Any:
        x *= 2
        return np.sum(x, axis=-1)

    for is_batched in (False, True):
        with pytest.raises(FunctionError, match="read-only"):
            numerical_gradient(writes, np.ones(3), batched=is_batched)
