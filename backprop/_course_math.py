"""The generic network of a `Course`, in the canonical layout: columns, `b` `(n, 1)`.

`backprop.course_reference` converts arguments from the course's conventions to this
layout, calls these, and converts the results back. Keeping one canonical computation
means every convention is a conversion at the boundary, never a copy of a formula.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backprop import formulas as f
from backprop._validate import Array
from backprop.course import Course

__all__ = [
    "Pass",
    "activation",
    "activation_derivative",
    "backward",
    "dL_daL",
    "dL_dyhat",
    "forward",
    "jacobian",
    "loss_from_logits",
    "loss_from_probabilities",
    "output",
    "penalty",
    "sigmoid",
]


def _divisor(course: Course, m: int) -> float:
    return float(m) if course.reduction == "mean" else 1.0


def sigmoid(z: Array) -> Array:
    """`1 / (1 + e^{-z})`, without overflow on either side."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def activation(course: Course, z: Array) -> Array:
    """The hidden activation `g(z)`, elementwise."""
    if course.hidden == "relu":
        return f.relu(z)
    if course.hidden == "leaky_relu":
        return np.where(z > 0, z, course.leaky_slope * z)
    if course.hidden == "sigmoid":
        return sigmoid(z)
    return np.tanh(z)


def activation_derivative(course: Course, z: Array) -> Array:
    """`g'(z)`; at a ReLU's kink `z = 0`, the notes' convention: the left slope."""
    if course.hidden == "relu":
        return f.relu_mask(z)
    if course.hidden == "leaky_relu":
        return np.where(z > 0, 1.0, course.leaky_slope)
    if course.hidden == "sigmoid":
        s = sigmoid(z)
        return s * (1.0 - s)
    return 1.0 - np.tanh(z) ** 2


def output(course: Course, a: Array) -> Array:
    """`ŷ` from `a_L` (the input of the output function), each column an example."""
    if course.output == "sigmoid":
        return sigmoid(a)
    return f.softmax(a)


def jacobian(course: Course, y_hat: Array) -> Array:
    """`∂ŷ/∂a_L` of one example `y_hat` `(n,)`: the softmax's, or the sigmoid's diagonal."""
    if course.output == "sigmoid":
        return np.diag(y_hat * (1.0 - y_hat))
    return f.softmax_jacobian(y_hat)


def _weighted(weight: Array, log_term: Array) -> Array:
    return np.where(weight == 0, 0.0, weight * log_term)


def _ratio(weight: Array, x: Array) -> Array:
    return np.where(weight == 0, 0.0, weight / x)


def loss_from_probabilities(course: Course, y_hat: Array, y: Array) -> Array:
    """The loss of probabilities `y_hat` against one-hot `y`, both `(n_L, m)`; 0-d."""
    d = _divisor(course, y.shape[1])
    if course.loss == "mse":
        return np.asarray(0.5 * np.sum((y_hat - y) ** 2) / d)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = _weighted(y, np.log(y_hat))
        if course.loss in ("notes", "binary"):
            terms = terms + _weighted(1 - y, np.log1p(-y_hat))
    return np.asarray(-terms.sum() / d)


def loss_from_logits(course: Course, a_L: Array, y: Array) -> Array:
    """The loss of `ŷ = output(a_L)` against one-hot `y`, stable where `ŷ` saturates.

    Notes
    -----
    Cross-entropies of softmax outputs go through `backprop.formulas.loss_from_logits`
    (log-softmax, and an exact `log(1 - ŷ)`); the binary one uses
    `log σ(z) = -log(1 + e^{-z})` and `log(1 - σ(z)) = -log(1 + e^{z})` (`logaddexp`),
    exact at any `|z|`. The squared error needs no care: `ŷ` is bounded.
    """
    m = y.shape[1]
    if course.loss in ("notes", "categorical"):
        mean = f.loss_from_logits(a_L, y, kind=course.loss)
        return mean if course.reduction == "mean" else mean * m
    if course.loss == "binary":
        terms = _weighted(y, -np.logaddexp(0.0, -a_L)) + _weighted(1 - y, -np.logaddexp(0.0, a_L))
        return np.asarray(-terms.sum() / _divisor(course, m))
    return loss_from_probabilities(course, output(course, a_L), y)


def dL_dyhat(course: Course, y_hat: Array, y: Array) -> Array:
    """`∂L/∂ŷ`, `(n_L, m)`; a term whose weight is 0 contributes 0."""
    d = _divisor(course, y.shape[1])
    if course.loss == "mse":
        return (y_hat - y) / d
    with np.errstate(divide="ignore", invalid="ignore"):
        g = -_ratio(y, y_hat)
        if course.loss in ("notes", "binary"):
            g = g + _ratio(1 - y, 1 - y_hat)
    return g / d


