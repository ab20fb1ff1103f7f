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

import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from backprop import formulas as f
from backprop import network as net
from backprop.catalog import param_blocks, params_from_blocks
from checks._network_kernel import LineLoss
from checks.engine import GradientReport, check_gradient

__all__ = ["NetworkLoss", "network_check"]

Array = npt.NDArray[Any]

#: What `along_axes` computes once per point: parameters, forward pass, per-example
#: losses and the fast path's `LineLoss`.
_State = tuple[list[tuple[Array, Array]], net.Cache, Array, LineLoss | None]

#: The default bound on the temporaries of `along_axes`, in bytes.
MEMORY = 64 << 20
#: The logits of one `along_axes` call from which "auto" loads the compiled kernel.
_WORTH_COMPILING = 5e7
#: The kernel's batch, in bytes: small enough to stay in a core's cache.
_KERNEL_BYTES = 1 << 20


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
    memory : int
        A bound, in bytes, on the temporaries of `along_axes` (64 MiB by default): it
        takes the units of a layer in chunks that fit, whatever the number of
        parameters. Its inputs and outputs (`k` steps and values) are not counted.
        It is also the default budget of a full `check_gradient` of this function
        (its ``memory``), which takes the entries in ranges that fit.
    kernel : {"auto", "numpy", "numba"}
        Who evaluates the loss along the fast path of `along_axes`: numpy (the
        reference), or loops compiled by numba (the optional extra ``fast``), the
        same values to a few ulps of the loss in a fraction of the time. "auto" takes numba where it
        is installed and the check is large enough to pay for loading it (see
        `_compiled`); "numba" requires it.
    """

    batched = True
    #: Complex-safe, and each ReLU picks its piece by the real part of `z`: a complex
    #: step at `x` differentiates `x`'s own piece, at a kink too (the engine uses it
    #: for the entries whose central difference crosses one).
    complex_safe = True

    def __init__(
        self,
        X: Array,
        Y: Array,
        *,
        kind: str = "notes",
        memory: int = MEMORY,
        kernel: str = "auto",
    ) -> None:
        self.X = np.asarray(X, dtype=np.float64)
        self.Y = np.asarray(Y, dtype=np.float64)
        if self.X.ndim != 2 or self.Y.ndim != 2 or self.X.shape[1] != self.Y.shape[1]:
            raise ValueError(
                f"`X` (n_0, m) and `Y` (n_L, m) must be 2-D with the same m, got "
                f"{self.X.shape} and {self.Y.shape}"
            )
        if kind not in ("notes", "categorical"):
            raise ValueError(f"`kind` must be 'notes' or 'categorical', got {kind!r}")
        if isinstance(memory, bool) or not isinstance(memory, int) or memory < 1 << 20:
            raise ValueError(f"`memory` must be an int of at least 1 MiB (bytes), got {memory!r}")
        if kernel not in ("auto", "numpy", "numba"):
            raise ValueError(f"`kernel` must be 'auto', 'numpy' or 'numba', got {kernel!r}")
        if kernel == "numba" and _compiled("numba", 0) is None:
            raise ValueError("`kernel='numba'` needs numba: pip install 'backprop-check[fast]'")
        self.kind = kind
        self.memory = memory
        self.kernel = kernel
        self._last: tuple[dict[str, Array], _State] | None = None
        self.m = self.X.shape[1]

    def __repr__(self) -> str:
        return f"NetworkLoss(X {self.X.shape}, Y {self.Y.shape}, kind={self.kind!r})"

    def __call__(self, blocks: Mapping[str, Array]) -> Any:
        """The loss at `blocks` (a batch of points: one loss each).

        At a float64 point, the sum of the per-example terms of the forward pass that
        `along_axes`, `kinks` and `rounding_scale` share (one pass for all, where each
        took its own): `backprop.network.network_loss` to rounding, which other points
        (float32, complex) get."""
        if np.ndim(blocks["W_1"]) == 3:
            return self._batch(blocks)
        if _float64(blocks):  # the point `along_axes` starts from: its losses, summed
            return self._at(blocks)[2].sum()
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
        a_L = self._at(blocks)[1].a[-1]  # the forward pass `along_axes` starts from
        g = f.dL_daL_from_logits(a_L, self.Y, kind=self.kind)
        return float(np.sum(np.abs(g) * np.abs(a_L)))

    def kinks(self, blocks: Mapping[str, Array]) -> Array:
        """The signs of every pre-activation `z_l > 0`, flattened and concatenated."""
        if _float64(blocks):  # the forward pass `along_axes` starts from
            cache = self._at(blocks)[1]
        else:
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
        Entry `(i, j)` of `W_l` (or `i` of `b_l`) moves row `i` of `z_l` only, by
        `δ·a_{l-1}[j, c]` (or `δ`) in example `c`. While that change is below the
        *room* of the example (half of `|z_l[i, c]|` and, where unit `i` is active, half
        the distance of every pre-activation above to its kink divided by how fast it
        moves), no ReLU switches: the network is linear there and the logits are
        exactly `a_L + t·G_i` (`G_i = ∂a_L/∂z_l[i]` with the masks of the point). The
        loss is then its value at `blocks` plus the change of the active examples'
        terms, evaluated by `LineLoss` in a few fused passes. The half keeps rounding
        from deciding a sign. Every other perturbation (one that may cross a kink)
        takes the exact path, `_from_layer`, which runs the layers above and reports
        the kinks crossed. Units are taken in chunks whose temporaries fit in
        `memory` bytes; a bias is a weight whose input is 1 in every example. With the
        compiled kernel (`kernel`), the real steps of a chunk's units are evaluated by
        `checks._network_jit.units_change` in one call instead of `LineLoss` unit by
        unit: the same values to a few ulps of the loss.
        """
        index, delta = np.asarray(index), np.asarray(delta)
        params, cache, base, line = self._at(blocks)
        f0 = base.sum()
        l = int(name.split("_")[1])
        n_in = params[l - 1][0].shape[1]
        is_W = name.startswith("W_")
        unit_of = index // n_in if is_W else index
        values = np.full(len(index), f0, dtype=np.result_type(float, delta.dtype))
        crossed = np.zeros(len(index), dtype=bool)
        # a range of entries moved one way (a forward or complex step, a sample) comes
        # sorted: no sort's cost then; central differences ask for it twice, + then -
        ascending = bool(np.all(unit_of[1:] >= unit_of[:-1]))
        order = np.arange(len(index)) if ascending else np.argsort(unit_of, kind="stable")
        sorted_units = unit_of[order]  # sorted already: its runs, without np.unique's sort
        bounds = _runs(sorted_units)  # unit u's entries: order[bounds[u]:bounds[u + 1]]
        units = sorted_units[bounds[:-1]]
        exact = _Exact(self, params, cache, l, base, f0, is_W)
        per = self._units_per_chunk(params, l)
        compiled = None  # real steps only (a complex one is numpy's)
        if line is not None and not np.iscomplexobj(delta):
            compiled = _compiled(self.kernel, len(index) * float(cache.a[-1].size))
            if compiled is not None:
                from checks._network_jit import units_change

                delta = np.asarray(delta, dtype=np.float64)
        # the inputs of layer l, examples first, and their sizes; a bias is a weight
        # whose input is 1 in every example
        A = cache.a[l - 1] if is_W else np.ones((1, self.m))
        A_T = np.ascontiguousarray(A.T)
        abs_A = np.abs(A)
        A_max = abs_A.max(axis=1, initial=0.0)
        for lo in range(0, len(units), per):
            chunk = units[lo : lo + per]
            edges = bounds[lo : lo + len(chunk) + 1]
            sel = order[edges[0] : edges[-1]]  # the chunk's entries, unit by unit
            u_of = np.repeat(np.arange(len(chunk)), np.diff(edges))
            if line is None:  # soft labels: the exact path only
                self._exact(exact, chunk, u_of, sel, index, delta, values, crossed)
                continue
            gains, room = _gains(params, cache, l, chunk)
            j = index[sel] - chunk[u_of] * n_in if is_W else np.zeros(len(sel), np.intp)
            # |δ·A[j, c]| < room[c] for every example c: first with the largest |A[j, c]|
            # and the smallest room (which implies it), then in full for the few that
            # this bound leaves
            ok = np.abs(delta[sel]) * A_max[j] < room.min(axis=1)[u_of]
            if not ok.all():
                rest = np.flatnonzero(~ok)
                with np.errstate(divide="ignore", invalid="ignore"):
                    limit = (room[u_of[rest]] / abs_A[j[rest]]).min(axis=1)
                ok[rest] = np.abs(delta[sel[rest]]) < limit
            active = cache.z[l - 1][chunk] > 0
            fast, uf, jf = sel[ok], u_of[ok], j[ok]
            if compiled is not None and fast.size:  # the compiled kernel, where it can
                change = values[fast]
                took = units_change(
                    compiled, line, gains, active, A_T, uf, jf, delta[fast], change
                )[uf]
                if took.all():  # the usual case, without a mask's copies
                    values[fast] = change
                    fast, uf = fast[:0], uf[:0]
                else:
                    values[fast[took]] = change[took]
                    fast, uf, jf = fast[~took], uf[~took], jf[~took]
            run = _runs(uf)
            for a, z in zip(run[:-1].tolist(), run[1:].tolist(), strict=True):
                u = int(uf[a])
                cols = np.flatnonzero(active[u])
                if cols.size:
                    t_of = partial(_w_steps, delta[fast[a:z]], A_T[cols][:, jf[a:z]])
                    self._fast(line, values, fast[a:z], cols, gains[:, u, cols][:, :, None], t_of)
            self._exact(exact, chunk, u_of[~ok], sel[~ok], index, delta, values, crossed)
        return values, crossed

    @staticmethod
    def _exact(
        exact: _Exact,
        chunk: Array,
        u_of: Array,
        sel: Array,
        index: Array,
        delta: Array,
        values: Array,
        crossed: Array,
    ) -> None:
        """The exact path for entries `sel` of the chunk's units `u_of` (ascending)."""
        run = _runs(u_of)
        for a, z in zip(run[:-1].tolist(), run[1:].tolist(), strict=True):
            exact.run(int(chunk[u_of[a]]), index, delta, sel[a:z], values, crossed)

    def _at(self, blocks: Mapping[str, Array]) -> _State:
        """The point's parameters (float64), forward pass, per-example losses and
        `LineLoss`: computed once per point, as the engine asks `along_axes` about the
        same point once per block and more.

        Notes
        -----
        The last point is kept with its blocks, and taken again only when every block is
        equal to it, entry by entry and in dtype (a comparison costs `P` reads, far less
        than a forward pass and its validation). A block that nothing can change in
        place (read-only, and every array it views too: the engine's point) is kept
        by reference and recognised by identity; any other block is kept as a copy,
        which at `P = 1e7` was 76 MiB beyond a check's memory budget.
        """
        last = self._last
        if (
            last is not None
            and last[0].keys() == blocks.keys()
            and all(_same(v, last[0][k]) for k, v in blocks.items())
        ):
            return last[1]
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
        base = _column_losses(cache.a[-1][:, None, :], self.Y, self.kind, self.m)[0]
        line = LineLoss(cache.a[-1], self.Y, self.kind, self.m) if self._one_hot else None
        state = (params, cache, base, line)
        kept = {k: v if _frozen(v) else np.array(v, copy=True) for k, v in blocks.items()}
        self._last = (kept, state)
        return state

    @property
    def _one_hot(self) -> bool:
        Y = self.Y
        return bool(np.all((Y == 0) | (Y == 1))) and bool(np.all(Y.sum(axis=0) == 1))

    def _units_per_chunk(self, params: Sequence[tuple[Array, Array]], l: int) -> int:
        """Units whose gains take at most a quarter of `memory` (3 temporaries each)."""
        widest: int = max(W.shape[0] for W, _ in params[l - 1 :])
        return max(1, int(self.memory) // (4 * 3 * 8 * widest * int(self.m)))

    def _fast(
        self,
        line: LineLoss,
        values: Array,
        fast: Array,
        cols: Array,
        G: Array,
        t_of: Callable[[Any], Array],
    ) -> None:
        """Add to `values[fast]` the change of the terms of examples `cols` at `a_L + t·G`.

        `G` is `(n_L, c, 1)`, one direction for every perturbation; `t_of(p)` gives the
        `t` `(c, len(p))` of perturbations `fast[p]`.
        The batch is cut so that the kernel's arrays stay in cache.
        """
        k, c = len(fast), len(cols)
        if not k or not c:
            return
        n_L = G.shape[0]
        itemsize = 16  # complex steps double it
        per = max(1, min(_KERNEL_BYTES, self.memory // 8) // (itemsize * n_L * c))
        d, d_label = line.direction(G, cols)
        base = None if line.base is None else line.base[cols, None]
        for lo in range(0, k, per):
            part = np.arange(lo, min(k, lo + per))
            t = t_of(part)
            new = line.terms(cols, d, d_label, t)
            if new is None or base is None:  # `log r` would underflow: the reference
                logits = (line.a[:, cols, None] + G * t[None]).transpose(0, 2, 1)
                ref = _column_losses(logits, self.Y[:, cols], self.kind, self.m)
                ref -= _column_losses(line.a[:, None, cols], self.Y[:, cols], self.kind, self.m)
                values[fast[part]] += ref.sum(axis=1)
            else:
                values[fast[part]] += (new - base).sum(axis=0)

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
            # the change of z_{layer+1}, added to the cached z: where nothing moved it is
            # the cached value exactly (recomputed as W a + b, its rounding flipped the
            # sign of a unit at exactly 0 and reported a kink that nothing crossed)
            W = params[layer][0]
            da = (a - cache.a[layer][:, None, cols]).reshape(a.shape[0], -1)
            z = cache.z[layer][:, None, cols] + (W @ da).reshape(W.shape[0], k, c)
        return _column_losses(a, Y, self.kind, self.m), crossed


def _compiled(choice: str, work: float) -> Any:
    """The compiled kernel of the fast path for a call of `work` logits, or None.

    Notes
    -----
    "numpy" never takes it, "numba" always. "auto" takes it once it is loaded in this
    process, or when the call is large enough to pay for loading it: importing numba
    and loading its cached kernel cost about a second of CPU, which the numpy kernel
    spends on `_WORTH_COMPILING` logits; a single check at size L is ten times
    smaller. Without numba, None.
    """
    if choice == "numpy":
        return None
    if choice == "numba":
        from checks._network_jit import KERNEL

        return KERNEL
    jit = sys.modules.get("checks._network_jit")
    loaded = jit is not None and bool(getattr(jit.KERNEL, "signatures", None))
    small = work < _WORTH_COMPILING
    if choice == "auto" and not loaded and (small or importlib.util.find_spec("numba") is None):
        return None
    from checks._network_jit import KERNEL

    return KERNEL


def _float64(blocks: Mapping[str, Array]) -> bool:
    """Whether every block is a float64 array, as `_at`'s forward pass computes it."""
    return all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in blocks.values())


def _frozen(block: Any) -> bool:
    """Whether nothing can change `block` in place: a read-only array whose every base is
    a read-only array too, down to the one that owns the memory."""
    while isinstance(block, np.ndarray):
        if block.flags.writeable:
            return False
        if block.base is None:
            return True
        block = block.base
    return False


def _same(block: Any, kept: Array) -> bool:
    """Whether `block` is the kept one: the same frozen array, or equal in dtype and
    entries."""
    if block is kept and _frozen(kept):
        return True
    block = np.asarray(block)
    return block.dtype == kept.dtype and bool(np.array_equal(block, kept))


def _runs(keys: Array) -> Array:
    """The bounds of the runs of equal values of `keys` (sorted): run `r` is
    `keys[b[r]:b[r + 1]]`, `b[0] = 0` and `b[-1] = len(keys)`."""
    if not len(keys):
        return np.zeros(1, dtype=np.intp)
    cut = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return np.concatenate([[0], cut, [len(keys)]]).astype(np.intp)


def _w_steps(delta: Array, A: Array, part: Array | slice) -> Array:
    """The moves `t` `(c, len(part))` of row `i` of `z_l`: `δ_k` times `A[:, k]`."""
    return A[:, part] * delta[part]


class _Exact:
    """The exact path of `along_axes`: the perturbed row of `z_l` run through the
    layers above (`NetworkLoss._from_layer`), in chunks, with the kinks it crosses."""

    def __init__(
        self,
        F: NetworkLoss,
        params: Sequence[tuple[Array, Array]],
        cache: net.Cache,
        l: int,
        base: Array,
        f0: Any,
        is_W: bool,
    ) -> None:
        self.F, self.params, self.cache, self.l = F, params, cache, l
        self.base, self.f0 = base, f0
        self.is_W = is_W
        self.n_in = params[l - 1][0].shape[1]
        widest = max(W.shape[0] for W, _ in params[l - 1 :])
        # the largest batched activation, complex, with a few temporaries like it
        self.per = max(1, F.memory // (8 * 16 * widest * F.m))

    def run(
        self,
        unit: int,
        index: Array,
        delta: Array,
        sel: Array,
        values: Array,
        crossed: Array,
    ) -> None:
        if not sel.size:
            return
        F, cache, l = self.F, self.cache, self.l
        z = cache.z[l - 1][unit]
        on = z > 0
        everyone = np.arange(F.m)
        for lo in range(0, len(sel), self.per):
            part = sel[lo : lo + self.per]
            if self.is_W:
                dz = delta[part, None] * cache.a[l - 1][index[part] - unit * self.n_in]
            else:
                dz = np.broadcast_to(delta[part, None], (len(part), F.m))
            rows = z + dz
            here = np.any((rows.real > 0) != on, axis=1)
            new, above = F._from_layer(self.params, cache, l, unit, rows, everyone)
            values[part] = self.f0 + (new - self.base).sum(axis=1)
            crossed[part] = here | above


def _gains(
    params: Sequence[tuple[Array, Array]],
    cache: net.Cache,
    l: int,
    units: Array,
) -> tuple[Array, Array]:
    """How the logits move with row `i` of `z_l`, and how far they may, for `units`.

    Returns `G` `(n_L, u, m)`, `G[:, i, c] = ∂a_L[:, c] / ∂z_l[i, c]` where unit `i` is
    active in example `c` (the product of the `W_q` and the masks of the layers
    above), and `room` `(u, m)`: while `|δz_l[i, c]| < room[i, c]`, no pre-activation
    of layer `l` or above changes sign, so `a_L + δz·G[:, i, c]` is exactly the logits
    of the moved point (the network is linear there). The room is half the distance
    to each kink (rounding of `δz` and `z` must not decide a sign).
    """
    L = len(params)
    z_l = cache.z[l - 1][units]
    room = np.abs(z_l) / 2
    on = z_l > 0
    u, m = z_l.shape
    if l == L:
        G = np.zeros((cache.z[-1].shape[0], u, m))
        G[units, np.arange(u), :] = on
        return G, room
    D: Array = np.broadcast_to(params[l][0][:, units][:, :, None], (params[l][0].shape[0], u, m))
    for q in range(l + 1, L + 1):  # the pre-activations z_q above l, q = l+1..L
        z_q = cache.z[q - 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.abs(z_q)[:, None, :] / np.abs(D)
        ratio[D == 0] = np.inf  # a unit that does not move never crosses, even at z = 0
        far = ratio.min(axis=0) / 2
        room = np.where(on, np.minimum(room, far), room)
        D = D * (z_q > 0)[:, None, :]
        if q < L:
            W = params[q][0]
            D = (W @ D.reshape(D.shape[0], -1)).reshape(W.shape[0], u, m)
    return D, room


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
