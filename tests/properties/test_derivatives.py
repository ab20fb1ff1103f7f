"""Property tests: every analytic derivative of the reference matches the engine's
numerical one, on Hypothesis test points of depths 1 to 4, under both losses.

The test points (`checks.strategies.test_points`) keep every pre-activation away from 0
by more than a central-difference step can cross, keep the softmax unsaturated, and mix
active and inactive units: the region where a wrong formula shows. The engine still
watches for kink crossings; one it reports is a skipped entry, never a pass or a fail.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st

import backprop
from backprop.catalog import FORMULAS, Point
from checks import check_gradient
from checks.errata import judge
from checks.strategies import test_points

KINDS = ("notes", "categorical")
BACKWARD = sorted(fid for fid, entry in FORMULAS.items() if entry.truth is not None)
points = partial(test_points, max_layers=4)


def describe(point: Point) -> str:
    widths = [point.params[0][0].shape[1]] + [W.shape[0] for W, _ in point.params]
    return f"widths {widths}, m = {point.X.shape[1]}, loss {point.kind!r}"


def reference(fid: str, kind: str) -> Any:
    entry = FORMULAS[fid]
    return partial(entry.correct, kind=kind) if entry.loss_dependent else entry.correct


@pytest.mark.parametrize("fid", BACKWARD)
@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_every_catalog_formula_matches_its_numerical_truth(
    fid: str, kind: str, data: st.DataObject
) -> None:
    point = data.draw(points(kind=kind))
    note(describe(point))
    judgement = judge(FORMULAS[fid], reference(fid, kind), point)
    assert judgement.ok, judgement.detail


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_the_backward_pass_keeps_the_gradient_of_the_loss_in_y_hat(
    kind: str, data: st.DataObject
) -> None:
    # `gradients` keeps ∂L/∂ŷ (`dyhat`) beside the parameters' gradients: it must be the
    # derivative of the loss of its own kind, which the parameters' gradients do not show
    # (they come from ∂L/∂a_L).
    point = data.draw(points(kind=kind))
    note(describe(point))
    y_hat, Y = point.cache().y_hat, point.Y
    kept = backprop.network.gradients(point.params, point.X, Y, kind=kind).dyhat
    report = check_gradient(lambda yh: backprop.loss(yh, Y, kind=kind), kept, y_hat)
    assert report.ok, str(report)


@given(points(kind="notes"))
def test_dL_dyhat_is_the_gradient_of_the_loss_in_y_hat(point: Point) -> None:
    note(describe(point))
    y_hat, Y = point.cache().y_hat, point.Y
    report = check_gradient(lambda yh: backprop.loss(yh, Y), backprop.dL_dyhat(y_hat, Y), y_hat)
    assert report.ok, str(report)


@given(points(kind="categorical"))
def test_dL_daL_categorical_is_the_gradient_of_the_loss_in_a_L(point: Point) -> None:
    note(describe(point))
    a_L, Y = point.cache().a[-1], point.Y
    report = check_gradient(
        lambda a: backprop.loss_from_logits(a, Y, kind="categorical"),
        backprop.dL_daL(backprop.softmax(a_L), Y, kind="categorical"),
        a_L,
    )
    assert report.ok, str(report)


@given(points())
def test_softmax_jacobian_matches_the_numerical_jacobian_row_by_row(point: Point) -> None:
    note(describe(point))
    for column in point.cache().a[-1].T:
        J = backprop.softmax_jacobian(backprop.softmax(column.reshape(-1, 1))[:, 0])
        for k in range(len(column)):
            report = check_gradient(
                lambda a, k=k: backprop.softmax(a.reshape(-1, 1))[k, 0], J[k], column
            )
            assert report.ok, f"row {k}: {report}"


@given(points())
def test_softmax_jacobian_diagonal_is_the_notes_diagonal(point: Point) -> None:
    # The notes' ŷ_i (1 - ŷ_i) is the right diagonal (E1 is about the off-diagonal terms).
    for y_hat in point.cache().y_hat.T:
        np.testing.assert_allclose(
            np.diag(backprop.softmax_jacobian(y_hat)), y_hat * (1 - y_hat), rtol=1e-14, atol=0
        )


@given(points())
@example(
    Point(
        [(np.array([[1.0, -1.0]]), np.array([[0.0]]))],
        np.array([[1.0, 2.0, 0.5], [1.0, 1.0, 0.5]]),
        np.ones((1, 3)),
    )
)
def test_relu_mask_is_zero_at_zero_and_the_derivative_of_relu_elsewhere(point: Point) -> None:
    for z in point.cache().z:
        mask = backprop.relu_mask(z)
        assert set(np.unique(mask)) <= {0.0, 1.0}
        np.testing.assert_array_equal(mask == 1.0, z > 0)  # 0 at z == 0: the notes' 1_{R+*}
        if np.all(z != 0):
            report = check_gradient(lambda x: backprop.relu(x).sum(), mask, z)
            assert report.ok, str(report)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_backward_is_the_gradient_of_the_loss_in_all_parameters(
    kind: str, data: st.DataObject
) -> None:
    point = data.draw(points(kind=kind))
    note(describe(point))
    truth = FORMULAS["backward"].truth
    assert truth is not None
    t = truth({"params": point.params, "X": point.X, "Y": point.Y}, kind)
    grads = backprop.backward(point.params, point.X, point.Y, kind=kind)
    blocks = {}
    for l, (dW, db) in enumerate(grads, start=1):
        blocks[f"W_{l}"], blocks[f"b_{l}"] = dW, db
    report = check_gradient(t.f, blocks, t.x, kinks=t.kinks)
    assert report.ok, str(report)


@pytest.mark.parametrize("seed", range(20))
def test_vjp_checks_pass_where_the_pairing_cancels(seed: int) -> None:
    # Once failing (pinned): a correct dL_dz failed its check where <dL_da, relu(z)> is a
    # sum of terms that cancel, because the engine bounded rounding by |f| alone.
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(4, 8)) * 1.3
    z[np.abs(z) < 0.05] = 0.5  # away from the kinks
    dL_da = rng.normal(size=z.shape) * 0.1
    active = z > 0
    dL_da[active] -= (dL_da[active] * z[active]).sum() / (z[active] ** 2).sum() * z[active]
    truth = FORMULAS["dL_dz"].truth
    assert truth is not None
    t = truth({"dL_da": dL_da, "z": z}, "notes")
    terms = np.abs(dL_da * backprop.relu(z)).sum()
    assert abs(float(t.f(z))) < 1e-12 * terms  # the pairing cancels entirely
    report = check_gradient(t.f, backprop.dL_dz(dL_da, z), t.x, kinks=t.kinks)
    assert report.ok, str(report)
