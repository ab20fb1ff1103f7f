"""The notes' formulas, correct: one function per formula id of docs/formulas.md.

Shapes follow the notes: columns are examples, so `z`, `a`, `y_hat` and `y` are
`(n_l, m)`. Each function validates its arguments first. The forms the notes actually
write, errata included, are in `backprop.as_written`, never here.

Every function accepts complex arrays as well, so that the complex-step derivative of
the checks can run through them: comparisons use the real part.
"""

from __future__ import annotations

import numpy as np

from backprop import _validate as v
from backprop._validate import Array

__all__ = [
    "dL_dW",
    "dL_da",
    "dL_daL",
    "dL_daL_from_logits",
    "dL_db",
    "dL_dyhat",
    "dL_dyhat_from_logits",
    "dL_dz",
    "decide",
    "log_softmax",
    "loss",
    "loss_from_logits",
    "relu",
    "relu_mask",
    "softmax",
    "softmax_jacobian",
]


# --- forward -------------------------------------------------------------------------


def relu(z: Array) -> Array:
    """Formula `relu`: `ReLU(z) = max(0, z)`, elementwise; any shape."""
    z = v.as_array("z", z)
    return np.where(z.real > 0, z, 0.0)


def relu_mask(z: Array) -> Array:
    """Formula `relu_mask`: `∂a_l/∂z_l = 1_{R+*}(z_l)`, 1.0 where `z > 0`, else 0.0.

    The notes' convention: 0.0 at `z == 0`, where ReLU has no derivative. Shape of `z`.
    """
    z = v.as_array("z", z)
    return (z.real > 0).astype(np.float64)


