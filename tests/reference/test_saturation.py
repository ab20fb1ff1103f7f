"""The derivatives of the loss where the softmax saturates, against an exact oracle.

The oracle evaluates the analytic `∂L/∂a_L` and `∂L/∂ŷ` in `mpmath` with enough digits
that `1 - ŷ` is exact however close `ŷ` is to 1 (a logit gap `g` puts `1 - ŷ` near
`e^-g`, so `g / ln 10` extra digits suffice). float64 results are then held to a few
`ε` relative to each entry: the from-logits forms are products of accurately known
factors (see `dL_daL_from_logits`'s Notes), with no cancellation to forgive. One more
term is the input's own: the shift `a - max(a)` rounds to `ε·gap`, an absolute error
that `exp` turns into the same relative error (a gap of 700 makes it 1.6e-13).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import backprop
from backprop import formulas as f
from backprop.network import gradients

# A handful of roundings per entry: log-softmax, exp, one product, a sum of n_L terms.
EPS = float(np.finfo(np.float64).eps)
RTOL = 64 * EPS


def rtol(gap: float) -> float:
    return RTOL + 4 * EPS * gap


GAPS = [0.0, 20.0, 30.0, 37.0, 45.0, 200.0, 700.0]


def exact(a: np.ndarray, y: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """`(∂L/∂a_L, ∂L/∂ŷ)` of the loss at logits `a`, correctly rounded to float64."""
    n, m = a.shape
    gap = float(np.ptp(a))
    daL, dyhat = np.zeros_like(a), np.zeros_like(a)
    with mp.workdps(40 + int(gap / 2.3)):
        for c in range(m):
            A = [mp.mpf(float(x)) for x in a[:, c]]
            top = max(A)
            e = [mp.exp(x - top) for x in A]
            s = [x / sum(e) for x in e]
            Y = [mp.mpf(float(x)) for x in y[:, c]]
            notes = kind == "notes"
            g = [-Y[k] / s[k] + ((1 - Y[k]) / (1 - s[k]) if notes else 0) for k in range(n)]
            t = [s[k] * g[k] for k in range(n)]
            for i in range(n):
                daL[i, c] = float((t[i] - s[i] * sum(t)) / m)
                dyhat[i, c] = float(g[i] / m)
    return daL, dyhat


def _logits(gap: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(4, 4))
    a[0] += gap  # class 0 saturates; the labels put the top class both right and wrong
    return a, np.eye(4)[:, [0, 1, 2, 3]]


@pytest.mark.parametrize("kind", ["notes", "categorical"])
@pytest.mark.parametrize("gap", GAPS)
def test_derivatives_from_logits_are_exact_where_softmax_saturates(gap: float, kind: str) -> None:
    a, y = _logits(gap, seed=int(gap))
    want_daL, want_dyhat = exact(a, y, kind)
    tol = rtol(gap)
    np.testing.assert_allclose(f.dL_daL_from_logits(a, y, kind=kind), want_daL, rtol=tol)
    np.testing.assert_allclose(f.dL_dyhat_from_logits(a, y, kind=kind), want_dyhat, rtol=tol)


def test_from_probabilities_the_notes_formula_cancels_which_is_why_backward_avoids_it() -> None:
    a, y = _logits(37.0, seed=1)
    want, _ = exact(a, y, "notes")
    with np.errstate(all="ignore"):
        from_probabilities = f.dL_daL(f.softmax(a), y)
    assert not np.allclose(from_probabilities, want, rtol=1e-6, equal_nan=False)
    np.testing.assert_allclose(f.dL_daL_from_logits(a, y), want, rtol=rtol(37.0))


def test_from_logits_agrees_with_the_notes_formula_away_from_saturation() -> None:
    a, y = _logits(0.0, seed=3)
    for kind in ("notes", "categorical"):
        np.testing.assert_allclose(
            f.dL_daL_from_logits(a, y, kind=kind), f.dL_daL(f.softmax(a), y, kind=kind), rtol=1e-13
        )
        np.testing.assert_allclose(
            f.dL_dyhat_from_logits(a, y, kind=kind),
            f.dL_dyhat(f.softmax(a), y, kind=kind),
            rtol=1e-13,
        )


@pytest.mark.parametrize("kind", ["notes", "categorical"])
def test_backward_is_finite_and_exact_where_yhat_rounds_to_one(kind: str) -> None:
    # One layer, so that a_L = relu(W X + b) is set by hand: a gap of 50 in column 0.
    W = np.eye(3)
    b = np.zeros((3, 1))
    X = np.array([[50.0, 1.0], [0.5, 2.0], [0.1, 0.3]])
    Y = np.eye(3)[:, [1, 1]]
    g = gradients([(W, b)], X, Y, kind=kind)
    assert backprop.forward([(W, b)], X)[0, 0] == 1.0  # ŷ rounds to 1
    want_daL, want_dyhat = exact(X, Y, kind)  # a_L = X: every entry of X is > 0
    np.testing.assert_allclose(g.daL, want_daL, rtol=rtol(50.0))
    np.testing.assert_allclose(g.dyhat, want_dyhat, rtol=rtol(50.0))
    np.testing.assert_allclose(g.dW[0], want_daL @ X.T, rtol=1e-14)
    assert all(np.isfinite(d).all() for pair in g.pairs() for d in pair)


def test_one_output_class_has_zero_gradient() -> None:
    a, y = np.array([[3.0, -2.0]]), np.ones((1, 2))
    for kind in ("notes", "categorical"):
        np.testing.assert_array_equal(f.dL_daL_from_logits(a, y, kind=kind), 0.0)


@pytest.mark.parametrize("kind", ["notes", "categorical"])
def test_backward_keeps_the_loss_kind_in_every_step(kind: str) -> None:
    rng = np.random.default_rng(7)
    params = [(rng.normal(size=(3, 2)), rng.normal(size=(3, 1)))]
    X, Y = rng.normal(size=(2, 4)), np.eye(3)[:, [0, 1, 2, 0]]
    g = gradients(params, X, Y, kind=kind)
    y_hat = backprop.forward(params, X)
    np.testing.assert_allclose(g.dyhat, f.dL_dyhat(y_hat, Y, kind=kind), rtol=1e-13)
    np.testing.assert_allclose(g.daL, f.dL_daL(y_hat, Y, kind=kind), rtol=1e-13, atol=1e-17)
