"""Bad input gets a clear error naming the argument, never a traceback from numpy."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import backprop

W = np.ones((3, 4))
b = np.zeros((3, 1))
X = np.ones((4, 5))
Y = np.eye(3)[:, [0, 1, 2, 0, 1]]
P = np.full((3, 5), 1 / 3)

CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    (
        "W-inner-dim-mismatch",
        lambda: backprop.dL_dW(np.ones((3, 5)), np.ones((4, 6))),
        ValueError,
        "`dL_dz` (3, 5) and `a_prev` (4, 6)",
    ),
    (
        "forward-X-rows",
        lambda: backprop.forward([(W, b)], np.ones((5, 2))),
        ValueError,
        "`X` must have 4 rows",
    ),
    (
        "forward-W-chain",
        lambda: backprop.forward([(W, b), (np.ones((2, 2)), np.zeros((2, 1)))], X),
        ValueError,
        "`W_2` has shape (2, 2)",
    ),
    (
        "bias-shape-n",
        lambda: backprop.forward([(W, np.zeros(3))], X),
        ValueError,
        "`b_1` must have shape (3, 1)",
    ),
    (
        "params-not-list",
        lambda: backprop.forward(W, X),
        TypeError,
        "`params` must be a non-empty list",
    ),
    (
        "params-empty",
        lambda: backprop.forward([], X),
        TypeError,
        "`params` must be a non-empty list",
    ),
    ("params-not-pairs", lambda: backprop.forward([W], X), TypeError, "`params[0]` must be a pair"),
    (
        "non-finite-W",
        lambda: backprop.forward([(np.full((3, 4), np.nan), b)], X),
        ValueError,
        "`W_1` must be finite",
    ),
    (
        "non-finite-X",
        lambda: backprop.forward([(W, b)], np.full((4, 5), np.inf)),
        ValueError,
        "`X` must be finite",
    ),
    (
        "y-yhat-shapes",
        lambda: backprop.loss(P, np.eye(3)),
        ValueError,
        "`y_hat` and `y` must have the same shape",
    ),
    (
        "yhat-not-probabilities",
        lambda: backprop.loss(P * 4, Y),
        ValueError,
        "`y_hat` must hold probabilities",
    ),
    (
        "dL_daL-shapes",
        lambda: backprop.dL_daL(P, Y[:, :2]),
        ValueError,
        "`y_hat` and `y` must have the same shape",
    ),
    (
        "softmax-1d",
        lambda: backprop.softmax(np.ones(3)),
        ValueError,
        "`a` must have 2 dimension(s)",
    ),
    (
        "dL_dz-1d",
        lambda: backprop.dL_dz(np.ones(3), np.ones(3)),
        ValueError,
        "`dL_da` must have 2 dimension(s)",
    ),
    (
        "dL_dz-shapes",
        lambda: backprop.dL_dz(np.ones((3, 2)), np.ones((2, 3))),
        ValueError,
        "`dL_da` and `z` must have the same shape",
    ),
    (
        "dL_da-rows",
        lambda: backprop.dL_da(np.ones((3, 4)), np.ones((2, 5))),
        ValueError,
        "`W_next` (3, 4) and `dL_dz_next` (2, 5)",
    ),
    (
        "jacobian-2d",
        lambda: backprop.softmax_jacobian(P),
        ValueError,
        "`y_hat` must have 1 dimension(s)",
    ),
    (
        "string-array",
        lambda: backprop.relu(np.array(["a", "b"])),
        TypeError,
        "`z` must be a numeric array",
    ),
    (
        "object-array",
        lambda: backprop.relu_mask(np.array([object()])),
        TypeError,
        "`z` must be a numeric array",
    ),
    (
        "unknown-loss",
        lambda: backprop.dL_dyhat(P, Y, kind="mse"),
        ValueError,
        "`kind` must be one of",
    ),
    (
        "labels-shape",
        lambda: backprop.backward([(W, b)], X, np.eye(3)),
        ValueError,
        "`Y` must have shape (n_L, m) = (3, 5)",
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_a_clear_error(
    call: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        call()


CONTRACT_SIGNATURES = {
    "relu": ["z"],
    "relu_mask": ["z"],
    "softmax": ["a"],
    "decide": ["a"],
    "loss": ["y_hat", "y"],
    "softmax_jacobian": ["y_hat"],
    "dL_dyhat": ["y_hat", "y"],
    "dL_daL": ["y_hat", "y"],
    "dL_dz": ["dL_da", "z"],
    "dL_da": ["W_next", "dL_dz_next"],
    "dL_dW": ["dL_dz", "a_prev"],
    "dL_db": ["dL_dz"],
    "forward": ["params", "X"],
    "backward": ["params", "X", "Y"],
}


def test_backprop_implements_the_submission_contract() -> None:
    assert tuple(CONTRACT_SIGNATURES) == backprop.CONTRACT
    for name, positional in CONTRACT_SIGNATURES.items():
        parameters = inspect.signature(getattr(backprop, name)).parameters.values()
        required = [p.name for p in parameters if p.default is inspect.Parameter.empty]
        assert required == positional, name


def test_formulas_do_not_modify_their_arguments() -> None:
    dA, z = np.ones((3, 5)), np.linspace(-1, 1, 15).reshape(3, 5)
    before = (dA.copy(), z.copy())
    backprop.dL_dz(dA, z)
    backprop.dL_dW(dA, z)
    np.testing.assert_array_equal(dA, before[0])
    np.testing.assert_array_equal(z, before[1])