def dL_daL(course: Course, y_hat: Array, y: Array) -> Array:
    """`∂L/∂a_L`, the gradient at the input of the output function, `(n_L, m)`.

    Notes
    -----
    For a softmax, per column `Jᵀ g = ŷ * g - ŷ (ŷᵀ g)`, with `ŷ * g` formed without
    dividing by `ŷ` (as `backprop.formulas.dL_daL` does). For a sigmoid the Jacobian is
    diagonal, and the binary cross-entropy's `ŷ(1-ŷ) g` simplifies to `(ŷ - y)/d`.
    """
    d = _divisor(course, y.shape[1])
    if course.output == "sigmoid":
        if course.loss == "binary":
            return (y_hat - y) / d
        return (y_hat - y) * y_hat * (1.0 - y_hat) / d
    with np.errstate(divide="ignore", invalid="ignore"):
        if course.loss == "mse":
            yhat_g = y_hat * (y_hat - y) / d
        else:
            yhat_g = -y / d
            if course.loss == "notes":
                yhat_g = yhat_g + _ratio(1 - y, 1 - y_hat) * y_hat / d
    out: Array = yhat_g - y_hat * yhat_g.sum(axis=0, keepdims=True)
    return out


@dataclass(frozen=True)
class Pass:
    """One forward and backward pass, canonical layout; index `l - 1` is layer `l`.

    `a[0]` is `X`; `a_L` is the input of the output function (`relu(z_L)` under the
    notes' ``"relu-softmax"``, else `z_L`). `da[l - 1]` is `∂L/∂a_l` (`da[L - 1]` is
    `∂L/∂a_L`), `dz`, `dW`, `db` likewise; `dW` and `db` include the L2 term.
    """

    z: list[Array]
    a: list[Array]
    a_L: Array
    y_hat: Array
    da: list[Array]
    dz: list[Array]
    dW: list[Array]
    db: list[Array]


def forward(
    course: Course, params: list[tuple[Array, Array]], X: Array
) -> tuple[list[Array], list[Array], Array]:
    """`(z, a, a_L)` of the forward pass."""
    zs: list[Array] = []
    acts: list[Array] = [X]
    a_prev = X
    L = len(params)
    for l, (W, b) in enumerate(params, start=1):
        z = W @ a_prev + b
        zs.append(z)
        if l < L:
            a_prev = activation(course, z)
        elif course.has_last_relu:
            a_prev = f.relu(z)
        else:
            a_prev = z  # the output function takes the logits
        acts.append(a_prev)
    return zs, acts, a_prev


def backward(course: Course, params: list[tuple[Array, Array]], X: Array, Y: Array) -> Pass:
    """The whole pass at `(params, X, Y)`, `Y` one-hot `(n_L, m)`."""
    zs, acts, a_L = forward(course, params, X)
    y_hat = output(course, a_L)
    L = len(params)
    da: list[Array] = [np.empty(0)] * L
    dz: list[Array] = [np.empty(0)] * L
    da[L - 1] = dL_daL(course, y_hat, Y)
    for l in range(L, 0, -1):
        if l < L:
            dz[l - 1] = da[l - 1] * activation_derivative(course, zs[l - 1])
        elif course.has_last_relu:
            dz[l - 1] = da[l - 1] * f.relu_mask(zs[l - 1])
        else:
            dz[l - 1] = da[l - 1]
        if l > 1:
            da[l - 2] = params[l - 1][0].T @ dz[l - 1]
    dW = [dz[l] @ acts[l].T for l in range(L)]
    db = [np.sum(dz[l], axis=1, keepdims=True) for l in range(L)]
    if course.l2:
        dW = [g + course.l2 * W for g, (W, _) in zip(dW, params, strict=True)]
        if course.l2_biases:
            db = [g + course.l2 * b for g, (_, b) in zip(db, params, strict=True)]
    return Pass(zs, acts, a_L, y_hat, da, dz, dW, db)


def penalty(course: Course, params: list[tuple[Array, Array]]) -> Array:
    """`(l2 / 2) Σ ‖W_l‖²`, with the biases when `l2_biases`."""
    total = np.float64(0.0)
    if course.l2:
        for W, b in params:
            total = total + np.sum(W * W)
            if course.l2_biases:
                total = total + np.sum(b * b)
    return np.asarray(0.5 * course.l2 * total)
