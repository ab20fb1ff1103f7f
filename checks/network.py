"""The notes' network as a function of its parameter blocks, fast to differentiate.

`NetworkLoss(X, Y)` is the loss of the notes' network (`backprop.network.network_loss`)
as a function of the blocks ``{"W_1": ..., "b_1": ..., ...}`` of `param_blocks`. It
carries what `check_gradient` uses automatically:

- ``kinks``: the sign pattern of every pre-activation `z_l`;
- ``along_axes``: the loss at many one-entry perturbations of one block at once. A
  perturbed `W_l` or `b_l` leaves the layers below `l` unchanged and changes one row of
  `z_l`: the batch starts from the cached forward pass, updates that row, propagates the
  change to `z_{l+1}` as a rank-one update, and only then runs the remaining layers as
  batched matrix products. It also reports which perturbations changed a sign pattern;
- ``batched``: called with a leading batch axis on every block, it returns one loss per
  point (directional checks use it);
- ``m``: the number of examples, so a factor `m` is recognised in reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from backprop import formulas as f
from backprop import network as net
from backprop.catalog import param_blocks, params_from_blocks
from checks.engine import GradientReport, check_gradient

__all__ = ["NetworkLoss", "network_check"]

Array = npt.NDArray[Any]

_CHUNK = 1 << 18  # entries of the largest batched activation, to bound memory


class NetworkLoss:
    """The loss of the notes' network on `(X, Y)`, as a function of its parameter blocks.

    Parameters
    ----------
    X : array, shape (n_0, m)
        The inputs, examples as columns.
    Y : array, shape (n_L, m)
        The one-hot labels.
    kind : {"notes", "categorical"}
        The loss (see `backprop.formulas.loss`).
    """

    batched = True

    def __init__(self, X: Array, Y: Array, *, kind: str = "notes") -> None:
        self.X = np.asarray(X, dtype=np.float64)
        self.Y = np.asarray(Y, dtype=np.float64)
        if self.X.ndim != 2 or self.Y.ndim != 2 or self.X.shape[1] != self.Y.shape[1]:
            raise ValueError(
                f"`X` (n_0, m) and `Y` (n_L, m) must be 2-D with the same m, got "
                f"{self.X.shape} and {self.Y.shape}"
            )
        if kind not in ("notes", "categorical"):
            raise ValueError(f"`kind` must be 'notes' or 'categorical', got {kind!r}")
        self.kind = kind
        self.m = self.X.shape[1]

    def __repr__(self) -> str:
        return f"NetworkLoss(X {self.X.shape}, Y {self.Y.shape}, kind={self.kind!r})"

    def __call__(self, blocks: Mapping[str, Array]) -> Any:
        if np.ndim(blocks["W_1"]) == 3:
            return self._batch(blocks)
        return net.network_loss(params_from_blocks(blocks), self.X, self.Y, kind=self.kind)

    def rounding_scale(self, blocks: Mapping[str, Array]) -> float:
        """`Σ |∂L/∂a_L|·|a_L|`: the loss's rounding is a few `ε` times it (or `ε|L|`).

        Notes
        -----
        Each logit is rounded to a few `ε|a_L|` by the forward pass, and the loss moves
        by `∂L/∂a_L` per unit of logit: where the softmax saturates on the right class,
        the loss (1e-14) is far smaller than that propagated rounding (logits of 40),
        and a bound of `ε|L|` made correct gradients fail. The engine takes this as
        the scale of its rounding bound (`checks.engine._problem.Problem`).
        """
        params = [
            (np.asarray(W, np.float64), np.asarray(b, np.float64))
            for W, b in params_from_blocks(blocks)
        ]
        a_L = net.forward_cache(params, self.X).a[-1]
        g = f.dL_daL_from_logits(a_L, self.Y, kind=self.kind)
        return float(np.sum(np.abs(g) * np.abs(a_L)))

    def kinks(self, blocks: Mapping[str, Array]) -> Array:
        """The signs of every pre-activation `z_l > 0`, flattened and concatenated."""
        cache = net.forward_cache(params_from_blocks(blocks), self.X)
        return np.concatenate([(z.real > 0).ravel() for z in cache.z])

    def _batch(self, blocks: Mapping[str, Array]) -> Array:
        a: Array = np.broadcast_to(self.X, (len(blocks["W_1"]), *self.X.shape))
        for W, b in params_from_blocks(blocks):
            z = np.matmul(W, a) + b
            a = _relu(z)
        return batched_loss(a, self.Y, self.kind)

    def along_axes(
        self, blocks: Mapping[str, Array], name: str, index: Array, delta: Array
    ) -> tuple[Array, Array]:
        """The loss at `blocks` with entry `index[k]` of block `name` moved by `delta[k]`.

        Returns the `k` losses and whether each perturbation changed the sign of any
        pre-activation (crossed a kink).

        Notes
        -----
        Entry `(i, j)` of `W_l` (or `i` of `b_l`) moves row `i` of `z_l` only, and changes
        `a_l` only in the examples where unit `i` is active (or becomes active), so only
        those columns are propagated: the loss is its value at `blocks` plus the change
        of their per-example terms.
        """
        # float64 parameters: a float32 point's products of weights (`_linear_maps`) in
        # float32 were off by ε₃₂ relative, 6e-8 of every change of the loss
        params = [
            (
                np.asarray(W, np.result_type(W, np.float64)),
                np.asarray(b, np.result_type(b, np.float64)),
            )
            for W, b in params_from_blocks(blocks)
        ]
        cache = net.forward_cache(params, self.X)
        l = int(name.split("_")[1])
        if name.startswith("W_"):
            i, j = np.divmod(index, params[l - 1][0].shape[1])
            dz = delta[:, None] * cache.a[l - 1][j, :]
        else:
            i = np.asarray(index)
            dz = np.broadcast_to(delta[:, None], (len(index), self.m))
        base = _column_losses(cache.a[-1][:, None, :], self.Y, self.kind, self.m)[0]
        f0 = base.sum()
        widest = max(w.shape[0] for w, _ in params[l - 1 :])
        values = np.empty(len(index), dtype=np.result_type(float, delta.dtype))
        crossed = np.empty(len(index), dtype=bool)
        order = np.argsort(i, kind="stable")
        units, starts = np.unique(i[order], return_index=True)
        L = len(params)
        linear = _linear_maps(params, cache, l) if l < L else None
        for unit, sel in zip(units, np.split(order, starts[1:]), strict=True):
            z_row = cache.z[l - 1][unit, :] + dz[sel]
            on = cache.z[l - 1][unit] > 0
            crossed[sel] = np.any((z_row.real > 0) != on, axis=1)
            values[sel] = f0
            cols = np.flatnonzero(on)
            exact = np.ones(len(sel), dtype=bool)
            if linear is not None and cols.size:
                J, rho = linear[0][unit][:, cols], linear[1][unit, cols]
                exact = crossed[sel] | np.any(np.abs(dz[sel][:, cols]) >= rho, axis=1)
                fast = sel[~exact]
                per = max(1, _CHUNK // (J.shape[0] * cols.size))
                for lo in range(0, len(fast), per):
                    part = fast[lo : lo + per]
                    z_L = cache.z[L - 1][:, None, cols] + J[:, None, :] * dz[part][:, cols]
                    on_L = (cache.z[L - 1][:, cols] > 0)[:, None, :]
                    crossed[part] = ((z_L.real > 0) != on_L).any(axis=0).any(axis=1)
                    new = _column_losses(_relu(z_L), self.Y[:, cols], self.kind, self.m)
                    values[part] = f0 + (new - base[cols]).sum(axis=1)
            # an example where the unit switches on joins the ones that change
            woken = np.any(z_row.real[:, ~on] > 0, axis=1)
            for mask, use in ((exact & ~woken, cols), (exact & woken, np.arange(self.m))):
                group = sel[mask]
                if not use.size or not group.size:
                    continue
                rows = z_row[mask][:, use]
                per = max(1, _CHUNK // (widest * use.size))
                for lo in range(0, len(group), per):
                    part = group[lo : lo + per]
                    new, cross = self._from_layer(params, cache, l, unit, rows[lo : lo + per], use)
                    values[part] = f0 + (new - base[use]).sum(axis=1)
                    crossed[part] |= cross
        return values, crossed

    def _from_layer(
        self,
        params: Sequence[tuple[Array, Array]],
        cache: net.Cache,
        l: int,
        i: int,
        z_row: Array,
        cols: Array,
    ) -> tuple[Array, Array]:
        """Per-example losses `(k, c)` of the examples `cols` when row `i` of `z_l`
        there becomes `z_row` `(k, c)`, and which of the `k` crossed a kink above `l`.

        The batch is laid out `(n, k, c)`, units first, so that each layer above is one
        matrix product `W_l @ (n_{l-1}, k·c)` and the softmax reduces over rows.
        """
        a_row = _relu(z_row)
        L = len(params)
        k, c = z_row.shape
        Y = self.Y[:, cols]
        crossed = np.zeros(k, dtype=bool)
        if l == L:
            a = np.repeat(cache.a[L][:, None, cols], k, axis=1).astype(a_row.dtype)
            a[i] = a_row
            return _column_losses(a, Y, self.kind, self.m), crossed
        # z_{l+1} changes by the column W_{l+1}[:, i] times the change of row i of a_l.
        da_row = a_row - cache.a[l][i, cols]
        z = cache.z[l][:, None, cols] + params[l][0][:, i][:, None, None] * da_row[None, :, :]
        for layer in range(l + 1, L + 1):
            changed = (z.real > 0) != (cache.z[layer - 1][:, cols] > 0)[:, None, :]
            crossed |= changed.any(axis=0).any(axis=1)
            a = _relu(z)
            if layer == L:
                break
            W, b = params[layer]
            z = (W @ a.reshape(a.shape[0], -1)).reshape(W.shape[0], k, c) + b[:, :, None]
        return _column_losses(a, Y, self.kind, self.m), crossed


def _linear_maps(
    params: Sequence[tuple[Array, Array]],
    cache: net.Cache,
    l: int,
) -> tuple[Array, Array]:
    """How `z_L` moves with `a_l`, example by example, while no ReLU above `l` switches.

    Returns `J` `(n_l, n_L, m)`, with `J[i, :, c] = ∂z_L[:, c] / ∂a_l[i, c]` (the product
    of the `W_q` and the masks of the layers between), and `rho` `(n_l, m)`: while
    `|δa_l[i, c]| < rho[i, c]`, no pre-activation between `l` and `L` changes sign, so
    `z_L + δa_l[i, c] J[i, :, c]` is exactly the `z_L` of the moved point (the network
    is linear there) and is computed without running the layers above.
    """
    L = len(params)
    m = cache.z[0].shape[1]
    J = np.broadcast_to(params[l][0], (m, *params[l][0].shape))  # (m, n_{l+1}, n_l)
    rho = np.full((params[l - 1][0].shape[0], m), np.inf)
    for q in range(l + 1, L):  # the ReLUs of the layers strictly between l and L
        z = cache.z[q - 1].T[:, :, None]  # (m, n_q, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.abs(z) / np.abs(J)
        room[J == 0] = np.inf  # a unit that does not move never crosses, even at z = 0
        rho = np.minimum(rho, room.min(axis=1).T)
        J = params[q][0][None] @ ((cache.z[q - 1].T > 0)[:, :, None] * J)
    # a half of the room: rounding of δa and z must not decide a sign
    return np.ascontiguousarray(J.transpose(2, 1, 0)), rho / 2


def _relu(z: Array) -> Array:
    return np.where(z.real > 0, z, 0.0) if np.iscomplexobj(z) else np.maximum(z, 0.0)


def batched_loss(a_L: Array, Y: Array, kind: str) -> Array:
    """Formula `loss` from logits, for a batch `a_L` `(k, n_L, m)`: `k` losses.

    Notes
    -----
    The evaluation of `backprop.formulas.loss_from_logits`, vectorised. With `t` a
    column's largest entry, `e_j = exp(a_j - a_t)` and `r = Σ_{j≠t} e_j`:
    `log ŷ = a - a_t - log1p(r)`, `log(1 - ŷ_t) = log r - log1p(r)` and, for `j ≠ t`,
    `ŷ_j = e_j / (1 + r) ≤ 1/2`. For one-hot labels the sum of `log(1 - ŷ_j)` over a
    column is the logarithm of a product of factors in `[1/2, 1]`: one logarithm per
    column instead of one per entry, with an absolute error of a few `ε` per column,
    below the `ε|f|` of any evaluation. Where `r` underflows, `log r` is a log-sum-exp
    of the others, so the loss stays exact for saturated columns.
    """
    Y = np.asarray(Y)
    return np.asarray(
        _column_losses(np.moveaxis(np.asarray(a_L), 0, 1), Y, kind, Y.shape[1]).sum(axis=1)
    )


def _column_losses(a: Array, Y: Array, kind: str, m: int) -> Array:
    """The loss terms of each example, `(k, c)`, for logits `a` `(n_L, k, c)`.

    The loss is their sum; `m` is the number of examples of the whole loss.
    """
    amax = a.real.max(axis=0)
    top = a.real == amax
    count = top.sum(axis=0)
    a_top = amax if not np.iscomplexobj(a) else (a * top).sum(axis=0) / count
    shifted = a - a_top
    e = np.exp(shifted)
    e[top] = 0.0
    r = e.sum(axis=0) + (count - 1)
    log_s = np.log1p(r)
    one_hot = bool(np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=0) == 1))
    if one_hot:  # gather the label's row instead of weighting every row
        label, cols = np.argmax(Y, axis=0), np.arange(Y.shape[1])
        terms = shifted[label, :, cols].T - log_s
    else:
        terms = (Y[:, None, :] * shifted).sum(axis=0) - log_s * Y.sum(axis=0)
    if kind == "notes":
        at_top = _log_others(r, shifted, top) - log_s
        e /= 1 + r  # ŷ, with 0 at the maxima: they are counted through `at_top`
        if one_hot:
            terms = terms + _times(count - top[label, :, cols].T, at_top)
            # Σ_{j ≠ label, top} log(1 - ŷ_j): one logarithm of a product of factors
            # in [1/2, 1], the label's factor divided out (ŷ_label ≤ 1/2 when not top)
            # Where the ŷ_j are all tiny (a saturated column) that product rounds to 1 and
            # loses them, though the column's loss is of their size: there, log1p each.
            kk, cc = np.nonzero(e.real.sum(axis=0) < 1e-3)
            if kk.size:
                exact = np.log1p(-e[:, kk, cc]).sum(axis=0) - np.log1p(-e[label[cc], kk, cc])
            np.subtract(1.0, e, out=e)
            product = e[0].copy()
            for row in e[1:]:  # faster than np.prod over the leading axis
                product *= row
            others = np.log(product / e[label, :, cols].T)
            if kk.size:
                others[kk, cc] = exact
            terms = terms + others
        else:
            off = (1 - Y)[:, None, :]
            terms = terms + _times((top * off).sum(axis=0), at_top)
            terms = terms + (off * np.log1p(-e)).sum(axis=0)
    return np.asarray(-terms / m)


def _log_others(r: Array, shifted: Array, top: Array) -> Array:
    """`log r`, `r = Σ_{j≠t} exp(shifted_j)`, exact where `r` underflows (a log-sum-exp)."""
    tiny = r.real < 1e-280
    with np.errstate(divide="ignore"):
        out = np.log(np.where(tiny, 1.0, r))
    if tiny.any():
        others = np.where(top[:, tiny], -np.inf, shifted[:, tiny])
        s2 = others.real.max(axis=0)
        s2 = np.where(np.isfinite(s2), s2, 0.0)  # one output class: no others, log r = -inf
        with np.errstate(divide="ignore"):
            out[tiny] = s2 + np.log(np.exp(others - s2).sum(axis=0))
    return out


def _times(weight: Array, x: Array) -> Array:
    """`weight * x`, 0 where `weight` is 0 even if `x` is infinite (`0 log 0 = 0`)."""
    return np.where(weight == 0, 0.0, weight * np.where(weight == 0, 0.0, x))


def network_check(
    params: Sequence[tuple[Array, Array]] | Mapping[str, Array],
    X: Array,
    Y: Array,
    grads: Sequence[tuple[Array, Array]] | Mapping[str, Array],
    *,
    kind: str = "notes",
    **options: Any,
) -> GradientReport:
    """`check_gradient` of the notes' network: `grads` against the loss at `params`.

    `params` and `grads` are lists of `(W_l, b_l)` pairs (as `backward` returns) or
    named blocks; `options` go to `check_gradient` (``method``, ``mode``, ...).
    """
    x = params if isinstance(params, Mapping) else param_blocks(params)
    if isinstance(grads, Mapping):
        g: Mapping[str, Any] = grads
    else:
        g = {
            f"{k}_{layer}": v
            for layer, pair in enumerate(grads, 1)
            for k, v in zip("Wb", pair, strict=True)
        }
    return check_gradient(NetworkLoss(X, Y, kind=kind), g, x, **options)
