"""The catalog of the notes' formulas and their errata: one entry per formula id.

Each entry pairs the formula as the notes write it (`backprop.as_written`) with the
correct form (`backprop.formulas`, `backprop.network`), says where it stands in
`seed-notes.txt`, what it takes and returns, which errata concern it, and how to find
its arguments at a test point and its *numerical truth*: the function whose derivative
the formula claims to be. The errata report, the property tests and the grader iterate
over `FORMULAS`; adding a formula or an erratum means adding one entry here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from backprop import as_written as notes
from backprop import formulas as f
from backprop import network as net
from backprop._validate import Array, Params

__all__ = [
    "ERRATA",
    "FORMULAS",
    "Erratum",
    "Formula",
    "Point",
    "Truth",
    "param_blocks",
    "params_from_blocks",
]

Args = dict[str, Any]


@dataclass(frozen=True)
class Erratum:
    """A known error of the notes, as listed in docs/formulas.md."""

    id: str
    formula: str
    summary: str
    correct_form: str
    shows_as: Literal["values", "shape"]


@dataclass(frozen=True)
class Point:
    """A test point of the notes' network: parameters, inputs `(n_0, m)`, labels `(n_L, m)`."""

    params: Params
    X: Array
    Y: Array
    kind: str = "notes"

    def cache(self) -> net.Cache:
        return net.forward_cache(self.params, self.X)

    def gradients(self) -> net.Gradients:
        return net.gradients(self.params, self.X, self.Y, kind=self.kind)


@dataclass(frozen=True)
class Truth:
    """What a formula's result must equal: the derivative of `f` at `x`.

    `f` maps an array (or a mapping of named arrays, like `x`) to a scalar, whose
    gradient is the truth, or to an array, whose Jacobian is (``jacobian=True``).
    `kinks`, where given, maps a point to the pattern of the nonsmooth pieces it lies
    on (signs of pre-activations): two evaluations with different patterns straddle a
    kink, and their difference measures neither side.
    """

    f: Callable[[Any], Any]
    x: Array | Mapping[str, Array]
    kinks: Callable[[Any], Array] | None = None
    jacobian: bool = False
    #: For the loss of the notes' network: its inputs, labels and loss kind, so that a
    #: checker may evaluate `f` by a faster path of its own (`checks.NetworkLoss`).
    network: tuple[Array, Array, str] | None = None
    #: `f` on a batch of points (every array with a leading axis), one value per point,
    #: bit for bit `f`'s: a checker may evaluate many points in one call (the engine's
    #: ``batched`` functions) and get the same differences.
    batch: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Formula:
    """One formula of the notes.

    `correct` and `as_written` take the arguments named in `args`; when
    `loss_dependent`, `correct` also takes ``kind=`` ("notes" or "categorical"), and
    `as_written` is the notes' form for the notes' loss. A formula built from others
    (`backward`) has `compose`: given replacements for some of its component formulas,
    by id, it returns the formula with those replaced, so that an error of the whole can
    be traced to the component that causes it.
    """

    id: str
    stage: Literal["forward", "backward"]
    notes: str
    where: str
    args: tuple[str, ...]
    shapes: Mapping[str, str]
    correct: Callable[..., Any]
    as_written: Callable[..., Any]
    sample: Callable[[Point], list[Args]]
    out_shape: Callable[[Args], tuple[int, ...]]
    truth: Callable[[Args, str], Truth] | None = None
    loss_dependent: bool = False
    errata: tuple[Erratum, ...] = field(default=())
    compose: Callable[[Mapping[str, Callable[..., Any]]], Callable[..., Any]] | None = None

    def reference(self, args: Args, kind: str = "notes") -> Any:
        """The correct result for `args`, under the loss `kind`."""
        if self.loss_dependent:
            return self.correct(**args, kind=kind)
        return self.correct(**args)


