"""The diagnoses: every identifier recognised on the mistake it names, none on a right result.

Each case of `MISTAKES` applies a submission-like wrong function to the reference's own
arguments at a test point chosen as docs/contract.md says (float64, m = 7, widths 4, 6, 5, 3:
all distinct, so every candidate factor and every wrong operand's shape is distinct), and
asserts the identifier and a key phrase of its explanation, in float64 and again with the
result rounded to float32 (graded with float32's thresholds).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import given, note

from backprop import as_written as notes
from backprop import formulas as f
from backprop import network as net
from backprop.catalog import FORMULAS, Point
from checks.findings import DIAGNOSES, fit_factor
from checks.findings import relative_tolerance as tolerance
from checks.grader.judge._compare import n_terms
from checks.grader.judge._diagnose import Diagnosis, diagnose
from checks.strategies import test_points
from tests import oracle

WIDTHS, M = [4, 6, 5, 3], 7
N_L = WIDTHS[-1]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "diagnoses.md"


@cache
def point() -> Point:
    """The first seeded network that is a test point as docs/contract.md asks."""
    for seed in range(1000):
        params, X, Y = oracle.network(np.random.default_rng(seed), WIDTHS, M)
        p = Point(params, X, Y)
        z, y_hat = p.cache().z, p.cache().y_hat
        if all(((zl > 0).any(axis=1) & (zl <= 0).any(axis=1)).all() for zl in z[:-1]) and (
            (z[-1] > 0).any()
            and (z[-1] <= 0).any()  # the last layer's mask matters too
            and min(np.abs(zl).min() for zl in z) > 1e-3
            and y_hat.min() > 0.01
            and y_hat.max() < 0.99  # softmax not saturated
        ):
            return p
    raise AssertionError("no test point among 1000 seeds")


def args(fid: str, layer: int = 0) -> dict[str, Any]:
    return dict(FORMULAS[fid].sample(point())[layer])


def run(fid: str, a: dict[str, Any], got: Any, kind: str = "notes") -> list[Diagnosis]:
    return diagnose(fid, a, FORMULAS[fid].reference(a, kind), got, kind=kind)


def pairs(blocks: list[Any]) -> list[tuple[Any, Any]]:
    return [(blocks[i], blocks[i + 1]) for i in range(0, len(blocks), 2)]


def backward_with(**using: Callable[..., Any]) -> Callable[..., Any]:
    """A student's backward: the reference pass with some steps replaced."""
    compose = FORMULAS["backward"].compose
    assert compose is not None
    return lambda params, X, Y, kind="notes": compose(using)(params, X, Y, kind=kind)


def scaled_blocks(factors: Callable[[int], float]) -> Callable[..., Any]:
    return lambda **a: [
        (c * dW, c * db)
        for (dW, db), c in zip(net.backward(**a), map(factors, range(1, 4)), strict=True)
    ]


def no_last_relu_backward(params: Any, X: Any, Y: Any, kind: str = "notes") -> Any:
    """backward of a network whose last layer has no ReLU: ŷ = softmax(z_L)."""
    zs, a = [], X
    for W, b in params:
        zs.append(W @ a + b)
        a = f.relu(zs[-1])
    dz = f.dL_daL(f.softmax(zs[-1]), Y, kind=kind)
    grads = []
    for layer in range(len(params), 0, -1):
        a_prev = X if layer == 1 else f.relu(zs[layer - 2])
        grads.append((dz @ a_prev.T, dz.sum(axis=1, keepdims=True)))
        if layer > 1:
            dz = (params[layer - 1][0].T @ dz) * (zs[layer - 2] > 0)
    return grads[::-1]


Z_ZEROS = np.array([[0.0, 1.5, -2.0, 0.0], [-0.5, 0.0, 3.0, 0.25], [2.0, -1.0, 0.0, -3.0]])
DA = np.random.default_rng(1).normal(size=Z_ZEROS.shape)
LARGE = np.array([[1000.0, -1000.0, 0.0], [999.0, 0.0, 700.0], [-5.0, -999.0, 710.0]])
TIES = np.array([[1.0, 2.0, 3.0, 0.5], [1.0, 2.0, -1.0, 0.5], [0.0, 2.0, 3.0, 0.5]])


def naive_loss(y_hat: Any, y: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):  # the student's: 0 * log 0 is NaN
        return -np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)) / y.shape[1]


