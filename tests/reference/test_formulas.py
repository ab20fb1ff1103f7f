"""The reference formulas against independent oracles: hand-computed cases and plain
central differences (tests/oracle.py) in float64 on fixed small networks."""

from __future__ import annotations

import numpy as np
import pytest

import backprop
from backprop import as_written
from backprop.catalog import FORMULAS, Point
from tests import oracle

# Central differences at h = 1e-6 on these O(1) functions: error ~ h²|f'''| + eps|f|/h,
# about 1e-10 absolute; the comparisons below allow 1e-8 relative to the gradient's norm.
RTOL = 1e-8

DEPTHS = {1: [4, 3], 2: [4, 6, 3], 3: [5, 7, 6, 4]}


def network_point(depth: int, m: int = 5, seed: int = 0, kind: str = "notes") -> Point:
    rng = np.random.default_rng(seed)
    params, X, Y = oracle.network(rng, DEPTHS[depth], m)
    point = Point(params, X, Y, kind)
    # The oracle's step must not cross a ReLU kink: keep every pre-activation away from 0.
    assert min(np.abs(z).min() for z in point.cache().z) > 1e-4
    return point


def assert_close_norm(actual: np.ndarray, expected: np.ndarray, rtol: float = RTOL) -> None:
    assert actual.shape == expected.shape
    scale = max(np.linalg.norm(expected), 1e-300)
    assert np.linalg.norm(actual - expected) <= rtol * scale, (actual, expected)


# --- forward, by hand ---------------------------------------------------------------


def test_relu_and_mask_by_hand() -> None:
    z = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.0]])
    np.testing.assert_array_equal(backprop.relu(z), [[0, 0, 2], [3, 0, 0]])
    np.testing.assert_array_equal(backprop.relu_mask(z), [[0, 0, 1], [1, 0, 0]])


def test_softmax_by_hand_and_without_overflow() -> None:
    a = np.array([[0.0, 1000.0], [np.log(3.0), 1000.0 + np.log(3.0)]])
    expected = np.array([[0.25, 0.25], [0.75, 0.75]])
    # 1000 + log 3 is stored within ulp(1000) ≈ 1.1e-13: that much relative error is the input's.
    np.testing.assert_allclose(backprop.softmax(a), expected, rtol=2e-13)
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(as_written.softmax(a)[:, 1]).all()  # the notes' form overflows


def test_decide_marks_every_maximum() -> None:
    a = np.array([[1.0, 2.0], [3.0, 2.0], [0.0, -1.0]])
    np.testing.assert_array_equal(backprop.decide(a), [[0, 1], [1, 1], [0, 0]])


def test_loss_by_hand() -> None:
    y_hat = np.array([[0.5, 0.2], [0.5, 0.8]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    notes = -(np.log(0.5) + np.log(0.5) + np.log(0.8) + np.log(0.8)) / 2
    categorical = -(np.log(0.5) + np.log(0.8)) / 2
    assert backprop.loss(y_hat, y) == pytest.approx(notes, rel=1e-15)
    assert backprop.loss(y_hat, y, kind="categorical") == pytest.approx(categorical, rel=1e-15)
    assert as_written.loss(y_hat, y) == pytest.approx(notes, rel=1e-15)


def test_loss_from_logits_stays_accurate_where_probabilities_saturate() -> None:
    # ŷ = softmax([0, -800]) underflows to [1, 0]: the probability form is infinite,
    # the logit form keeps the exact value -log(1 - ŷ_1) - log(ŷ_1) ≈ 800 (per 1 example).
    a = np.array([[0.0], [-800.0]])
    y = np.array([[0.0], [1.0]])
    assert backprop.loss_from_logits(a, y) == pytest.approx(800.0 + 800.0, rel=1e-12)
    assert backprop.loss_from_logits(a, y, kind="categorical") == pytest.approx(800.0, rel=1e-12)
    assert np.isinf(backprop.loss(backprop.softmax(a), y))


@pytest.mark.parametrize("gap", [40.0, 200.0])
def test_loss_from_logits_keeps_a_confident_right_answers_loss(gap: float) -> None:
    # logits [gap, 0, 0], label 0: with r = 2e^-gap, -log ŷ_0 = log1p(r) ≈ r and each
    # wrong class adds -log(1 - ŷ_j) ≈ e^-gap, so the notes' loss is 4e^-gap and the
    # categorical one 2e^-gap (to a relative e^-gap): log(1 + r) had lost r below ε
    a = np.array([[gap], [0.0], [0.0]])
    y = np.array([[1.0], [0.0], [0.0]])
    tiny = np.exp(-gap)
    # (approx's default absolute tolerance, 1e-12, would pass any of these values)
    assert backprop.loss_from_logits(a, y) == pytest.approx(4 * tiny, rel=1e-14, abs=0)
    assert backprop.loss_from_logits(a, y, kind="categorical") == pytest.approx(
        2 * tiny, rel=1e-14, abs=0
    )


def test_loss_from_logits_matches_loss_of_softmax() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 4)) * 3
    a[2, 1] = 9.0  # one column with ŷ > 1/2, the other branch of log(1 - ŷ)
    y = np.eye(5)[:, [0, 1, 2, 3]]
    for kind in ("notes", "categorical"):
        assert backprop.loss_from_logits(a, y, kind=kind) == pytest.approx(
            backprop.loss(backprop.softmax(a), y, kind=kind), rel=1e-13
        )