ERRATA: dict[str, Erratum] = {
    e.id: e
    for e in [
        Erratum(
            "E1",
            "softmax_jacobian",
            "Only the diagonal is right: the off-diagonal terms of the softmax Jacobian "
            "are dropped.",
            "∂ŷ_k/∂a_i = ŷ_k (δ_{ki} - ŷ_i), i.e. per column J = diag(ŷ) - ŷ ŷᵀ",
            "values",
        ),
        Erratum(
            "E2",
            "dL_daL",
            "Follows from E1: with the notes' loss (binary cross-entropy on each softmax "
            "output) the true gradient is not (ŷ - y)/m. The shortcut is exact only for "
            "the categorical cross-entropy -(1/m) Σ_k y_kᵀ log ŷ_k.",
            "per column, with g = ∂L/∂ŷ: ∂L/∂a_L = ŷ * (g - (gᵀ ŷ))",
            "values",
        ),
        Erratum(
            "E3",
            "dL_dz",
            "The boxed result of the derivation reads ∂L/∂a_l + 1_{R+*}(z_l); the line "
            "above it, and the summary, have the elementwise product.",
            "∂L/∂a_l * 1_{R+*}(z_l)",
            "values",
        ),
        Erratum(
            "E4",
            "dL_db",
            "np.sum(..., axis=1) returns shape (n_l,), while b_l has shape (n_l, 1): an "
            "update b_l -= lr * db then broadcasts to (n_l, n_l) silently. The values are "
            "right.",
            "np.sum(∂L/∂z_l, axis=1, keepdims=True)",
            "shape",
        ),
        Erratum(
            "E5",
            "dL_dyhat",
            "The derivation calls ∂L/∂ŷ 'a matrix of size m × 10', but with columns as "
            "examples (the forward pass) it is 10 × m.",
            "shape (n_L, m), like ŷ",
            "shape",
        ),
    ]
}


# --- how each formula's arguments are found at a test point ---------------------------


def _layers(point: Point) -> range:
    return range(1, len(point.params) + 1)


def _z_each_layer(point: Point) -> list[Args]:
    return [{"z": z} for z in point.cache().z]


def _y_hat_y(point: Point) -> list[Args]:
    return [{"y_hat": point.cache().y_hat, "y": point.Y}]


def _dL_dz_args(point: Point) -> list[Args]:
    cache, grads = point.cache(), point.gradients()
    return [{"dL_da": grads.da[l - 1], "z": cache.z[l - 1]} for l in _layers(point)]


def _dL_da_args(point: Point) -> list[Args]:
    grads = point.gradients()
    return [
        {"W_next": point.params[l][0], "dL_dz_next": grads.dz[l]}
        for l in range(1, len(point.params))
    ]


def _dL_dW_args(point: Point) -> list[Args]:
    cache, grads = point.cache(), point.gradients()
    return [{"dL_dz": grads.dz[l - 1], "a_prev": cache.a[l - 1]} for l in _layers(point)]


def _dL_db_args(point: Point) -> list[Args]:
    return [{"dL_dz": dz} for dz in point.gradients().dz]


# --- the numerical truth of each backward formula -----------------------------------


def param_blocks(params: Params) -> dict[str, Array]:
    """`params` as named blocks `{"W_1": ..., "b_1": ..., ...}`, in layer order."""
    blocks: dict[str, Array] = {}
    for l, (W, b) in enumerate(params, start=1):
        blocks[f"W_{l}"] = np.asarray(W)
        blocks[f"b_{l}"] = np.asarray(b)
    return blocks


def params_from_blocks(blocks: Mapping[str, Array]) -> list[tuple[Array, Array]]:
    """The inverse of `param_blocks`."""
    L = len(blocks) // 2
    return [(blocks[f"W_{l}"], blocks[f"b_{l}"]) for l in range(1, L + 1)]


def _sign_pattern(z: Array) -> Array:
    return np.asarray(z).real > 0


def _pairing(cotangent: Array, value: Array) -> Any:
    """`⟨cotangent, value⟩`, the scalar whose gradient is a vector-Jacobian product.

    Summed exactly (`math.fsum`): a central difference of it then differs only in the
    perturbed terms, and its rounding is a few ulps of the result, which is what the
    engine's error model assumes, however much the terms cancel. Complex values (the
    complex step) are summed by numpy.
    """
    products = np.multiply(cotangent, value)
    if np.iscomplexobj(products):
        return products.sum()
    return math.fsum(products.ravel().tolist())


