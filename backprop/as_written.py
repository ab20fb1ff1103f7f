"""The notes' formulas exactly as the notes write them, errata included.

Nothing here is correct by intent: each function transcribes a line of
`seed-notes.txt`, and its docstring says which erratum of docs/formulas.md it carries, if
any. The correct forms are in `backprop.formulas`; the catalog (`backprop.catalog`)
pairs the two. Arguments are validated as in the correct forms, so that both fail the
same way on bad input and differ only where the notes do.
"""

from __future__ import annotations

import numpy as np

from backprop import _validate as v
from backprop._validate import Array, Params

__all__ = [
    "backward",
    "dL_dW",
    "dL_da",
    "dL_daL",
    "dL_db",
    "dL_dyhat",
    "dL_dz",
    "decide",
    "forward",
    "loss",
    "relu",
    "relu_mask",
    "softmax",
    "softmax_jacobian",
]


def relu(z: Array) -> Array:
    """`ReLU(x) = max(0, x)` (notes, line 1). Holds."""
    return np.maximum(0, v.as_array("z", z))


def relu_mask(z: Array) -> Array:
    """`1_{R+*}(z_l)` (notes, line 41): 1 where `z > 0`. Holds."""
    return (v.as_array("z", z) > 0).astype(np.float64)


def softmax(a: Array) -> Array:
    """`e^{x_i} / Σ_j e^{x_j}` (notes, line 4), on each column, with no shift. Holds.

    Mathematically right; it overflows for large `|a|`, which the notes do not address.
    """
    a = v.as_array("a", a, ndim=2)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(a)
        return e / e.sum(axis=0, keepdims=True)


def decide(a: Array) -> Array:
    """`S(x)_i = 1 if x_i = max_j x_j, else 0` (notes, line 8). Holds."""
    a = v.as_array("a", a, ndim=2, finite=True)
    return (a == a.max(axis=0, keepdims=True)).astype(np.float64)


def loss(y_hat: Array, y: Array) -> Array:
    """`-(1/m) Σ_k [y_kᵀ log ŷ_k + (1-y_k)ᵀ log(1-ŷ_k)]` with `np.vdot` (notes, line 11). Holds."""
    y_hat, y = v.predictions(y_hat, y)
    m = y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        total = sum(
            np.vdot(y[:, k], np.log(y_hat[:, k])) + np.vdot(1 - y[:, k], np.log(1 - y_hat[:, k]))
            for k in range(m)
        )
    return np.asarray(-total / m)


def dL_dyhat(y_hat: Array, y: Array) -> Array:
    """`∂L/∂ŷ = (1/m) ((1-y)/(1-ŷ) - y/ŷ)` (notes, line 37), laid out as the notes say.

    Erratum E5: the derivation (line 52) calls it "a matrix of size m × 10", one row per
    example; with examples as columns it is `(n_L, m)`. This returns the notes' layout,
    `(m, n_L)`; its values are right.
    """
    y_hat, y = v.predictions(y_hat, y)
    m = y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((1 / m) * ((1 - y) / (1 - y_hat) - y / y_hat)).T


def softmax_jacobian(y_hat: Array) -> Array:
    """`∂ŷ_k/∂a_{L,i} = ŷ_i (1 - ŷ_i) δ_{ki}` (notes, line 67).

    Erratum E1: only the diagonal is right; the off-diagonal terms `-ŷ_k ŷ_i` are dropped.
    """
    y_hat = v.as_array("y_hat", y_hat, ndim=1, finite=True)
    return np.diag(y_hat * (1 - y_hat))


def dL_daL(y_hat: Array, y: Array) -> Array:
    """`∂L/∂a_L = (1/m) ((1-y)*ŷ - y*(1-ŷ))` (notes, boxed, line 70), i.e. `(ŷ - y)/m`.

    Erratum E2: it follows from the diagonal Jacobian of E1. Under the notes' loss the
    true gradient differs; the shortcut is exact only for the categorical cross-entropy.
    """
    y_hat, y = v.predictions(y_hat, y)
    m = y.shape[1]
    return (1 / m) * (np.multiply(1 - y, y_hat) - np.multiply(y, 1 - y_hat))


def dL_dz(dL_da: Array, z: Array) -> Array:
    """`∂L/∂z_l = ∂L/∂a_l + 1_{R+*}(z_l)`, the boxed result of the derivation (line 81).

    Erratum E3: the line above the box, and the summary (line 41), have the elementwise
    product `*`; the boxed `+` is wrong.
    """
    dL_da, z = v.elementwise("dL_da", dL_da, "z", z)
    return dL_da + relu_mask(z)


def dL_da(W_next: Array, dL_dz_next: Array) -> Array:
    """`∂L/∂a_l = ᵀW_{l+1} ∂L/∂z_{l+1}` (notes, line 44). Holds."""
    W_next, dL_dz_next = v.product(
        "W_next", W_next, "dL_dz_next", dL_dz_next, axes=(0, 0), what="rows n_{l+1}"
    )
    return W_next.T @ dL_dz_next


def dL_dW(dL_dz: Array, a_prev: Array) -> Array:
    """`∂L/∂W_l = ∂L/∂z_l ᵀa_{l-1}` (notes, line 88), with `a_0 = X`. Holds."""
    dL_dz, a_prev = v.product("dL_dz", dL_dz, "a_prev", a_prev, axes=(1, 1), what="columns m")
    return dL_dz @ a_prev.T


def dL_db(dL_dz: Array) -> Array:
    """`∂L/∂b_l = np.sum(∂L/∂z_l, axis=1)` (notes, lines 46-48 and 98).

    Erratum E4: the result has shape `(n_l,)` where `b_l` is `(n_l, 1)`; the values are
    right, but `b_l -= lr * db` then broadcasts to `(n_l, n_l)` without a word.
    """
    return np.sum(v.as_array("dL_dz", dL_dz, ndim=2), axis=1)


def forward(params: Params, X: Array) -> Array:
    """`z_l = W_l a_{l-1} + b_l`, `a_l = relu(z_l)`, `ŷ = softmax(a_L)` (lines 19-27). Holds."""
    checked = v.params_list(params)
    a = v.inputs(checked, X)
    for W, b in checked:
        a = relu(W @ a + b)
    return softmax(a)


def backward(params: Params, X: Array, Y: Array) -> list[tuple[Array, Array]]:
    """The notes' steps (lines 33-48), chaining the formulas above as written.

    Carries E2 (through `dL_daL`), E3 (through `dL_dz`) and E4 (through `dL_db`).
    """
    checked = v.params_list(params)
    a = [v.inputs(checked, X)]
    z = []
    for W, b in checked:
        z.append(W @ a[-1] + b)
        a.append(relu(z[-1]))
    Y = v.labels(checked, a[0], Y)
    da = dL_daL(softmax(a[-1]), Y)
    pairs: list[tuple[Array, Array]] = []
    for l in range(len(checked), 0, -1):
        dz = dL_dz(da, z[l - 1])
        pairs.append((dL_dW(dz, a[l - 1]), dL_db(dz)))
        da = dL_da(checked[l - 1][0], dz)
    return pairs[::-1]
