"""Properties at the edges of the input space (`checks.strategies.edge_points`).

Pre-activations exactly at and next to 0, saturated and overflowing logits, tied
logits, one output class, float32 data: the regions where a mask `z >= 0`, a softmax
without its max shift, `decide` through `argmax`, a float32 cast or a loss of
probabilities instead of logits shows, and where `test_points` does not go. The
engine checks an entry whose central difference crosses a kink one-sided, on the
point's own piece; an entry no difference reaches is "unchecked", never a failure, so
the verdict asserted is "no entry disagrees" and "some entries were checked".
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, note

import backprop
from backprop.catalog import Point
from backprop.network import forward_cache, gradients, network_loss
from checks import network_check
from checks.strategies import edge_points

EPS = np.finfo(np.float64).eps


def describe(point: Point) -> str:
    widths = [point.params[0][0].shape[1]] + [W.shape[0] for W, _ in point.params]
    z0 = [int(np.count_nonzero(z == 0)) for z in forward_cache(point.params, point.X).z]
    return f"widths {widths}, m = {point.X.shape[1]}, {point.kind!r}, zeros in z {z0}"


@given(edge_points())
def test_backward_is_the_float64_gradient_of_the_loss_at_the_edges(point: Point) -> None:
    note(describe(point))
    grads = gradients(point.params, point.X, point.Y, kind=point.kind)
    pairs = grads.pairs()
    assert all(d.dtype == np.float64 and np.all(np.isfinite(d)) for pair in pairs for d in pair)
    report = network_check(point.params, point.X, point.Y, pairs, kind=point.kind)
    assert report.status != "failed", str(report)
    # Where zeros in several layers meet, an axis may leave the point's piece on both
    # sides (an entry "unchecked", honestly); a bias of a unit at 0 never does.
    assert sum(row.checked for row in report.blocks) > 0, str(report)


@given(edge_points())
def test_softmax_and_the_loss_stay_finite_and_exact_at_the_edges(point: Point) -> None:
    note(describe(point))
    cache = forward_cache(point.params, point.X)
    a_L = cache.a[-1]
    assert np.all(np.isfinite(cache.y_hat))
    np.testing.assert_allclose(cache.y_hat.sum(axis=0), 1.0, rtol=0, atol=8 * EPS * len(a_L))
    # exp turns the rounding of its argument a - max(a), up to ε·gap, into as much
    # relative error: the two forms agree to a few ε times the column's spread
    gap = float(np.ptp(a_L, axis=0).max())
    np.testing.assert_allclose(
        cache.y_hat, np.exp(backprop.log_softmax(a_L)), rtol=4 * EPS * (4 + gap), atol=1e-300
    )
    loss = network_loss(point.params, point.X, point.Y, kind=point.kind)
    assert np.isfinite(loss)
    assert loss == backprop.loss_from_logits(a_L, point.Y, kind=point.kind)


@given(edge_points(regions=("ties", "one-class", "kink")))
def test_decide_marks_every_maximum_of_a_column(point: Point) -> None:
    a_L = forward_cache(point.params, point.X).a[-1]
    chosen = backprop.decide(a_L)
    np.testing.assert_array_equal(chosen, a_L == a_L.max(axis=0, keepdims=True))


@given(edge_points(regions=("kink",)))
def test_relu_mask_is_zero_exactly_at_zero(point: Point) -> None:
    for z in forward_cache(point.params, point.X).z:
        np.testing.assert_array_equal(backprop.relu_mask(z), (z > 0) * 1.0)


@given(edge_points(regions=("saturated", "one-class"), kind="notes"))
def test_backward_stays_finite_where_yhat_rounds_to_one(point: Point) -> None:
    # Under the notes' loss a class labelled 0 whose ŷ rounds to 1 has 1 - ŷ = 0: every
    # derivative must come from the logits, or it is NaN while the loss is finite.
    note(describe(point))
    g = gradients(point.params, point.X, point.Y, kind=point.kind)
    # (∂L/∂ŷ itself is e^gap there: at a gap of 800 it overflows, rightly)
    assert np.all(np.isfinite(g.daL))
    assert all(np.all(np.isfinite(d)) for pair in g.pairs() for d in pair)
