"""Property tests: under any course, the generic reference is the derivative it claims.

For random `Course` values (every key drawn) and test points of depths 1 to 3, each
analytic result of `CourseReference` is compared with the engine's numerical
derivative of the function it differentiates, with the engine's error model as the
tolerance (nothing is widened here). The test points keep pre-activations away from
ReLU kinks; the engine still watches for crossings, and an entry it could not check is
reported as skipped, and counted neither as a pass nor as a fail (last test).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from backprop import _course_math as cm
from backprop.catalog import Point
from backprop.course import CHOICES, Course
from backprop.course_reference import CourseReference
from checks import check_gradient, numerical_jacobian
from checks.strategies import test_points
from tests.course._courses import courses, in_course

points = test_points(max_layers=3, kind="notes")  # depth is no convention: 4 is the notes suite's


def _check_backward(course: Course, point: Point) -> None:
    ref = CourseReference(course)
    params, X, Y = in_course(course, point)
    note(f"{course}, widths {[W.shape for W, _ in params]}")
    grads = ref.blocks(ref.backward(params, X, Y))
    report = check_gradient(
        lambda blocks: ref.network_loss(list(_pairs(blocks)), X, Y),
        grads,
        ref.blocks(params),
        kinks=ref.kinks(X),
    )
    assert report.ok, str(report)
    checked = sum(row.checked for row in report.blocks)
    skipped = sum(row.skipped for row in report.blocks)
    assert checked + skipped == sum(np.size(g) for g in grads.values())
    assert checked > 0


def _pairing(cotangent: np.ndarray, value: np.ndarray) -> float:
    """`⟨cotangent, value⟩` summed exactly (`math.fsum`): a central difference of it then
    differs only in the perturbed terms, whose rounding the engine's error model covers
    however much the other terms cancel (as `backprop.catalog` does for its truths)."""
    return math.fsum(np.multiply(cotangent, value).ravel().tolist())


def _pairs(blocks: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(blocks[f"W_{l}"], blocks[f"b_{l}"]) for l in range(1, len(blocks) // 2 + 1)]


@given(courses(), points)
def test_backward_is_the_gradient_of_the_loss(course: Course, point: Point) -> None:
    _check_backward(course, point)


# Every value of every key, each once on its own (the base is the notes' course, moved
# to an output and loss the value admits), so that no convention depends on the draw.
_EACH = [
    (key, value)
    for key, allowed in CHOICES.items()
    for value in allowed
    if key not in ("output", "loss")
] + [
    ("output", "softmax"),
    ("output", "sigmoid"),
    ("loss", "categorical"),
    ("loss", "mse"),
    ("loss", "binary"),
    ("l2", 0.5),
    ("l2_biases", True),
]


def _single(key: str, value: object) -> Course:
    extra: dict[str, object] = {key: value}
    if (key, value) in (("output", "sigmoid"), ("loss", "binary")):
        extra = {"output": "sigmoid", "loss": "binary"}
    if key == "l2_biases":
        extra["l2"] = 0.5
    return replace(Course(), **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(("key", "value"), _EACH, ids=[f"{k}={v}" for k, v in _EACH])
@settings(max_examples=4)  # 17 conventions; the random courses above cover the mixtures
@given(point=test_points(max_layers=3, kind="notes", max_width=5, max_m=6))
def test_each_convention(key: str, value: object, point: Point) -> None:
    _check_backward(_single(key, value), point)


@given(courses(), points, st.data())
def test_each_formula_is_a_derivative(course: Course, point: Point, data: st.DataObject) -> None:
    """Every formula of a course against its numerical truth, in the course's layout."""
    ref = CourseReference(course)
    params, X, Y = in_course(course, point)
    p = ref.gradients(params, X, Y)
    z = ref.from_columns(p.z[0])
    y_hat = ref.from_columns(p.y_hat)
    a_L = ref.from_columns(p.a_L)
    y = ref.labels_from_one_hot(point.Y)
    relu_kinks = (lambda z: z > 0) if course.hidden in ("relu", "leaky_relu") else None
    for f, grad, x, kinks in [
        (lambda z: ref.relu(z).sum(), ref.relu_mask(z), z, relu_kinks),
        (lambda yh: ref.loss(yh, y), ref.dL_dyhat(y_hat, y), y_hat, None),
        # from the logits, as the catalog's truth: through `ŷ`, `log ŷ` near 1 loses
        # the loss's relative accuracy, which the error model rightly does not allow for
        (
            lambda a: cm.loss_from_logits(course, ref.to_columns("a", a), point.Y),
            ref.dL_daL(y_hat, y),
            a_L,
            None,
        ),
    ]:
        report = check_gradient(f, grad, x, kinks=kinks)
        assert report.ok, str(report)
    # the linear steps, each the gradient of a pairing `⟨cotangent, step(x)⟩`, in the
    # course's own layout and bias shape; the pairing is summed exactly (`_pairing`), and
    # taken at 0 (a linear map's gradient is the same everywhere), as `backprop.catalog`
    # does: there a perturbation leaves one term of each product, and the matrix
    # product's own rounding (ε|W||a|, far above ε|f| where the pairing cancels) is gone
    layer = data.draw(st.integers(1, len(params)), label="layer")
    dz = ref.from_columns(p.dz[layer - 1])
    a_prev = ref.from_columns(p.a[layer - 1])
    W, b = params[layer - 1]
    C = ref.to_columns
    for f, grad, x in [
        (
            lambda a: _pairing(p.dz[layer - 1], C("W", W) @ C("a", a)),
            ref.dL_da(W, dz),
            np.zeros_like(a_prev),
        ),
        (
            lambda W: _pairing(p.dz[layer - 1], C("W", W) @ p.a[layer - 1]),
            ref.dL_dW(dz, a_prev),
            np.zeros_like(W),
        ),
        (
            lambda b: _pairing(
                p.dz[layer - 1], np.broadcast_to(np.reshape(b, (-1, 1)), p.dz[layer - 1].shape)
            ),
            ref.dL_db(dz),
            np.zeros_like(b),
        ),
    ]:
        report = check_gradient(f, grad, x)
        assert report.ok, str(report)
    dL_da = ref.from_columns(p.da[0])
    report = check_gradient(
        lambda z: _pairing(dL_da, ref.relu(z)), ref.dL_dz(dL_da, z), z, kinks=relu_kinks
    )
    assert report.ok, str(report)
    k = data.draw(st.integers(0, p.y_hat.shape[1] - 1), label="example")
    column = p.a_L[:, k]
    J = numerical_jacobian(
        lambda a: CourseReference(replace(course, layout="columns")).softmax(a[:, None])[:, 0],
        column,
    )
    np.testing.assert_allclose(ref.softmax_jacobian(p.y_hat[:, k]), J, atol=1e-8)


def test_a_kink_is_checked_on_its_own_piece_never_passed_silently() -> None:
    """A pre-activation exactly at a ReLU's kink: the entries whose central difference
    crosses it are checked one-sided on the point's own piece, and said so (or, where
    no difference reaches them, reported unchecked): never passed as if smooth."""
    course = Course(layout="rows", output="softmax", loss="categorical", bias="(1, n)")
    ref = CourseReference(course)
    X = np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.25]])
    W1 = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.5]])  # rows: (n_0, n_1)
    b1 = np.array([[-1.0, 0.0, 0.0]])  # unit 1 of example 1: 1 - 1 = 0, on the kink
    W2 = np.array([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2]])
    b2 = np.zeros((1, 2))
    params = [(W1, b1), (W2, b2)]
    Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    report = check_gradient(
        lambda blocks: ref.network_loss(_pairs(blocks), X, Y),
        ref.blocks(ref.backward(params, X, Y)),
        ref.blocks(params),
        kinks=ref.kinks(X),
    )
    if report.status == "unchecked":
        assert report.skipped and sum(row.skipped for row in report.blocks) > 0, str(report)
    else:
        assert report.status == "passed" and report.one_sided, str(report)
        assert "checked on x's own piece" in str(report)