def softmax(a: Array) -> Array:
    """Formula `softmax`: `ŷ_i = e^{a_i} / Σ_j e^{a_j}` on each column of `a` `(n, m)`.

    The column's maximum is subtracted first, so that no exponential overflows.
    """
    a = v.as_array("a", a, ndim=2)
    e = np.exp(a - a.real.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def log_softmax(a: Array) -> Array:
    """`log softmax(a)` on each column of `a` `(n, m)`, exact where `softmax` underflows.

    Notes
    -----
    With `t` a column's largest entry and `r = Σ_{j≠t} e^{a_j - a_t}`, the normaliser is
    `log1p(r)`: `log(1 + r)` lost `r` below `ε`, and with it the loss of a confident right
    answer (`log ŷ_t = -r`), half of the notes' loss there (2.3e-17 for 4.65e-17).
    """
    a = v.as_array("a", a, ndim=2)
    top = np.argmax(a.real, axis=0)
    cols = np.arange(a.shape[1])
    shifted = a - a[top, cols]
    others = np.exp(shifted)
    others[top, cols] = 0.0  # exactly 1: the rest is r
    return shifted - np.log1p(others.sum(axis=0, keepdims=True))


def decide(a: Array) -> Array:
    """Formula `decide`: `S(a)_i = 1` where `a_i` is its column's maximum, else 0.

    Ties: every maximum of a column gets 1.0. Shape of `a` `(n, m)`.
    """
    a = v.as_array("a", a, ndim=2, finite=True)
    return (a == a.max(axis=0, keepdims=True)).astype(np.float64)


def loss(y_hat: Array, y: Array, *, kind: str = "notes") -> Array:
    """Formula `loss`, from the probabilities `y_hat` and the labels `y`, both `(n_L, m)`.

    ``kind="notes"``: `L = -(1/m) Σ_k [y_kᵀ log ŷ_k + (1-y_k)ᵀ log(1-ŷ_k)]`, the binary
    cross-entropy of every softmax output. ``kind="categorical"``:
    `L = -(1/m) Σ_k y_kᵀ log ŷ_k`. Returns a 0-d array.

    Notes
    -----
    A term whose weight is 0 counts 0 even where its logarithm is infinite
    (`0 log 0 = 0`), and `log(1 - ŷ)` is `log1p(-ŷ)`, exact for tiny `ŷ`. Nothing is
    clipped: where the loss is infinite, it is infinite. From logits, use
    `loss_from_logits`, which stays accurate where `ŷ` itself underflows.
    """
    v.check_loss(kind)
    y_hat, y = v.predictions(y_hat, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = _weighted(y, np.log(y_hat))
        if kind == "notes":
            terms = terms + _weighted(1 - y, np.log1p(-y_hat))
    return -terms.sum() / y.shape[1]


def loss_from_logits(a_L: Array, y: Array, *, kind: str = "notes") -> Array:
    """Formula `loss` of `ŷ = softmax(a_L)`, evaluated through log-softmax.

    Notes
    -----
    `log ŷ_i = a_i - logsumexp(a)` is exact. For `log(1 - ŷ_i)`: where `ŷ_i < 1/2`,
    `log1p(-ŷ_i)` is exact; where `ŷ_i ≥ 1/2`, `1 - ŷ_i = r / (1 + r)` with
    `r = Σ_{j≠i} e^{a_j - a_i} ≤ 1`, so `log(1 - ŷ_i) = log r - log1p(r)`, with `log r`
    a log-sum-exp, has no cancellation and no underflow. The loss therefore keeps its
    value, and its gradient, where the
    probabilities saturate, instead of being clipped.
    """
    v.check_loss(kind)
    a_L = v.as_array("a_L", a_L, ndim=2, finite=True)
    y = v.as_array("y", y, ndim=2, finite=True)
    v.same_shape("a_L", a_L, "y", y)
    log_y_hat = log_softmax(a_L)
    with np.errstate(invalid="ignore"):
        terms = _weighted(y, log_y_hat)
        if kind == "notes":
            terms = terms + _weighted(1 - y, _log1m_softmax(a_L, log_y_hat))
    return -terms.sum() / y.shape[1]


def _log1m_softmax(a: Array, log_y_hat: Array) -> Array:
    """`log(1 - softmax(a))`, accurate on both sides of 1/2 (see `loss_from_logits`)."""
    top = np.argmax(a.real, axis=0)
    cols = np.arange(a.shape[1])
    others = a - a[top, cols]
    others[top, cols] = -np.inf  # log r = logsumexp_{j≠i}(a_j - a_i), for i the maximum
    shift = others.real.max(axis=0)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    with np.errstate(divide="ignore"):
        log_r = shift + np.log(np.exp(others - shift).sum(axis=0))
        out = np.log1p(-np.exp(log_y_hat))
    large = np.exp(log_y_hat[top, cols]).real >= 0.5
    out[top[large], cols[large]] = log_r[large] - np.log1p(np.exp(log_r[large]))
    return out


def _weighted(weight: Array, log_term: Array) -> Array:
    """`weight * log_term`, with `0 * log 0 = 0`."""
    return np.where(weight == 0, 0.0, weight * log_term)


# --- backward ------------------------------------------------------------------------


def dL_dyhat(y_hat: Array, y: Array, *, kind: str = "notes") -> Array:
    """Formula `dL_dyhat`: `∂L/∂ŷ`, shape `(n_L, m)` like `ŷ` (erratum E5).

    ``kind="notes"``: `(1/m) ((1-y)/(1-ŷ) - y/ŷ)`. ``kind="categorical"``: `-(1/m) y/ŷ`.
    A term whose weight is 0 contributes 0, even where `ŷ` is 0 or 1.
    """
    v.check_loss(kind)
    y_hat, y = v.predictions(y_hat, y)
    m = y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        g = -_ratio(y, y_hat)
        if kind == "notes":
            g = g + _ratio(1 - y, 1 - y_hat)
    return g / m


def _ratio(weight: Array, x: Array) -> Array:
    return np.where(weight == 0, 0.0, weight / x)


def softmax_jacobian(y_hat: Array) -> Array:
    """Formula `softmax_jacobian`, correct (erratum E1): `∂ŷ_k/∂a_i = ŷ_k (δ_{ki} - ŷ_i)`.

    `y_hat` is one column `(n,)`; the result is `J = diag(ŷ) - ŷ ŷᵀ`, `(n, n)`.
    """
    y_hat = v.as_array("y_hat", y_hat, ndim=1, finite=True)
    return np.diag(y_hat) - np.outer(y_hat, y_hat)


def dL_daL(y_hat: Array, y: Array, *, kind: str = "notes") -> Array:
    """Formula `dL_daL`, correct (erratum E2): `∂L/∂a_L`, shape `(n_L, m)`.

    Per column, with `g = ∂L/∂ŷ`: `∂L/∂a_L = Jᵀ g = ŷ * (g - gᵀŷ)`. The product `ŷ * g`
    is formed without dividing by `ŷ`: `(1/m) ((1-y) ŷ/(1-ŷ) - y)` for the notes' loss,
    `-y/m` for the categorical one, whose result is then `(ŷ Σ_k y_k - y)/m`, i.e.
    `(ŷ - y)/m` for one-hot labels.
    """
    v.check_loss(kind)
    y_hat, y = v.predictions(y_hat, y)
    m = y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        yhat_g = -y / m
        if kind == "notes":
            yhat_g = yhat_g + _ratio(1 - y, 1 - y_hat) * y_hat / m
    return yhat_g - y_hat * yhat_g.sum(axis=0, keepdims=True)


def dL_dyhat_from_logits(a_L: Array, y: Array, *, kind: str = "notes") -> Array:
    """Formula `dL_dyhat` at `ŷ = softmax(a_L)`, computed from the logits `a_L` `(n_L, m)`.

    Notes
    -----
    `1/ŷ = exp(-log ŷ)` and `1/(1 - ŷ) = exp(-log(1 - ŷ))` with both logarithms taken
    from the logits (see `loss_from_logits`): no `1 - ŷ` is ever formed, so the result
    stays accurate, and finite, where `ŷ` rounds to 1 or underflows to 0.
    """
    v.check_loss(kind)
    a_L, y = _logits_and_labels(a_L, y)
    log_y_hat = log_softmax(a_L)
    with np.errstate(over="ignore", invalid="ignore"):
        g = -_weighted(y, np.exp(-log_y_hat))
        if kind == "notes":
            g = g + _weighted(1 - y, np.exp(-_log1m_softmax(a_L, log_y_hat)))
    return g / y.shape[1]


def dL_daL_from_logits(a_L: Array, y: Array, *, kind: str = "notes") -> Array:
    """Formula `dL_daL` at `ŷ = softmax(a_L)`, computed from the logits `a_L` `(n_L, m)`.

    `backprop.network.backward` uses this form; `dL_daL` is the notes' formula of `ŷ`.

    Notes
    -----
    `dL_daL` from `ŷ` needs `ŷ/(1 - ŷ)`, and `1 - ŷ` cancels when `ŷ` is near 1: within
    `ε` of 1 it loses every digit, and once `ŷ` rounds to 1.0 (a logit gap of about 37)
    the result is NaN. With `s = softmax(a)`, `t_k = (1-y_k) s_k/(1-s_k) - y_k` and
    `∂L/∂a_i = (t_i - s_i Σ_k t_k)/m`, the term `t_i (1 - s_i)` is
    `(1-y_i) s_i - y_i (1-s_i)` exactly, so, per column (times `1/m`),

    `∂L/∂a_i = (1-y_i) s_i - y_i (1-s_i) + s_i Σ_{k≠i} y_k - Σ_{k≠i} (1-y_k) s_i s_k/(1-s_k)`,

    where `log s`, `log(1 - s)` come from the logits without cancellation (see
    `loss_from_logits`) and each product `s_i s_k/(1-s_k) = exp(log s_i + log s_k -
    log(1-s_k))` is at most `s_k` (because `1 - s_k ≥ s_i`): every term is a bounded
    product of accurately known factors. Categorical: `(s_i Σ_{k≠i} y_k - y_i (1-s_i))/m`,
    the same value as `(s_i Σ_k y_k - y_i)/m` without its cancellation.
    """
    v.check_loss(kind)
    a_L, y = _logits_and_labels(a_L, y)
    m = y.shape[1]
    log_s = log_softmax(a_L)
    s = np.exp(log_s)
    one_m_s = np.exp(_log1m_softmax(a_L, log_s))
    others_y = y.sum(axis=0, keepdims=True) - y
    if kind == "categorical":
        return (s * others_y - y * one_m_s) / m
    log_1ms = _log1m_softmax(a_L, log_s)
    # odds_ik = s_i s_k / (1 - s_k), k ≠ i: (n, n, m), the diagonal excluded below (it is
    # infinite where s_k = 1, i.e. for one output class)
    n = a_L.shape[0]
    weight = np.broadcast_to((1 - y)[None, :, :], (n, n, y.shape[1])).copy()
    weight[np.arange(n), np.arange(n), :] = 0.0
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        odds = np.exp(log_s[:, None, :] + (log_s - log_1ms)[None, :, :])
        others = _weighted(weight, odds).sum(axis=1)
    out = (1 - y) * s - y * one_m_s + s * others_y - others
    return out / m


def _logits_and_labels(a_L: Array, y: Array) -> tuple[Array, Array]:
    a_L = v.as_array("a_L", a_L, ndim=2, finite=True)
    y = v.as_array("y", y, ndim=2, finite=True)
    v.same_shape("a_L", a_L, "y", y)
    return a_L, y


def dL_dz(dL_da: Array, z: Array) -> Array:
    """Formula `dL_dz`, correct (erratum E3): `∂L/∂z_l = ∂L/∂a_l * 1_{R+*}(z_l)`.

    Elementwise product; `dL_da` and `z` are both `(n_l, m)`.
    """
    dL_da, z = v.elementwise("dL_da", dL_da, "z", z)
    return dL_da * relu_mask(z)


def dL_da(W_next: Array, dL_dz_next: Array) -> Array:
    """Formula `dL_da`: `∂L/∂a_l = W_{l+1}ᵀ ∂L/∂z_{l+1}`, shape `(n_l, m)`.

    `W_next` is `W_{l+1}` `(n_{l+1}, n_l)`; `dL_dz_next` is `(n_{l+1}, m)`.
    """
    W_next, dL_dz_next = v.product(
        "W_next", W_next, "dL_dz_next", dL_dz_next, axes=(0, 0), what="rows n_{l+1}"
    )
    return W_next.T @ dL_dz_next


def dL_dW(dL_dz: Array, a_prev: Array) -> Array:
    """Formula `dL_dW`: `∂L/∂W_l = ∂L/∂z_l a_{l-1}ᵀ`, shape `(n_l, n_{l-1})` like `W_l`.

    `dL_dz` is `(n_l, m)`, `a_prev` is `a_{l-1}` `(n_{l-1}, m)`, with `a_0 = X`.
    """
    dL_dz, a_prev = v.product("dL_dz", dL_dz, "a_prev", a_prev, axes=(1, 1), what="columns m")
    return dL_dz @ a_prev.T


def dL_db(dL_dz: Array) -> Array:
    """Formula `dL_db`, correct (erratum E4): `∂L/∂b_l = Σ_k (∂L/∂z_l)_k`, shape `(n_l, 1)`.

    The sum over examples keeps its axis, so the result has the shape of `b_l`.
    """
    dL_dz = v.as_array("dL_dz", dL_dz, ndim=2)
    return np.sum(dL_dz, axis=1, keepdims=True)
