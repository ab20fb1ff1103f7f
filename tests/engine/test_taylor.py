"""`taylor_test`: order 2 for a right gradient, 1 for a wrong one, whatever the tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from backprop import formulas as f
from backprop.catalog import param_blocks
from checks import NetworkLoss, taylor_test
from tests.engine._points import grad_blocks, network


def test_a_right_gradient_converges_at_order_two(rng: np.random.Generator) -> None:
    params, X, Y = network(rng, [6, 5, 4], 7)
    result = taylor_test(NetworkLoss(X, Y), grad_blocks(params, X, Y), param_blocks(params))
    assert result.ok and result.order == pytest.approx(2.0, abs=0.1)
    assert "observed order 2.0" in str(result)


@pytest.mark.parametrize("error", [1e-1, 1e-3])
def test_a_wrong_gradient_converges_at_order_one(rng: np.random.Generator, error: float) -> None:
    params, X, Y = network(rng, [6, 5, 4], 7)
    grads = grad_blocks(params, X, Y)
    grads["b_2"] = grads["b_2"] + error * np.abs(grads["b_2"]).max()
    result = taylor_test(NetworkLoss(X, Y), grads, param_blocks(params))
    assert not result.ok and result.order == pytest.approx(1.0, abs=0.1)
    assert "WRONG" in str(result)


def test_a_kink_away_from_x_spoils_only_the_large_steps() -> None:
    x = np.array([-1e-3, -0.5, 1.0, 0.3])  # along seed 0's u, crosses 0 for h > 0.006

    def fun(v: np.ndarray) -> np.ndarray:
        return np.sum(f.relu(v)) + 0.5 * np.sum(v**2)

    result = taylor_test(fun, f.relu_mask(x) + x, x)
    assert result.ok and result.order == pytest.approx(2.0, abs=0.1)
    with_kinks = taylor_test(fun, f.relu_mask(x) + x, x, kinks=lambda v: v > 0)
    assert with_kinks.ok and not with_kinks.used[0]


def test_a_linear_function_with_the_right_gradient_is_exact() -> None:
    result = taylor_test(lambda v: 3 * np.sum(v), np.full(3, 3.0), np.ones(3))
    assert result.ok and result.order == np.inf


def test_a_gradient_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="must have shape"):
        taylor_test(lambda v: np.sum(v**2), np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="`steps` must be"):
        taylor_test(lambda v: np.sum(v**2), np.zeros(3), np.zeros(3), steps=1)