# --- backward, against central differences -------------------------------------------


@pytest.mark.parametrize("kind", ["notes", "categorical"])
def test_dL_dyhat_is_the_gradient_of_the_loss(kind: str) -> None:
    point = network_point(2, kind=kind)
    y_hat, Y = point.cache().y_hat, point.Y
    expected = oracle.gradient(lambda yh: backprop.loss(yh, Y, kind=kind), y_hat)
    assert_close_norm(backprop.dL_dyhat(y_hat, Y, kind=kind), expected)


@pytest.mark.parametrize("kind", ["notes", "categorical"])
def test_dL_daL_is_the_gradient_of_the_loss_in_the_logits(kind: str) -> None:
    point = network_point(2, kind=kind)
    a_L, Y = point.cache().a[-1], point.Y
    expected = oracle.gradient(lambda a: backprop.loss_from_logits(a, Y, kind=kind), a_L)
    assert_close_norm(backprop.dL_daL(backprop.softmax(a_L), Y, kind=kind), expected)


def test_softmax_jacobian_is_the_jacobian_of_softmax() -> None:
    a = np.array([0.3, -1.2, 2.0, 0.1])
    expected = oracle.jacobian(lambda x: backprop.softmax(x.reshape(-1, 1))[:, 0], a)
    assert_close_norm(backprop.softmax_jacobian(backprop.softmax(a.reshape(-1, 1))[:, 0]), expected)


def test_relu_mask_is_the_derivative_of_relu_away_from_zero() -> None:
    z = np.array([[-1.5, 0.7, 2.0], [0.2, -0.3, -4.0]])
    expected = oracle.gradient(lambda x: backprop.relu(x).sum(), z)
    np.testing.assert_allclose(backprop.relu_mask(z), expected, atol=1e-9)


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("kind", ["notes", "categorical"])
def test_backward_is_the_gradient_of_the_network_loss(depth: int, kind: str) -> None:
    point = network_point(depth, seed=depth, kind=kind)
    grads = backprop.backward(point.params, point.X, point.Y, kind=kind)
    assert len(grads) == depth
    for l, (dW, db) in enumerate(grads):
        W, b = point.params[l]

        def loss_in_W(W_: np.ndarray, l: int = l) -> float:
            params = list(point.params)
            params[l] = (W_, params[l][1])
            return float(backprop.network_loss(params, point.X, point.Y, kind=kind))

        def loss_in_b(b_: np.ndarray, l: int = l) -> float:
            params = list(point.params)
            params[l] = (params[l][0], b_)
            return float(backprop.network_loss(params, point.X, point.Y, kind=kind))

        assert_close_norm(dW, oracle.gradient(loss_in_W, W))
        assert_close_norm(db, oracle.gradient(loss_in_b, b))


@pytest.mark.parametrize("depth", [2, 3])
def test_layer_formulas_are_vector_jacobian_products(depth: int) -> None:
    point = network_point(depth, seed=10 + depth)
    cache, grads = point.cache(), point.gradients()
    for l in range(1, depth + 1):
        z, dA = cache.z[l - 1], grads.da[l - 1]
        dZ = backprop.dL_dz(dA, z)
        assert_close_norm(dZ, oracle.gradient(lambda x: np.vdot(dA, backprop.relu(x)), z))
        a_prev = cache.a[l - 1]
        W = point.params[l - 1][0]
        assert_close_norm(
            backprop.dL_dW(dZ, a_prev), oracle.gradient(lambda w: np.vdot(dZ, w @ a_prev), W)
        )
        assert_close_norm(
            backprop.dL_db(dZ),
            oracle.gradient(
                lambda b: np.vdot(dZ, np.broadcast_to(b, dZ.shape)), np.zeros((len(z), 1))
            ),
        )
        if l > 1:
            assert_close_norm(
                backprop.dL_da(W, dZ), oracle.gradient(lambda a: np.vdot(dZ, W @ a), a_prev)
            )