def _pairings(cotangent: Array, values: Array) -> Array:
    """`_pairing` of `cotangent` with each of `values` (a leading axis), bit for bit.

    numpy's matrix product of a stack multiplies each matrix of it as it would alone,
    and a contiguous row is summed as one array is: tests/errata checks the identity.
    """
    products = np.multiply(cotangent, values).reshape(len(values), -1)
    if np.iscomplexobj(products):
        return np.asarray(products.sum(axis=1))
    return np.array([math.fsum(row) for row in products.tolist()])


def _truth_dL_dyhat(args: Args, kind: str) -> Truth:
    y = args["y"]
    return Truth(lambda y_hat: f.loss(y_hat, y, kind=kind), np.asarray(args["y_hat"], float))


def _truth_softmax_jacobian(args: Args, kind: str) -> Truth:
    column = lambda a: f.softmax(np.reshape(a, (-1, 1)))[:, 0]  # noqa: E731
    return Truth(column, np.log(np.asarray(args["y_hat"], float)), jacobian=True)


def _truth_dL_daL(args: Args, kind: str) -> Truth:
    # softmax(log ŷ) = ŷ when the columns of ŷ sum to 1: log ŷ is a valid a_L.
    y = args["y"]
    return Truth(
        lambda a_L: f.loss_from_logits(a_L, y, kind=kind), np.log(np.asarray(args["y_hat"], float))
    )


def _truth_relu_mask(args: Args, kind: str) -> Truth:
    return Truth(
        lambda z: f.relu(z).sum(),
        np.asarray(args["z"], float),
        kinks=_sign_pattern,
        # each point's entries summed as one contiguous row, as `.sum()` sums one point
        batch=lambda zs: f.relu(zs).reshape(len(zs), -1).sum(axis=1),
    )


def _truth_dL_dz(args: Args, kind: str) -> Truth:
    dL_da = args["dL_da"]
    return Truth(
        lambda z: _pairing(dL_da, f.relu(z)), np.asarray(args["z"], float), kinks=_sign_pattern
    )


def _truth_dL_da(args: Args, kind: str) -> Truth:
    W_next, dL_dz_next = args["W_next"], args["dL_dz_next"]
    a = np.zeros((W_next.shape[1], dL_dz_next.shape[1]))
    return Truth(
        lambda a: _pairing(dL_dz_next, W_next @ a),
        a,
        batch=lambda As: _pairings(dL_dz_next, W_next @ As),
    )


def _truth_dL_dW(args: Args, kind: str) -> Truth:
    dL_dz, a_prev = args["dL_dz"], args["a_prev"]
    W = np.zeros((dL_dz.shape[0], a_prev.shape[0]))
    return Truth(
        lambda W: _pairing(dL_dz, W @ a_prev),
        W,
        batch=lambda Ws: _pairings(dL_dz, Ws @ a_prev),
    )


def _truth_dL_db(args: Args, kind: str) -> Truth:
    dL_dz = args["dL_dz"]
    b = np.zeros((dL_dz.shape[0], 1))
    return Truth(lambda b: _pairing(dL_dz, np.broadcast_to(b, dL_dz.shape)), b)


def _truth_backward(args: Args, kind: str) -> Truth:
    X, Y = args["X"], args["Y"]

    def loss(blocks: Mapping[str, Array]) -> Array:
        return net.network_loss(params_from_blocks(blocks), X, Y, kind=kind)

    def kinks(blocks: Mapping[str, Array]) -> Array:
        cache = net.forward_cache(params_from_blocks(blocks), X)
        return np.concatenate([_sign_pattern(z).ravel() for z in cache.z])

    return Truth(loss, param_blocks(args["params"]), kinks=kinks, network=(X, Y, kind))


def _backward_using(using: Mapping[str, Callable[..., Any]]) -> Callable[..., Any]:
    def backward(params: Params, X: Array, Y: Array, *, kind: str = "notes") -> Any:
        return net.gradients(params, X, Y, kind=kind, using=using).pairs()

    return backward