def underflowed() -> dict[str, Any]:
    a = dict(args("loss"))
    y_hat = a["y_hat"].copy()
    wrong = np.argmin(a["y"][:, 0])  # a wrong class of example 0 gets probability 0
    y_hat[:, 0] += y_hat[wrong, 0] / (N_L - 1)
    y_hat[wrong, 0] = 0.0
    return {"y_hat": y_hat, "y": a["y"]}


def square_dW() -> dict[str, Any]:
    rng = np.random.default_rng(5)
    return {"dL_dz": rng.normal(size=(5, M)), "a_prev": rng.normal(size=(5, M))}


def a_l(layer: int) -> Any:
    return point().cache().a[layer + 1]


def at(fid: str, layer: int = 0) -> Callable[[], dict[str, Any]]:
    return lambda: args(fid, layer)


def fixed(**a: Any) -> Callable[[], dict[str, Any]]:
    return lambda: a


def sigmoid_slope(z: Any) -> Any:
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)


def dW_with_X(params: Any, X: Any, Y: Any) -> list[tuple[Any, Any]]:
    return [(dz @ X.T, f.dL_db(dz)) for dz in net.gradients(params, X, Y).dz]


def last_mask_missing(dL_da: Any, z: Any) -> Any:
    return dL_da if z.shape[0] == N_L else f.dL_dz(dL_da, z)


class Mistake(NamedTuple):
    id: str
    fid: str
    args: Callable[[], dict[str, Any]]
    wrong: Callable[..., Any]  # the submission's function, called on `args()`
    phrase: str  # a key phrase of the explanation
    kind: str = "notes"


