"""The reference of every contract function under a `Course`'s conventions.

`CourseReference(course)` has one method per function of the submission contract, with
the contract's names and arguments, taking and returning arrays in the course's layout,
label format and bias shape. Under ``Course()`` they equal `backprop.formulas` and
`backprop.network`. Under another course the contract's slots keep their roles:

- `relu(z)`, `relu_mask(z)`: the hidden activation `g` and its derivative `g'(z)`;
- `softmax(a)`: the output function (a softmax over each example, or a sigmoid);
- `softmax_jacobian(y_hat)`: `∂ŷ/∂a_L` of one example;
- `dL_dz(dL_da, z)`: `∂L/∂a * g'(z)`;
- `dL_dW`, `dL_db`: the data term of the gradient; `backward` adds the L2 term.

Each converts to the canonical layout of `backprop._course_math` and back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from backprop import _course_math as cm
from backprop import _validate as v
from backprop._validate import Array
from backprop.course import Course

__all__ = ["CourseReference"]


class CourseReference:
    """The correct contract functions of one `Course` (default: the notes')."""

    def __init__(self, course: Course | None = None) -> None:
        self.course = course if course is not None else Course()

    # --- conversions between the course's conventions and the canonical layout -----

    @property
    def rows(self) -> bool:
        return self.course.layout == "rows"

    def to_columns(self, name: str, x: Any) -> Array:
        """A 2-D array of the course's layout as columns-are-examples."""
        arr = v.as_array(name, x, ndim=2)
        return arr.T if self.rows else arr

    def from_columns(self, x: Array) -> Array:
        return x.T if self.rows else x

    def one_hot(self, name: str, y: Any, n: int, m: int) -> Array:
        """Labels in the course's format as one-hot columns `(n, m)`."""
        if self.course.labels == "one-hot":
            Y = self.to_columns(name, y)
            if Y.shape != (n, m):
                want = (m, n) if self.rows else (n, m)
                raise ValueError(f"`{name}` must have shape {want}, got {np.shape(y)}")
            return Y
        labels = np.asarray(y)
        if labels.shape != (m,) or labels.dtype.kind not in "iu":
            raise ValueError(
                f"`{name}` must be {m} integer class indices, shape ({m},), got an array of "
                f"shape {labels.shape} and dtype {labels.dtype}"
            )
        if labels.size and (labels.min() < 0 or labels.max() >= n):
            raise ValueError(f"`{name}` must hold class indices in 0..{n - 1}")
        Y = np.zeros((n, m))
        Y[labels, np.arange(m)] = 1.0
        return Y

    def labels_from_one_hot(self, Y: Array) -> Array:
        """One-hot columns `(n, m)` in the course's label format."""
        if self.course.labels == "integers":
            return np.asarray(np.argmax(Y, axis=0), dtype=np.int64)
        return self.from_columns(Y)

    def params_to_columns(self, params: Any) -> list[tuple[Array, Array]]:
        """`params` of the course as `[(W (n_l, n_{l-1}), b (n_l, 1))]`, validated."""
        if isinstance(params, np.ndarray) or not isinstance(params, Sequence) or not params:
            raise TypeError("`params` must be a non-empty list of (W_l, b_l) pairs, in layer order")
        out = []
        for l, pair in enumerate(params, start=1):
            if not isinstance(pair, Sequence) or len(pair) != 2:
                raise TypeError(f"`params[{l - 1}]` must be a pair (W_{l}, b_{l})")
            W = self.to_columns(f"W_{l}", pair[0])
            b = v.as_array(f"b_{l}", pair[1])
            want = self.course.bias_shape(W.shape[0])
            if b.shape != want:
                raise ValueError(
                    f"`b_{l}` must have shape {want} (bias = {self.course.bias!r}) to match "
                    f"`W_{l}` {np.shape(pair[0])}, got {b.shape}"
                )
            out.append((W, b.reshape(-1, 1)))
        return v.params_list(out)

    def params_from_columns(
        self, params: Sequence[tuple[Array, Array]]
    ) -> list[tuple[Array, Array]]:
        return [
            (self.from_columns(W), b.reshape(self.course.bias_shape(b.shape[0]))) for W, b in params
        ]

    def inputs(self, P: list[tuple[Array, Array]], X: Any) -> Array:
        """`X` of the course as columns, checked against `W_1`'s `n_0`."""
        Xc = self.to_columns("X", X)
        if not np.all(np.isfinite(Xc)):
            raise ValueError("`X` must be finite")
        n_0 = P[0][0].shape[1]
        if Xc.shape[0] != n_0:
            want = "(m, n_0)" if self.rows else "(n_0, m)"
            raise ValueError(
                f"`X` must have shape {want} with n_0 = {n_0} to match `W_1`, got {np.shape(X)}"
            )
        return Xc

    def from_canonical(
        self, params: Sequence[tuple[Array, Array]], X: Array, Y: Array
    ) -> tuple[list[tuple[Array, Array]], Array, Array]:
        """A point of the notes' conventions (columns, `(n, 1)`, one-hot) in the course's."""
        return self.params_from_columns(params), self.from_columns(X), self.labels_from_one_hot(Y)

    def _data(self, params: Any, X: Any, Y: Any) -> tuple[list[tuple[Array, Array]], Array, Array]:
        P = self.params_to_columns(params)
        Xc = self.inputs(P, X)
        return P, Xc, self.one_hot("Y", Y, P[-1][0].shape[0], Xc.shape[1])

    def _yhat_y(self, y_hat: Any, y: Any) -> tuple[Array, Array]:
        Yh = self.to_columns("y_hat", y_hat)
        v.probabilities("y_hat", Yh)
        return Yh, self.one_hot("y", y, *Yh.shape)

    # --- the contract ---------------------------------------------------------------

    def relu(self, z: Any) -> Array:
        """The hidden activation `g(z)`, elementwise; any shape."""
        return cm.activation(self.course, v.as_array("z", z))

    def relu_mask(self, z: Any) -> Array:
        """The hidden activation's derivative `g'(z)`, elementwise."""
        return cm.activation_derivative(self.course, v.as_array("z", z))

    def softmax(self, a: Any) -> Array:
        """The output function on `a_L`, per example."""
        return self.from_columns(cm.output(self.course, self.to_columns("a", a)))

    def decide(self, a: Any) -> Array:
        """1 where an entry is its example's maximum, else 0."""
        A = self.to_columns("a", a)
        if not np.all(np.isfinite(A)):
            raise ValueError("`a` must be finite")
        return self.from_columns((A.max(axis=0, keepdims=True) == A).astype(np.float64))

    def loss(self, y_hat: Any, y: Any) -> Array:
        """The course's loss of `y_hat` against `y`, without the L2 term; 0-d."""
        return cm.loss_from_probabilities(self.course, *self._yhat_y(y_hat, y))

    def softmax_jacobian(self, y_hat: Any) -> Array:
        """`∂ŷ/∂a_L` of one example `y_hat` `(n,)`, `(n, n)`."""
        return cm.jacobian(self.course, v.as_array("y_hat", y_hat, ndim=1, finite=True))

    def dL_dyhat(self, y_hat: Any, y: Any) -> Array:
        return self.from_columns(cm.dL_dyhat(self.course, *self._yhat_y(y_hat, y)))

    def dL_daL(self, y_hat: Any, y: Any) -> Array:
        return self.from_columns(cm.dL_daL(self.course, *self._yhat_y(y_hat, y)))

    def dL_dz(self, dL_da: Any, z: Any) -> Array:
        dL_da_arr, z_arr = v.elementwise("dL_da", dL_da, "z", z)
        return dL_da_arr * cm.activation_derivative(self.course, z_arr)

    def dL_da(self, W_next: Any, dL_dz_next: Any) -> Array:
        W = self.to_columns("W_next", W_next)
        dz = self.to_columns("dL_dz_next", dL_dz_next)
        if W.shape[0] != dz.shape[0]:
            raise ValueError(
                f"`W_next` {np.shape(W_next)} and `dL_dz_next` {np.shape(dL_dz_next)} "
                "must agree on n_{l+1}"
            )
        return self.from_columns(W.T @ dz)

    def dL_dW(self, dL_dz: Any, a_prev: Any) -> Array:
        dz = self.to_columns("dL_dz", dL_dz)
        a = self.to_columns("a_prev", a_prev)
        if dz.shape[1] != a.shape[1]:
            raise ValueError(
                f"`dL_dz` {np.shape(dL_dz)} and `a_prev` {np.shape(a_prev)} must have the "
                "same number of examples"
            )
        return self.from_columns(dz @ a.T)

    def dL_db(self, dL_dz: Any) -> Array:
        dz = self.to_columns("dL_dz", dL_dz)
        out: Array = np.sum(dz, axis=1).reshape(self.course.bias_shape(dz.shape[0]))
        return out

    def forward(self, params: Any, X: Any) -> Array:
        P = self.params_to_columns(params)
        Xc = self.inputs(P, X)
        _, _, a_L = cm.forward(self.course, P, Xc)
        return self.from_columns(cm.output(self.course, a_L))

    def backward(self, params: Any, X: Any, Y: Any) -> list[tuple[Array, Array]]:
        """`[(∂L/∂W_l, ∂L/∂b_l)]` shaped like `params`, the L2 term included."""
        p = self.gradients(params, X, Y)
        return self.params_from_columns(list(zip(p.dW, p.db, strict=True)))

    # --- beyond the contract --------------------------------------------------------

    def gradients(self, params: Any, X: Any, Y: Any) -> cm.Pass:
        """The whole pass, in the canonical layout (for test points and diagnoses)."""
        return cm.backward(self.course, *self._data(params, X, Y))

    def network_loss(self, params: Any, X: Any, Y: Any) -> Array:
        """The loss `backward` differentiates: the data term and the L2 term."""
        P, Xc, Yc = self._data(params, X, Y)
        _, _, a_L = cm.forward(self.course, P, Xc)
        return cm.loss_from_logits(self.course, a_L, Yc) + cm.penalty(self.course, P)

    def blocks(self, params: Sequence[tuple[Any, Any]]) -> dict[str, Array]:
        """`params` as named blocks `{"W_1": ..., "b_1": ...}`, in the course's shapes."""
        out: dict[str, Array] = {}
        for l, (W, b) in enumerate(params, start=1):
            out[f"W_{l}"], out[f"b_{l}"] = np.asarray(W), np.asarray(b)
        return out

    def kinks(self, X: Any) -> Any:
        """A kink pattern of the network's loss as a function of its blocks, or None.

        The signs of every pre-activation that goes through a ReLU (or leaky ReLU):
        two evaluations with different patterns straddle a kink. None when the
        network is smooth (sigmoid or tanh hidden layers, no ReLU before the output).
        """
        relu_hidden = self.course.hidden in ("relu", "leaky_relu")
        if not relu_hidden and not self.course.has_last_relu:
            return None

        def pattern(blocks: Mapping[str, Array]) -> Array:
            P = self.params_to_columns(_pairs(blocks))
            zs, _, _ = cm.forward(self.course, P, self.to_columns("X", X))
            L = len(zs)
            keep = [
                z.real > 0
                for l, z in enumerate(zs, start=1)
                if (l < L and relu_hidden) or (l == L and self.course.has_last_relu)
            ]
            return np.concatenate([k.ravel() for k in keep] or [np.zeros(0, bool)])

        return pattern


def _pairs(blocks: Mapping[str, Array]) -> list[tuple[Array, Array]]:
    L = len(blocks) // 2
    return [(blocks[f"W_{l}"], blocks[f"b_{l}"]) for l in range(1, L + 1)]