def _shape_of(name: str) -> Callable[[Args], tuple[int, ...]]:
    return lambda args: np.shape(args[name])


def _column_sum_shape(args: Args) -> tuple[int, ...]:
    return (np.shape(args["dL_dz"])[0], 1)


def _pairs_shape(args: Args) -> tuple[int, ...]:
    return (len(args["params"]), 2)


_YH_Y = {"y_hat": "(n_L, m)", "y": "(n_L, m)"}

FORMULAS: dict[str, Formula] = {
    entry.id: entry
    for entry in [
        Formula(
            "relu",
            "forward",
            "ReLU(x) = max(0, x), elementwise",
            "seed-notes.txt lines 1-2",
            ("z",),
            {"z": "any", "return": "shape of z"},
            f.relu,
            notes.relu,
            _z_each_layer,
            _shape_of("z"),
        ),
        Formula(
            "softmax",
            "forward",
            "softmax(x)_i = e^{x_i} / Σ_j e^{x_j}, on each column",
            "seed-notes.txt line 4",
            ("a",),
            {"a": "(n_L, m)", "return": "(n_L, m)"},
            f.softmax,
            notes.softmax,
            lambda p: [{"a": p.cache().a[-1]}],
            _shape_of("a"),
        ),
        Formula(
            "decide",
            "forward",
            "S(x)_i = 1 if x_i = max_j x_j, else 0, on each column",
            "seed-notes.txt lines 7-8",
            ("a",),
            {"a": "(n_L, m)", "return": "(n_L, m)"},
            f.decide,
            notes.decide,
            lambda p: [{"a": p.cache().a[-1]}],
            _shape_of("a"),
        ),
        Formula(
            "loss",
            "forward",
            "L = -(1/m) Σ_k [y_kᵀ log ŷ_k + (1-y_k)ᵀ log(1-ŷ_k)] (np.vdot)",
            "seed-notes.txt lines 10-16",
            ("y_hat", "y"),
            {**_YH_Y, "return": "scalar"},
            f.loss,
            notes.loss,
            _y_hat_y,
            lambda args: (),
            loss_dependent=True,
        ),
        Formula(
            "forward",
            "forward",
            "a_0 = X; z_l = W_l a_{l-1} + b_l, a_l = relu(z_l); ŷ = softmax(a_L)",
            "seed-notes.txt lines 18-27",
            ("params", "X"),
            {
                "params": "[(W_l (n_l, n_{l-1}), b_l (n_l, 1))]",
                "X": "(n_0, m)",
                "return": "(n_L, m)",
            },
            net.forward,
            notes.forward,
            lambda p: [{"params": p.params, "X": p.X}],
            lambda args: (np.shape(args["params"][-1][0])[0], np.shape(args["X"])[1]),
        ),
        Formula(
            "dL_dyhat",
            "backward",
            "∂L/∂ŷ = (1/m) ((1-y)/(1-ŷ) - y/ŷ), 'a matrix of size m × 10'",
            "seed-notes.txt line 37; derivation lines 52-58",
            ("y_hat", "y"),
            {**_YH_Y, "return": "(n_L, m)"},
            f.dL_dyhat,
            notes.dL_dyhat,
            _y_hat_y,
            _shape_of("y_hat"),
            truth=_truth_dL_dyhat,
            loss_dependent=True,
            errata=(ERRATA["E5"],),
        ),
        Formula(
            "softmax_jacobian",
            "backward",
            "∂ŷ_k/∂a_{L,i} = ŷ_i (1-ŷ_i) δ_{ki}",
            "seed-notes.txt lines 63-67",
            ("y_hat",),
            {"y_hat": "(n_L,), one column", "return": "(n_L, n_L)"},
            f.softmax_jacobian,
            notes.softmax_jacobian,
            lambda p: [{"y_hat": col} for col in p.cache().y_hat.T],
            lambda args: (len(args["y_hat"]), len(args["y_hat"])),
            truth=_truth_softmax_jacobian,
            errata=(ERRATA["E1"],),
        ),
        Formula(
            "dL_daL",
            "backward",
            "∂L/∂a_L = (1/m) ((1-y)*ŷ - y*(1-ŷ)), i.e. (ŷ - y)/m",
            "seed-notes.txt line 70 (boxed); the summary's line 39 is garbled",
            ("y_hat", "y"),
            {**_YH_Y, "return": "(n_L, m)"},
            f.dL_daL,
            notes.dL_daL,
            _y_hat_y,
            _shape_of("y_hat"),
            truth=_truth_dL_daL,
            loss_dependent=True,
            errata=(ERRATA["E2"],),
        ),
        Formula(
            "relu_mask",
            "backward",
            "∂a_l/∂z_l = 1_{R+*}(z_l), elementwise (0 at z = 0)",
            "seed-notes.txt line 41",
            ("z",),
            {"z": "(n_l, m)", "return": "shape of z"},
            f.relu_mask,
            notes.relu_mask,
            _z_each_layer,
            _shape_of("z"),
            truth=_truth_relu_mask,
        ),
        Formula(
            "dL_dz",
            "backward",
            "∂L/∂z_l = ∂L/∂a_l * 1_{R+*}(z_l) (the boxed result reads +)",
            "seed-notes.txt line 41; boxed at line 81",
            ("dL_da", "z"),
            {"dL_da": "(n_l, m)", "z": "(n_l, m)", "return": "(n_l, m)"},
            f.dL_dz,
            notes.dL_dz,
            _dL_dz_args,
            _shape_of("z"),
            truth=_truth_dL_dz,
            errata=(ERRATA["E3"],),
        ),
        Formula(
            "dL_da",
            "backward",
            "∂L/∂a_l = W_{l+1}ᵀ ∂L/∂z_{l+1}",
            "seed-notes.txt line 44",
            ("W_next", "dL_dz_next"),
            {"W_next": "(n_{l+1}, n_l)", "dL_dz_next": "(n_{l+1}, m)", "return": "(n_l, m)"},
            f.dL_da,
            notes.dL_da,
            _dL_da_args,
            lambda args: (np.shape(args["W_next"])[1], np.shape(args["dL_dz_next"])[1]),
            truth=_truth_dL_da,
        ),
        Formula(
            "dL_dW",
            "backward",
            "∂L/∂W_l = ∂L/∂z_l a_{l-1}ᵀ, with a_0 = X",
            "seed-notes.txt lines 86-90",
            ("dL_dz", "a_prev"),
            {"dL_dz": "(n_l, m)", "a_prev": "(n_{l-1}, m)", "return": "(n_l, n_{l-1})"},
            f.dL_dW,
            notes.dL_dW,
            _dL_dW_args,
            lambda args: (np.shape(args["dL_dz"])[0], np.shape(args["a_prev"])[0]),
            truth=_truth_dL_dW,
        ),
        Formula(
            "dL_db",
            "backward",
            "∂L/∂b_l = np.sum(∂L/∂z_l, axis=1)",
            "seed-notes.txt lines 46-48 and 93-98",
            ("dL_dz",),
            {"dL_dz": "(n_l, m)", "return": "(n_l, 1)"},
            f.dL_db,
            notes.dL_db,
            _dL_db_args,
            _column_sum_shape,
            truth=_truth_dL_db,
            errata=(ERRATA["E4"],),
        ),
        Formula(
            "backward",
            "backward",
            "the steps ∂L/∂ŷ, ∂L/∂a_L, then ∂L/∂z_l, ∂L/∂W_l, ∂L/∂b_l, ∂L/∂a_{l-1} for l = L..1",
            "seed-notes.txt lines 29-48",
            ("params", "X", "Y"),
            {
                "params": "[(W_l, b_l)]",
                "X": "(n_0, m)",
                "Y": "(n_L, m)",
                "return": "[(dW_l, db_l)] shaped like params",
            },
            net.backward,
            notes.backward,
            lambda p: [{"params": p.params, "X": p.X, "Y": p.Y}],
            _pairs_shape,
            truth=_truth_backward,
            loss_dependent=True,
            errata=(ERRATA["E2"], ERRATA["E3"], ERRATA["E4"]),
            compose=_backward_using,
        ),
    ]
}