CAT = "categorical"
# fmt: off
MISTAKES = [
    Mistake("factor-m", "dL_dW", at("dL_dW", 1), lambda **a: f.dL_dW(**a) / M,
            "1/m (m = 7) × the correct one: the 1/m of the mean is applied twice"),
    Mistake("factor-m", "loss", at("loss"), lambda **a: M * f.loss(**a),
            "the sum over the m examples"),
    Mistake("factor-m", "dL_daL", at("dL_daL"), lambda **a: M * f.dL_daL(**a),
            "the 1/m of the loss (the mean over the m examples) is missing"),
    Mistake("factor-m", "backward", at("backward"), scaled_blocks(lambda layer: M),
            "dW_1, db_1, dW_2, db_2, dW_3, db_3: each is m (m = 7) × the correct one"),
    Mistake("factor-m", "backward", at("backward"), scaled_blocks(lambda l_: M ** (l_ - 3)),
            "your dW_2, db_2: each is 1/m (m = 7) × the correct one"),
    Mistake("scaled", "backward", at("backward"), scaled_blocks(lambda l_: M ** (l_ - 3)),
            "your dW_1, db_1: each is 1/m² (m = 7) × the correct one"),
    Mistake("scaled", "dL_daL", at("dL_daL"), lambda **a: f.dL_daL(**a, kind=CAT) / N_L,
            "1/n_L (n_L = 3) × the correct one: a mean over the classes too", CAT),
    Mistake("scaled", "dL_dz", at("dL_dz", 1), lambda **a: 2.5 * f.dL_dz(**a),
            "is 2.5 × the correct one"),
    Mistake("sign", "dL_daL", at("dL_daL"), lambda **a: -f.dL_daL(**a),
            "the negative of the correct one"),
    Mistake("sign", "dL_dW", at("dL_dW", 2), lambda **a: -M * f.dL_dW(**a),
            "-m (m = 7) × the correct one: its sign is flipped"),
    Mistake("transposed", "dL_dW", at("dL_dW", 1), lambda dL_dz, a_prev: a_prev @ dL_dz.T,
            "the transpose of the correct one"),
    Mistake("transposed", "dL_dW", square_dW, lambda **a: f.dL_dW(**a).T,
            "the transpose of the correct one"),
    Mistake("transposed", "dL_da", at("dL_da"), lambda W_next, dL_dz_next: dL_dz_next.T @ W_next,
            "the transpose of the correct one"),
    Mistake("transposed", "dL_dyhat", at("dL_dyhat"), notes.dL_dyhat,
            "the notes' formula as written, erratum E5"),
    Mistake("wrong-shape", "dL_da", at("dL_da"), lambda **a: np.zeros((2, 2)),
            "has shape (2, 2) where the contract's shape is (6, 7)"),
    Mistake("wrong-shape", "loss", at("loss"), lambda **a: np.array([f.loss(**a)]),
            "has shape (1,) where the contract's is a scalar"),
    Mistake("wrong-shape", "dL_dz", at("dL_dz"), lambda **a: [[1.0, 2.0], [3.0]],
            "is not an array (a ragged or non-numeric sequence)"),
    Mistake("wrong-shape", "backward", at("backward"), lambda **a: net.backward(**a)[:2],
            "has 2 items where the contract has 3 (dW_l, db_l) pairs"),
    Mistake("bias-shape", "dL_db", at("dL_db", 1), notes.dL_db,
            "the notes' formula as written, erratum E4"),
    Mistake("bias-shape", "dL_db", at("dL_db", 1), lambda **a: f.dL_db(**a).T,
            "has shape (1, n_l), a row"),
    Mistake("bias-shape", "backward", at("backward"),
            lambda **a: [(dW, db.ravel()) for dW, db in net.backward(**a)],
            "db_1, db_2, db_3: each is the notes' formula as written, erratum E4"),
    Mistake("wrong-axis", "softmax", at("softmax"),
            lambda a: np.exp(a) / np.exp(a).sum(axis=1, keepdims=True),
            "a softmax over each row (axis=1)"),
    Mistake("wrong-axis", "dL_db", at("dL_db"), lambda dL_dz: dL_dz.sum(axis=0, keepdims=True),
            "summed over the rows (axis=0)"),
    Mistake("wrong-axis", "dL_db", at("dL_db"), lambda dL_dz: np.mean(dL_dz),
            "averaged over both axes"),
    Mistake("wrong-axis", "decide", at("decide"), lambda a: 1.0 * (a == a.max(axis=1)[:, None]),
            "S taken over each row (axis=1)"),
    Mistake("relu-mask-at-zero", "relu_mask", fixed(z=Z_ZEROS), lambda z: 1.0 * (z >= 0),
            "1 at z == 0"),
    Mistake("relu-mask-at-zero", "dL_dz", fixed(dL_da=DA, z=Z_ZEROS),
            lambda dL_da, z: np.where(z >= 0, dL_da, 0.0), "the mask is 1 at z == 0"),
    Mistake("softmax-jacobian-diagonal", "softmax_jacobian", at("softmax_jacobian", 2),
            notes.softmax_jacobian, "the notes' formula as written, erratum E1"),
    Mistake("softmax-jacobian-diagonal", "dL_daL", at("dL_daL"), notes.dL_daL,
            "the notes' formula as written, erratum E2: (ŷ - y)/m"),
    Mistake("softmax-jacobian-diagonal", "dL_daL", at("dL_daL"),
            lambda y_hat, y: -y * (1 - y_hat) / M,
            "from the softmax Jacobian's diagonal alone", CAT),
    Mistake("softmax-jacobian-diagonal", "backward", at("backward"),
            backward_with(dL_daL=notes.dL_daL), "follows the notes as written, erratum E2"),
    Mistake("not-finite", "softmax", fixed(a=LARGE), notes.softmax, "exp overflowed"),
    Mistake("not-finite", "loss", underflowed, naive_loss, "log(0)"),
    Mistake("mask-added", "dL_dz", at("dL_dz", 1), notes.dL_dz,
            "the notes' formula as written, erratum E3"),
    Mistake("mask-added", "backward", at("backward"), notes.backward,
            "follows the notes as written, erratum E3"),
    Mistake("missing-relu-mask", "dL_dz", at("dL_dz", 1), lambda dL_da, z: dL_da,
            "the ReLU mask 1_{R+*}(z_l) is missing"),
    Mistake("missing-relu-mask", "relu_mask", at("relu_mask"), lambda z: np.ones_like(z),
            "1 everywhere"),
    Mistake("missing-relu-mask", "backward", at("backward"),
            backward_with(dL_dz=lambda dL_da, z: dL_da), "without the ReLU mask"),
    Mistake("missing-relu-mask", "backward", at("backward"),
            backward_with(dL_dz=last_mask_missing), "without the ReLU mask on the last layer"),
    Mistake("mask-on-wrong-array", "dL_dz", at("dL_dz", 1),
            lambda dL_da, z: dL_da * np.maximum(z, 0), "multiplied by the activation a_l"),
    Mistake("mask-on-wrong-array", "dL_dz", at("dL_dz", 1),
            lambda dL_da, z: np.where(dL_da > 0, dL_da, 0), "from the gradient's sign"),
    Mistake("mask-on-wrong-array", "relu_mask", at("relu_mask", 1), f.relu,
            "the activation itself"),
    Mistake("sigmoid-derivative", "relu_mask", at("relu_mask"), sigmoid_slope,
            "the sigmoid's derivative"),
    Mistake("sigmoid-derivative", "dL_dz", at("dL_dz", 1),
            lambda dL_da, z: dL_da * f.relu(z) * (1 - f.relu(z)), "the sigmoid's derivative"),
    Mistake("a-for-a-prev", "dL_dW", at("dL_dW", 1), lambda dL_dz, a_prev: dL_dz @ a_l(1).T,
            "a_l was used"),
    Mistake("a-for-a-prev", "backward", at("backward"), dW_with_X, "X was used for a_{l-1}"),
    Mistake("logits-for-probabilities", "forward", at("forward"),
            lambda params, X: point().cache().a[-1], "the softmax ŷ = softmax(a_L) is missing"),
    Mistake("logits-for-probabilities", "backward", at("backward"),
            backward_with(dL_daL=lambda y_hat, y: (point().cache().a[-1] - y) / M),
            "the scores a_L where the probabilities ŷ belong"),
    Mistake("no-last-relu", "forward", at("forward"),
            lambda params, X: f.softmax(point().cache().z[-1]), "ReLU to the last layer too"),
    Mistake("other-loss", "loss", at("loss"), lambda **a: f.loss(**a, kind=CAT),
            "is the categorical cross-entropy"),
    Mistake("other-loss", "dL_daL", at("dL_daL"), lambda **a: f.dL_daL(**a, kind="notes"),
            "for the notes' binary cross-entropy", CAT),
    Mistake("other-loss", "dL_dyhat", at("dL_dyhat"), lambda **a: f.dL_dyhat(**a),
            "the course's loss is the categorical cross-entropy", CAT),
    Mistake("one-example", "dL_dW", at("dL_dW", 1),
            lambda dL_dz, a_prev: np.outer(dL_dz[:, -1], a_prev[:, -1]), "example k = 6 alone"),
    Mistake("one-example", "dL_db", at("dL_db"), lambda dL_dz: dL_dz[:, :1],
            "example k = 0 alone"),
    Mistake("ties", "decide", fixed(a=TIES), lambda a: np.eye(3)[:, np.argmax(a, axis=0)],
            "every maximum, ties included"),
    Mistake("reversed-layers", "backward", at("backward"), lambda **a: net.backward(**a)[::-1],
            "reverse the list"),
    Mistake("no-last-relu", "backward", at("backward"), no_last_relu_backward,
            "without a ReLU on the last layer"),
    Mistake("factor-m", "dL_daL", at("dL_daL"), lambda **a: M * notes.dL_daL(**a),
            "m (m = 7) × what that mistake alone gives"),
    Mistake("softmax-jacobian-diagonal", "backward", at("backward"),
            lambda **a: [(M * dW, M * db) for dW, db in backward_with(dL_daL=notes.dL_daL)(**a)],
            "up to a factor m (m = 7), the notes as written, erratum E2"),
    Mistake("other-loss", "dL_daL", at("dL_daL"), lambda **a: M * f.dL_daL(**a, kind="notes"),
            "up to a factor m (m = 7)", CAT),
    Mistake("log-epsilon", "loss", at("loss"),
            lambda y_hat, y: -np.sum(y * np.log(y_hat + 1e-3) + (1 - y) * np.log(1 - y_hat + 1e-3))
            / y.shape[1], "ε = 0.001 inside both logarithms"),
    Mistake("log-epsilon", "dL_dyhat", at("dL_dyhat"),
            lambda y_hat, y: ((1 - y) / (1 - y_hat) - y / (y_hat + 1e-3)) / y.shape[1],
            "ε = 0.001 to the denominator y/(ŷ + ε)"),
]
# fmt: on