# --- the notes as written against the correct forms ----------------------------------


def test_as_written_dL_daL_is_wrong_under_the_notes_loss_and_right_under_categorical() -> None:
    point = network_point(2)
    y_hat, Y = point.cache().y_hat, point.Y
    written = as_written.dL_daL(y_hat, Y)
    np.testing.assert_allclose(written, (y_hat - Y) / Y.shape[1], rtol=1e-14, atol=1e-17)
    np.testing.assert_allclose(written, backprop.dL_daL(y_hat, Y, kind="categorical"), atol=1e-15)
    assert np.abs(written - backprop.dL_daL(y_hat, Y, kind="notes")).max() > 1e-3


def test_E1_as_written_jacobian_is_the_diagonal_alone() -> None:
    y_hat = backprop.softmax(np.array([[0.1], [1.0], [-0.5]]))[:, 0]
    written, correct = as_written.softmax_jacobian(y_hat), backprop.softmax_jacobian(y_hat)
    np.testing.assert_allclose(np.diag(written), np.diag(correct), rtol=1e-15)
    assert np.count_nonzero(written - np.diag(np.diag(written))) == 0
    off_diagonal = ~np.eye(3, dtype=bool)
    assert np.abs(correct[off_diagonal]).min() > 0.01  # E1: what the notes drop


def test_E3_as_written_dL_dz_adds_the_mask() -> None:
    dA = np.array([[0.5, -1.0], [2.0, 0.25]])
    z = np.array([[1.0, -1.0], [-2.0, 3.0]])
    np.testing.assert_array_equal(
        as_written.dL_dz(dA, z) - backprop.dL_dz(dA, z), [[1, -1], [2, 1]]
    )


def test_E4_as_written_bias_gradient_has_shape_n_and_the_right_values() -> None:
    dZ = np.arange(6.0).reshape(3, 2)
    written, correct = as_written.dL_db(dZ), backprop.dL_db(dZ)
    assert written.shape == (3,) and correct.shape == (3, 1)
    np.testing.assert_array_equal(written, correct[:, 0])
    b = np.zeros((3, 1))
    assert (b - 0.1 * written).shape == (3, 3)  # the silent broadcast the erratum warns of


def test_E5_as_written_dL_dyhat_is_m_by_n_L_with_the_right_values() -> None:
    point = network_point(1, m=6)
    y_hat, Y = point.cache().y_hat, point.Y
    written = as_written.dL_dyhat(y_hat, Y)
    assert written.shape == (6, 3)
    np.testing.assert_allclose(written.T, backprop.dL_dyhat(y_hat, Y), rtol=1e-14)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_as_written_backward_differs_and_forward_agrees(depth: int) -> None:
    point = network_point(depth, seed=depth)
    np.testing.assert_allclose(
        as_written.forward(point.params, point.X),
        backprop.forward(point.params, point.X),
        rtol=1e-14,
    )
    written = as_written.backward(point.params, point.X, point.Y)
    correct = backprop.backward(point.params, point.X, point.Y)
    pairs = zip(written, point.params, strict=True)
    assert all(db.shape == (W.shape[0],) for (_, db), (W, _) in pairs)
    assert not np.allclose(written[-1][0], correct[-1][0])


@pytest.mark.parametrize("formula", sorted(FORMULAS), ids=str)
def test_catalog_samples_have_the_declared_output_shape(formula: str) -> None:
    entry = FORMULAS[formula]
    for args in entry.sample(network_point(2)):
        result = entry.reference(args)
        if formula == "backward":
            assert [(dW.shape, db.shape) for dW, db in result] == [
                (np.shape(W), np.shape(b)) for W, b in args["params"]
            ]
        else:
            assert np.shape(result) == entry.out_shape(args)


def test_as_written_backward_is_the_chain_of_the_as_written_formulas() -> None:
    point = network_point(3, seed=7)
    chained = FORMULAS["backward"].compose(
        {fid: getattr(as_written, fid) for fid in ("dL_daL", "dL_dz", "dL_da", "dL_dW", "dL_db")}
    )
    for (dW, db), (dW_, db_) in zip(
        chained(point.params, point.X, point.Y),
        as_written.backward(point.params, point.X, point.Y),
        strict=True,
    ):
        np.testing.assert_allclose(dW, dW_, rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(db, db_, rtol=1e-13, atol=1e-16)
