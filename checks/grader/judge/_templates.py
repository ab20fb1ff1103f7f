"""Templates of the diagnoses: known wrong formulas, evaluated at the submission's arguments.

A template is what a known mistake returns at the same arguments: a wrong mask, a
softmax over rows, the other loss, and the notes' formulas as written
(`backprop.as_written`, errata E1-E5). For `backward`, a template is the reference pass
with one or two of its steps replaced (the catalog's ``compose``), so that a wrong pass is
traced to the step that makes it wrong. `checks.grader.judge._diagnose` matches a result
against them; each `what` is a noun phrase read as "your <function> is <what>".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from backprop import as_written as notes
from backprop import formulas as f
from backprop import network as net
from backprop.catalog import FORMULAS
from checks.findings import as_float64

__all__ = ["LOSS_NAMES", "Template", "backward_templates", "templates"]

Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Template:
    """The result `value` of a known mistake, diagnosed as `id` and described by `what`.

    `value` is an array, or for `backward` the blocks ``[dW_1, db_1, dW_2, ...]``;
    `erratum` is set when `value` is the notes' formula as written.
    """

    id: str
    what: str
    value: Any
    erratum: str = ""


LOSS_NAMES = {
    "notes": "the notes' binary cross-entropy (with the (1 - y)ᵀ log(1 - ŷ) terms)",
    "categorical": "the categorical cross-entropy -(1/m) Σ_k y_kᵀ log ŷ_k",
}
_OTHER = {"notes": "categorical", "categorical": "notes"}


def _sigmoid_slope(z: Array) -> Array:
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)


def _rows_softmax(a: Array) -> Array:
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return as_float64(e / e.sum(axis=1, keepdims=True))


def _other_loss(what: str, value: Any, kind: str) -> Template:
    return Template(
        "other-loss",
        f"{what}{LOSS_NAMES[_OTHER[kind]]}; the course's loss is {LOSS_NAMES[kind]}",
        value,
    )


def _relu_mask(z: Array) -> list[Template]:
    a = f.relu(z)
    return [
        Template(
            "relu-mask-at-zero",
            "1(z ≥ 0): 1 at z == 0, where the notes' 1_{R+*}(z) is 0",
            (z >= 0).astype(float),
        ),
        Template(
            "missing-relu-mask",
            "1 everywhere: no mask at all (a mask of a = relu(z) ≥ 0 is always 1)",
            np.ones_like(z),
        ),
        Template(
            "mask-on-wrong-array",
            "relu(z) = a_l, the activation itself, not the mask 1_{R+*}(z_l)",
            a,
        ),
        Template(
            "sigmoid-derivative",
            "a(1 - a) with a = relu(z): the sigmoid's derivative, not ReLU's",
            a * (1 - a),
        ),
        Template(
            "sigmoid-derivative",
            "σ(z)(1 - σ(z)): the sigmoid's derivative, not ReLU's",
            _sigmoid_slope(z),
        ),
    ]


def _dL_dz(dA: Array, z: Array) -> list[Template]:
    a = f.relu(z)
    return [
        Template(
            "relu-mask-at-zero",
            "∂L/∂a_l * 1(z_l ≥ 0): the mask is 1 at z == 0, where the notes' 1_{R+*}(z) is 0",
            dA * (z >= 0),
        ),
        Template(
            "missing-relu-mask",
            "∂L/∂a_l itself: the ReLU mask 1_{R+*}(z_l) is missing, so it is nonzero where z_l ≤ 0",
            dA,
        ),
        Template(
            "mask-added",
            "∂L/∂a_l + 1_{R+*}(z_l), the boxed result: the mask added, not multiplied elementwise",
            notes.dL_dz(dA, z),
            "E3",
        ),
        Template(
            "mask-on-wrong-array",
            "∂L/∂a_l * 1(∂L/∂a_l > 0): the mask taken from the gradient's sign, not from z_l",
            dA * (dA > 0),
        ),
        Template(
            "mask-on-wrong-array",
            "∂L/∂a_l * relu(z_l): multiplied by the activation a_l, not by the mask 1_{R+*}(z_l)",
            dA * a,
        ),
        Template(
            "sigmoid-derivative",
            "∂L/∂a_l * a(1 - a) with a = relu(z_l): the sigmoid's derivative, not ReLU's",
            dA * a * (1 - a),
        ),
        Template(
            "sigmoid-derivative",
            "∂L/∂a_l * σ(z)(1 - σ(z)): the sigmoid's derivative, not ReLU's",
            dA * _sigmoid_slope(z),
        ),
    ]


def _softmax(a: Array) -> list[Template]:
    e = np.exp(a - a.max(axis=1, keepdims=True))
    whole = np.exp(a - a.max())
    return [
        Template(
            "wrong-axis",
            "a softmax over each row (axis=1); the notes' is over each "
            "column (axis=0), the examples being columns",
            _rows_softmax(a),
        ),
        Template(
            "wrong-axis",
            "normalised per column but with each row's maximum (axis=1) "
            "subtracted: subtract each column's maximum",
            e / e.sum(axis=0),
        ),
        Template(
            "wrong-axis",
            "normalised over the whole array, not column by column",
            whole / whole.sum(),
        ),
    ]


def _decide(a: Array) -> list[Template]:
    first = np.zeros_like(a)
    first[np.argmax(a, axis=0), np.arange(a.shape[1])] = 1.0
    return [
        Template(
            "wrong-axis",
            "S taken over each row (axis=1); it is per column (axis=0), one decision per example",
            (a == a.max(axis=1, keepdims=True)).astype(float),
        ),
        Template(
            "ties",
            "1 at the first maximum of each column only (np.argmax); the notes' S "
            "gives 1 to every maximum, ties included",
            first,
        ),
    ]


def _dL_daL(y_hat: Array, y: Array, kind: str) -> list[Template]:
    if kind == "notes":
        return [
            Template(
                "softmax-jacobian-diagonal",
                "(ŷ - y)/m, from the softmax Jacobian's "
                "diagonal alone (E1), right only for the categorical cross-entropy; "
                "per column it is ŷ * (g - gᵀŷ) with g = ∂L/∂ŷ",
                notes.dL_daL(y_hat, y),
                "E2",
            )
        ]
    return [
        Template(
            "softmax-jacobian-diagonal",
            "∂L/∂ŷ * ŷ(1 - ŷ) = -y(1 - ŷ)/m, from the softmax "
            "Jacobian's diagonal alone: its off-diagonal terms are missing",
            -y * (1 - y_hat) / y.shape[1],
        ),
        _other_loss("∂L/∂a_L for ", f.dL_daL(y_hat, y, kind="notes"), kind),
    ]


def _one_example(fid: str, args: Mapping[str, Any]) -> list[Template]:
    dz = as_float64(args["dL_dz"])
    if fid == "dL_dW":
        a_prev = as_float64(args["a_prev"])
        each = [np.outer(dz[:, k], a_prev[:, k]) for k in range(dz.shape[1])]
    else:
        each = [dz[:, [k]] for k in range(dz.shape[1])]
    return [
        Template(
            "one-example",
            f"the contribution of example k = {k} alone: `dW = ...` "
            "where a loop over the examples needs `dW += ...`",
            t,
        )
        for k, t in enumerate(each)
    ]


def _forward(args: Mapping[str, Any]) -> list[Template]:
    cache = net.forward_cache(args["params"], args["X"])
    z_L, a_L = cache.z[-1], cache.a[-1]
    return [
        Template(
            "logits-for-probabilities",
            "a_L = relu(z_L), the scores: the softmax ŷ = softmax(a_L) is missing",
            a_L,
        ),
        Template(
            "logits-for-probabilities",
            "z_L, the last pre-activation: neither its ReLU nor the softmax is applied",
            z_L,
        ),
        Template(
            "no-last-relu",
            "softmax(z_L): the notes apply ReLU to the last layer too, ŷ = softmax(relu(z_L))",
            f.softmax(z_L),
        ),
        Template(
            "wrong-axis",
            "softmax(a_L) over each row (axis=1); it is over each column (axis=0), the examples",
            _rows_softmax(a_L),
        ),
    ]


def templates(fid: str, args: Mapping[str, Any], kind: str) -> list[Template]:
    """The known wrong results of the contract function `fid` at `args`, under loss `kind`."""
    if fid == "relu_mask":
        return _relu_mask(as_float64(args["z"]))
    if fid == "dL_dz":
        return _dL_dz(as_float64(args["dL_da"]), as_float64(args["z"]))
    if fid == "softmax":
        return _softmax(as_float64(args["a"]))
    if fid == "decide":
        return _decide(as_float64(args["a"]))
    if fid == "loss":
        other = f.loss(args["y_hat"], args["y"], kind=_OTHER[kind])
        return [_other_loss("", as_float64(other), kind)]
    if fid == "dL_dyhat":
        other = f.dL_dyhat(args["y_hat"], args["y"], kind=_OTHER[kind])
        return [_other_loss("∂L/∂ŷ for ", other, kind)]
    if fid == "softmax_jacobian":
        return [
            Template(
                "softmax-jacobian-diagonal",
                "diag(ŷ_i (1 - ŷ_i)), the diagonal alone: "
                "the off-diagonal terms -ŷ_k ŷ_i of diag(ŷ) - ŷ ŷᵀ are missing",
                notes.softmax_jacobian(args["y_hat"]),
                "E1",
            )
        ]
    if fid == "dL_daL":
        return _dL_daL(as_float64(args["y_hat"]), as_float64(args["y"]), kind)
    if fid in ("dL_dW", "dL_db"):
        return _one_example(fid, args)
    if fid == "forward":
        return _forward(args)
    return []


Step = Callable[..., Array]


def backward_templates(args: Mapping[str, Any], kind: str) -> list[Template]:
    """The reference backward pass with steps replaced by wrong ones, as blocks."""
    params, X, Y = args["params"], args["X"], args["Y"]
    cache = net.forward_cache(params, X)
    z_L, a_L, m = cache.z[-1], cache.a[-1], X.shape[1]
    compose = FORMULAS["backward"].compose
    assert compose is not None  # the catalog's backward is composed of its steps

    def run(**using: Step) -> list[Array]:
        return [x for pair in compose(using)(params, X, Y, kind=kind) for x in pair]

    def diagonal(y_hat: Array, y: Array) -> Array:  # the Jacobian's diagonal alone (E1)
        return notes.dL_daL(y_hat, y) if kind == "notes" else -y * (1 - y_hat) / m

    def no_mask_last(dA: Array, z: Array) -> Array:
        return dA if np.array_equal(z, z_L) else f.dL_dz(dA, z)

    E2 = "E2" if kind == "notes" else ""
    daL_diagonal = (
        "∂L/∂a_L" + (" = (ŷ - y)/m" if E2 else "") + ", from the softmax Jacobian's diagonal alone"
    )
    dz_added = "∂L/∂z_l = ∂L/∂a_l + 1_{R+*}(z_l), the mask added, not multiplied"
    found = [
        Template(
            "softmax-jacobian-diagonal",
            f"the right pass but for {daL_diagonal}",
            run(dL_daL=diagonal),
            E2,
        ),
        Template("mask-added", f"the right pass but for {dz_added}", run(dL_dz=notes.dL_dz), "E3"),
        Template(
            "missing-relu-mask",
            "the right pass without the ReLU mask: ∂L/∂z_l = ∂L/∂a_l",
            run(dL_dz=lambda dA, z: dA),
        ),
        Template(
            "missing-relu-mask",
            "the right pass without the ReLU mask on the last layer: "
            "the notes apply ReLU before the softmax, so ∂L/∂z_L = ∂L/∂a_L * 1_{R+*}(z_L)",
            run(dL_dz=no_mask_last),
        ),
        Template(
            "missing-relu-mask",
            "the right pass without the ReLU mask on the hidden layers (only the last "
            "layer's is applied): ∂L/∂z_l = ∂L/∂a_l * 1_{R+*}(z_l) on every layer",
            run(dL_dz=lambda dA, z: f.dL_dz(dA, z) if np.array_equal(z, z_L) else dA),
        ),
        Template(
            "relu-mask-at-zero",
            "the right pass with the ReLU mask 1 at z == 0",
            run(dL_dz=lambda dA, z: dA * (z >= 0)),
        ),
        Template(
            "mask-on-wrong-array",
            "the right pass with ∂L/∂z_l = ∂L/∂a_l * a_l, the activation used as the mask",
            run(dL_dz=lambda dA, z: dA * f.relu(z)),
        ),
        Template(
            "mask-on-wrong-array",
            "the right pass with the mask taken from the sign of ∂L/∂a_l, not of z_l",
            run(dL_dz=lambda dA, z: dA * (dA > 0)),
        ),
        Template(
            "sigmoid-derivative",
            "the right pass with ∂L/∂z_l = ∂L/∂a_l * a(1 - a), the sigmoid's derivative",
            run(dL_dz=lambda dA, z: dA * f.relu(z) * (1 - f.relu(z))),
        ),
        Template(
            "logits-for-probabilities",
            "the right pass but for ∂L/∂a_L = (a_L - y)/m, "
            "with the scores a_L where the probabilities ŷ belong",
            run(dL_daL=lambda y_hat, y: (a_L - y) / m),
        ),
    ]
    y_no_relu = f.softmax(z_L)  # a network without the last ReLU: ŷ = softmax(z_L)
    found.append(
        Template(
            "no-last-relu",
            "the pass of a network without a ReLU on the last layer: ŷ = softmax(z_L) and "
            "no mask on ∂L/∂z_L; the notes' network is ŷ = softmax(relu(z_L))",
            run(dL_daL=lambda y_hat, y: f.dL_daL(y_no_relu, y, kind=kind), dL_dz=no_mask_last),
        )
    )
    if kind == "notes":  # the whole pass as the notes write it: both errata at once
        both = run(dL_daL=notes.dL_daL, dL_dz=notes.dL_dz)
        found += [
            Template(
                "softmax-jacobian-diagonal", f"the notes' pass, with {daL_diagonal}", both, "E2"
            ),
            Template("mask-added", f"the notes' pass, with {dz_added}", both, "E3"),
        ]
    else:
        found.append(
            _other_loss("the pass for ", run(dL_daL=partial(f.dL_daL, kind="notes")), kind)
        )
    return found