def ids(case: Mistake) -> str:
    return f"{case.id}-{case.fid}-{case.phrase[:24]}"


def float32(got: Any) -> Any:
    if isinstance(got, list) and got and isinstance(got[0], tuple):
        return [(np.float32(dW), np.float32(db)) for dW, db in got]
    return np.asarray(got, dtype=np.float32) if isinstance(got, np.ndarray | float) else got


@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("case", MISTAKES, ids=ids)
def test_each_mistake_gets_its_diagnosis(case: Mistake, precision: str) -> None:
    a = case.args()
    got = case.wrong(**a)
    if precision == "float32":  # graded with float32's thresholds
        got = float32(got)
    found = run(case.fid, a, got, case.kind)
    by_id = {d.id: d.explanation for d in found}
    assert case.id in by_id, found
    assert case.phrase in by_id[case.id], by_id[case.id]
    assert all(d.id in DIAGNOSES for d in found)


def test_every_identifier_is_tested_and_documented() -> None:
    tested = {case.id for case in MISTAKES}
    # Mutation is the caller's to observe; a zero pattern is the engine's, which has no
    # formula to name the mask's mistake more precisely (tests/engine/test_fingerprint.py).
    # A cascade is the grader's to decide too: it needs the submission's other functions.
    assert tested == set(DIAGNOSES) - {"mutates-input", "zero-pattern", "cascade"}
    headings = set(re.findall(r"^## `([a-z-]+)`", DOCS.read_text(encoding="utf-8"), re.M))
    assert headings == set(DIAGNOSES)


