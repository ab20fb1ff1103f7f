"""The notes' network: the forward pass and the backward pass, built from the formulas.

`a_0 = X`; for `l = 1..L`: `z_l = W_l a_{l-1} + b_l`, `a_l = relu(z_l)`; `ŷ = softmax(a_L)`.
ReLU is applied to the last layer too, before the softmax, as in the notes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np

from backprop import _validate as v
from backprop import formulas as f
from backprop._validate import Array, Params

__all__ = [
    "Cache",
    "Gradients",
    "backward",
    "forward",
    "forward_cache",
    "gradients",
    "network_loss",
]


@dataclass(frozen=True)
class Cache:
    """Every intermediate of one forward pass.

    `z[l - 1]` is `z_l` and `a[l]` is `a_l` for `l = 1..L`; `a[0]` is `X`.
    """

    z: list[Array]
    a: list[Array]
    y_hat: Array

    @property
    def L(self) -> int:
        return len(self.z)


@dataclass(frozen=True)
class Gradients:
    """Every intermediate of one backward pass; `dz[l - 1]` is `∂L/∂z_l`, and so on."""

    dyhat: Array
    daL: Array
    da: list[Array]
    dz: list[Array]
    dW: list[Array]
    db: list[Array]

    def pairs(self) -> list[tuple[Array, Array]]:
        return list(zip(self.dW, self.db, strict=True))


def forward_cache(params: Params, X: Array) -> Cache:
    """Formula `forward`, keeping every `z_l` and `a_l`. `X` is `(n_0, m)`."""
    checked = v.params_list(params)
    a_prev = v.inputs(checked, X)
    zs, activations = [], [a_prev]
    for W, b in checked:
        z = W @ a_prev + b
        a_prev = f.relu(z)
        zs.append(z)
        activations.append(a_prev)
    return Cache(z=zs, a=activations, y_hat=f.softmax(a_prev))


def forward(params: Params, X: Array) -> Array:
    """Formula `forward`: `ŷ = softmax(relu(z_L))`, shape `(n_L, m)`."""
    return forward_cache(params, X).y_hat


def network_loss(params: Params, X: Array, Y: Array, *, kind: str = "notes") -> Array:
    """The loss of the network on `(X, Y)`, through log-softmax (see `loss_from_logits`)."""
    cache = forward_cache(params, X)
    v.labels(v.params_list(params), cache.a[0], Y)
    return f.loss_from_logits(cache.a[-1], Y, kind=kind)


def gradients(
    params: Params,
    X: Array,
    Y: Array,
    *,
    kind: str = "notes",
    using: Mapping[str, Callable[..., Array]] | None = None,
) -> Gradients:
    """The backward pass of the notes, with the correct formulas, keeping every step.

    `using` replaces formulas by id (``"dL_daL"``, ``"dL_dz"``, ``"dL_da"``, ``"dL_dW"``,
    ``"dL_db"``), called with the formula's arguments alone; the errata report chains the
    notes' forms this way to find which erratum a wrong backward pass comes from.

    Notes
    -----
    `∂L/∂ŷ` and, unless `using` replaces it, `∂L/∂a_L` are computed from the logits
    `a_L` (`dL_dyhat_from_logits`, `dL_daL_from_logits`), not from `ŷ`: from `ŷ`, the
    `1 - ŷ` of the notes' loss cancels where the softmax saturates, and is 0 (a NaN
    gradient under a finite loss) once `ŷ` rounds to 1.
    """
    step: dict[str, Callable[..., Array]] = {
        "dL_daL": partial(f.dL_daL, kind=kind),
        "dL_dz": f.dL_dz,
        "dL_da": f.dL_da,
        "dL_dW": f.dL_dW,
        "dL_db": f.dL_db,
        **(using or {}),
    }
    checked = v.params_list(params)
    cache = forward_cache(checked, X)
    Y = v.labels(checked, cache.a[0], Y)
    L = cache.L
    da: list[Array] = [np.empty(0)] * L
    dz: list[Array] = [np.empty(0)] * L
    if using and "dL_daL" in using:
        da[L - 1] = step["dL_daL"](cache.y_hat, Y)
    else:
        da[L - 1] = f.dL_daL_from_logits(cache.a[-1], Y, kind=kind)
    for l in range(L, 0, -1):  # l is the notes' layer index
        dz[l - 1] = step["dL_dz"](da[l - 1], cache.z[l - 1])
        if l > 1:
            da[l - 2] = step["dL_da"](checked[l - 1][0], dz[l - 1])
    return Gradients(
        dyhat=f.dL_dyhat_from_logits(cache.a[-1], Y, kind=kind),
        daL=da[L - 1],
        da=da,
        dz=dz,
        dW=[step["dL_dW"](dz[l - 1], cache.a[l - 1]) for l in range(1, L + 1)],
        db=[step["dL_db"](dz[l - 1]) for l in range(1, L + 1)],
    )


def backward(
    params: Params, X: Array, Y: Array, *, kind: str = "notes"
) -> list[tuple[Array, Array]]:
    """Formula `backward`: `[(∂L/∂W_l, ∂L/∂b_l) for l = 1..L]`, shaped like `params`."""
    return gradients(params, X, Y, kind=kind).pairs()