# --- never on a right result ---------------------------------------------------------

POINTS = [((4, 6, 5, 3), 7, 0), ((3, 8, 2), 5, 1), ((6, 5), 9, 2), ((5, 7, 6, 4), 3, 4)]
SPECIAL = [
    ("relu_mask", {"z": Z_ZEROS}),
    ("dL_dz", {"dL_da": DA, "z": Z_ZEROS}),
    ("relu", {"z": Z_ZEROS}),
    ("softmax", {"a": LARGE}),
    ("decide", {"a": TIES}),
]


def right_results(R: Any, args: dict[str, Any], rng: np.random.Generator) -> list[Any]:
    """The reference, float32-rounded, upcast again, and with float32-sized noise.

    The noise is what the grader calls right in float32: within half its float32
    tolerance, `n_terms·ε₃₂·max|R|` (`_compare.tolerance`). A noise of `50ε₃₂` relative
    with a normal draw (as before) put a scalar loss 76ε₃₂ off, outside that
    tolerance: a wrong result, which a log guard then explained.
    """
    if isinstance(R, list):
        return [R, [(np.float32(dW), np.float32(db)) for dW, db in R]]
    R = np.asarray(R)
    eps32 = float(np.finfo(np.float32).eps)
    half = 0.5 * n_terms(dict(args)) * eps32 * float(np.max(np.abs(R), initial=0.0))
    noisy = R + half * rng.uniform(-1.0, 1.0, R.shape)
    return [R, R.astype(np.float32), R.astype(np.float32).astype(float), noisy.astype(np.float32)]


@pytest.mark.parametrize("kind", ["notes", "categorical"])
@pytest.mark.parametrize(("widths", "m", "seed"), POINTS)
def test_no_diagnosis_on_a_right_result(
    widths: tuple[int, ...], m: int, seed: int, kind: str
) -> None:
    rng = np.random.default_rng(seed)
    params, X, Y = oracle.network(rng, list(widths), m)
    p = Point(params, X, Y, kind)
    for fid, entry in FORMULAS.items():
        for a in entry.sample(p):
            R = entry.reference(a, kind)
            for got in right_results(R, a, rng):
                assert diagnose(fid, a, R, got, kind=kind) == [], (fid, got)


@given(test_points(max_layers=3))
def test_no_diagnosis_on_a_right_result_at_any_test_point(p: Point) -> None:
    note(f"widths {[p.X.shape[0]] + [W.shape[0] for W, _ in p.params]}, m = {p.X.shape[1]}")
    rng = np.random.default_rng(0)
    for fid, entry in FORMULAS.items():
        for a in entry.sample(p):
            R = entry.reference(a, p.kind)
            for got in right_results(R, a, rng):
                assert diagnose(fid, a, R, got, kind=p.kind) == [], (fid, got)


@given(test_points(max_layers=3))
def test_no_diagnosis_on_an_unrelated_result(p: Point) -> None:
    """Noise of the result's own size fits no mistake: a diagnosis is never a guess."""
    rng = np.random.default_rng(1)
    for fid, entry in FORMULAS.items():
        for a in entry.sample(p)[:1]:
            R = entry.reference(a, p.kind)
            if fid == "backward":
                got: Any = [(dW + rng.normal(size=dW.shape), db) for dW, db in R]
                assert diagnose(fid, a, R, got, kind=p.kind) == []
                continue
            R = np.asarray(R)
            got = R + rng.normal(size=R.shape) * max(float(np.abs(R).max()), 1.0)
            assert diagnose(fid, a, R, got, kind=p.kind) == [], fid


@given(test_points(min_layers=2, max_layers=3))
def test_backward_mistakes_are_recognised_at_any_test_point(p: Point) -> None:
    a = {"params": p.params, "X": p.X, "Y": p.Y}
    R = net.backward(**a, kind=p.kind)
    m = p.X.shape[1]

    def found(got: Any) -> set[str]:
        return {d.id for d in diagnose("backward", a, R, got, kind=p.kind)}

    assert "factor-m" in found([(m * dW, m * db) for dW, db in R])
    assert found([(-dW, -db) for dW, db in R]) == {"sign"}
    assert found([(dW, db.ravel()) for dW, db in R]) == {"bias-shape"}
    no_mask = backward_with(dL_dz=lambda dL_da, z: dL_da)(**a, kind=p.kind)
    assert "missing-relu-mask" in found(no_mask)
    if p.kind == "notes":
        assert {"softmax-jacobian-diagonal", "mask-added"} <= found(notes.backward(**a))


@pytest.mark.parametrize(("fid", "a"), SPECIAL, ids=[s[0] for s in SPECIAL])
def test_no_diagnosis_on_a_right_result_at_special_inputs(fid: str, a: dict[str, Any]) -> None:
    R = FORMULAS[fid].reference(a)
    for got in right_results(R, a, np.random.default_rng(0)):
        assert diagnose(fid, a, R, got) == []


# --- never raises ----------------------------------------------------------------------


def odd_results(R: np.ndarray) -> list[Any]:
    return [
        None,
        "text",
        3,
        True,
        {"a": 1},
        [[1.0, 2.0], [3.0]],
        np.array(["x"]),
        np.array([1 + 2j]),
        np.array([object()], dtype=object),
        np.zeros((0,)),
        np.zeros((2, 3, 4)),
        np.full(R.shape, np.nan),
        np.full(R.shape, -np.inf),
        np.full(R.shape, 1e308),
        np.zeros(R.shape),
        R.astype(np.float16),
        np.ones(R.shape, dtype=bool),
        np.asarray(R).ravel(),
        np.asarray(R)[None],
    ]


def test_odd_results_never_raise() -> None:
    p = point()
    for fid, entry in FORMULAS.items():
        for a in entry.sample(p)[:1]:
            R = entry.reference(a)
            cases = (
                odd_results(np.asarray(R))
                if fid != "backward"
                else [
                    None,
                    [],
                    [None] * 3,
                    [(1, 2)] * 3,
                    [(1, 2, 3)] * 3,
                    [("a", [[1], [2, 3]])] * 3,
                    (("x", None),) * 3,
                    np.zeros((3, 2)),
                    [(np.nan, np.inf)] * 3,
                    [(np.full_like(dW, np.nan), db) for dW, db in R],
                ]
            )
            for got in cases:
                found = diagnose(fid, a, R, got)
                assert all(isinstance(d, Diagnosis) and d.id in DIAGNOSES for d in found)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fid": "dL_dx"}, "`fid` must be a contract function, got 'dL_dx'"),
        ({"kind": "mse"}, "`kind` must be 'notes' or 'categorical', got 'mse'"),
    ],
    ids=["unknown-fid", "unknown-kind"],
)
def test_bad_arguments_are_named(kwargs: dict[str, str], message: str) -> None:
    call = {"fid": "relu", "kind": "notes", **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        diagnose(call["fid"], {"z": Z_ZEROS}, Z_ZEROS, Z_ZEROS, kind=call["kind"])


# --- the fingerprints ---------------------------------------------------------------


def test_fit_factor_recovers_the_constant_and_a_residual() -> None:
    R = np.random.default_rng(0).normal(size=(4, 5))
    c, residual = fit_factor(-7.0 * R, R)
    assert abs(c + 7.0) <= 1e-14 * 7 and residual <= 1e-15
    c, residual = fit_factor(R + np.eye(4, 5), R)
    assert residual > 0.1


def test_tolerance_follows_the_precision() -> None:
    assert tolerance(np.dtype(np.float64)) == pytest.approx(1.49e-8, rel=1e-2)
    assert tolerance(np.dtype(np.float32)) == pytest.approx(3.45e-4, rel=1e-2)
    assert tolerance(np.dtype(np.int64)) == tolerance(np.dtype(np.float64))
