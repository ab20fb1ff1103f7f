"""A function near a point: the point as a flat vector, counted and guarded evaluations.

A point `x` is one array or a mapping of named arrays (blocks, e.g. ``"W_1"``,
``"b_1"``); `f` takes the same structure. Every numerical method is built on one
primitive, `Problem.along_axes`: the values of `f` at `x + δ_k e_{i_k}` for a batch of
entries `i_k` and steps `δ_k`. A function may supply that primitive itself (an
``along_axes(x, name, index, delta)`` method returning the values and which of them
crossed a kink, as `checks.NetworkLoss` does), accept a batch of points (a true
``batched`` attribute or argument: every array then gets a leading batch axis and `f`
returns one value per point), or be called once per point.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "ROUNDING_ULPS",
    "Array",
    "ComplexStepError",
    "FunctionError",
    "Point",
    "Problem",
    "layout_of",
]

Array: TypeAlias = npt.NDArray[Any]
Point: TypeAlias = Array | Mapping[str, Array]

#: Bound on the rounding error of one evaluation of `f`, in units of `ε·|f|`. Measured
#: (bench/engine.py): a central difference of the notes' network is within 0.75 `ε|f|/h`
#: of the truth in float64 and 0.97 in float32 (truncation included), over 100+ points;
#: 4 leaves a margin of 4 and more.
ROUNDING_ULPS = 4.0
_CHUNK = 1 << 22  # values per batched call, to bound memory


class FunctionError(RuntimeError):
    """The function being differentiated raised, or returned something unusable."""


class ComplexStepError(FunctionError):
    """The function is not complex-safe, so the complex step cannot differentiate it."""


@dataclass(frozen=True)
class _Layout:
    """How a point (one array or named blocks) maps to a flat vector."""

    names: tuple[str, ...] | None
    shapes: tuple[tuple[int, ...], ...]
    offsets: tuple[int, ...]
    dtype: np.dtype[Any]

    @property
    def size(self) -> int:
        return self.offsets[-1]

    def flatten(self, x: Point) -> Array:
        if self.names is None:
            return np.asarray(x).reshape(-1)
        assert isinstance(x, Mapping)
        return np.concatenate([np.asarray(x[n]).reshape(-1) for n in self.names])

    def unflatten(self, flat: Array, batch: tuple[int, ...] = ()) -> Point:
        """`flat` (`batch + (size,)`) as arrays shaped like the point, batch axes first."""
        if self.names is None:
            return flat.reshape(batch + self.shapes[0])
        return {
            name: flat[..., lo:hi].reshape(batch + shape)
            for name, shape, lo, hi in zip(
                self.names, self.shapes, self.offsets[:-1], self.offsets[1:], strict=True
            )
        }

    def blocks(self) -> list[tuple[str, slice, tuple[int, ...]]]:
        names = self.names or ("x",)
        return [
            (n, slice(lo, hi), s)
            for n, s, lo, hi in zip(
                names, self.shapes, self.offsets[:-1], self.offsets[1:], strict=True
            )
        ]

    def where(self, flat_index: int) -> tuple[str, tuple[int, ...]]:
        """The block name and the index within the block of a flat entry."""
        for name, sl, shape in self.blocks():
            if sl.start <= flat_index < sl.stop:
                return name, tuple(int(i) for i in np.unravel_index(flat_index - sl.start, shape))
        raise IndexError(flat_index)


def _as_float_array(name: str, value: object) -> Array:
    try:
        arr = np.asarray(value)
    except Exception as exc:
        raise TypeError(f"`{name}` must be a numeric array, could not convert it: {exc}") from exc
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise TypeError(f"`{name}` must be a real numeric array, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"`{name}` must be finite, got {bad} NaN or infinite entries")
    return arr


def layout_of(x: object) -> tuple[_Layout, Array]:
    """Validate `x` and return its layout and its flat copy."""
    if isinstance(x, Mapping):
        if not x:
            raise ValueError("`x` must hold at least one block, got an empty mapping")
        arrays = {str(k): _as_float_array(f"x[{k!r}]", v) for k, v in x.items()}
        names: tuple[str, ...] | None = tuple(arrays)
        parts = list(arrays.values())
    else:
        parts = [_as_float_array("x", x)]
        names = None
    dtype = np.result_type(*parts)
    shapes = tuple(p.shape for p in parts)
    offsets = tuple(int(v) for v in np.cumsum([0] + [p.size for p in parts]))
    if offsets[-1] == 0:
        raise ValueError("`x` must have at least one entry, got size 0")
    layout = _Layout(names, shapes, offsets, np.dtype(dtype))
    # no copy of a block before the concatenation: at P = 1e7 the copies doubled the
    # peak of a whole check (80 MB each)
    flat = np.concatenate([p.reshape(-1).astype(dtype, copy=False) for p in parts])
    # read-only, and so every view of it: nothing changes the point during a check, and
    # a function may keep its blocks by reference rather than copy them (`NetworkLoss`)
    flat.flags.writeable = False
    return layout, flat


class _complex_warnings_raise(warnings.catch_warnings):
    """Turn numpy's ComplexWarning (an imaginary part discarded) into an error."""

    def __enter__(self) -> None:
        super().__enter__()
        warnings.simplefilter("error", np.exceptions.ComplexWarning)


class Problem:
    """`f` near `x`, flattened, with its evaluations counted and its kinks watched."""

    def __init__(
        self,
        f: Callable[..., Any],
        x: object,
        *,
        kinks: Callable[[Any], Any] | None = None,
        batched: bool | None = None,
        scalar: bool = True,
        base: bool = True,
    ) -> None:
        if not callable(f):
            raise TypeError(f"`f` must be callable, got {type(f).__name__}")
        if kinks is not None and not callable(kinks):
            raise TypeError(f"`kinks` must be callable or None, got {type(kinks).__name__}")
        self.f = f
        self.layout, self.x = layout_of(x)
        # `x` as `f` takes it, the same views at every call: a function that keeps the
        # last point's blocks (`NetworkLoss`) recognises them without comparing them
        self.point = self.layout.unflatten(self.x)
        self.kinks = kinks if kinks is not None else getattr(f, "kinks", None)
        self.batched = bool(getattr(f, "batched", False) if batched is None else batched)
        self.axes = getattr(f, "along_axes", None)
        self.evaluations = 0
        self.scalar = scalar
        self.pattern = None if self.kinks is None else self._pattern(self.point)
        self.conditioning = self._conditioning(f)
        self.f0 = np.full(1, np.nan)
        self.out_shape: tuple[int, ...] = ()
        self.dtype = np.dtype(self.layout.dtype)
        self.eps = float(np.finfo(self.dtype).eps)
        self.scale = float("nan")
        if base:  # else (directional checks) the first values near `x` are observed
            f0 = self.call(self.x)
            self.observe(f0[None, ...], "at `x`")
            self.f0 = f0.reshape(-1)

    def observe(self, values: Array, where: str = "near `x`") -> None:
        """Validate the first values of `f` and take its output shape, dtype and scale."""
        first = np.asarray(values[0])
        if self.scalar and first.size != 1:
            raise ValueError(
                f"`f` must return a scalar to have a gradient, got shape {first.shape}; "
                "use numerical_jacobian for an array-valued function"
            )
        if not np.all(np.isfinite(values)):
            raise ValueError(f"`f` must be finite {where}, got {first.reshape(-1)[:4]}")
        self.out_shape = first.shape
        self.dtype = np.result_type(self.layout.dtype, first.dtype.type(0).real.dtype)
        self.eps = float(np.finfo(self.dtype).eps)
        self.scale = max(float(np.max(np.abs(values))), self.conditioning)

    @property
    def condition(self) -> float:
        """How much coarser than `ε|f|` one evaluation rounds: `1 + rounding_scale/|f|`.

        1 for a function that declares no `rounding_scale`. A derivative computed from
        the same intermediates (a complex step) inherits that relative rounding: at a
        saturated softmax, logits of 40 rounded to `ε·40` move the loss's derivative by
        about `40ε` of itself, where the complex step's model said `8ε` (two float32
        networks of the edges sweep failed their reference gradient by 1e-14).
        """
        if self.conditioning <= 0:
            return 1.0
        f0 = float(np.max(np.abs(self.f0.real), initial=0.0))
        return 1.0 + self.conditioning / max(f0, self.eps * self.conditioning)

    @property
    def floor(self) -> float:
        """The magnitude whose few `ε` bound the rounding of one evaluation of `f`.

        `scale` (the largest `|f|` seen, or the function's own `rounding_scale`); for a
        function that declares nothing, at least `ε`, so that no bound is 0. A
        declared `rounding_scale` is the size of the function's intermediates and is
        used as it is: with the floor of `ε`, a float64 loss whose rounding scale is
        9e-25 (a saturated softmax) had a bound of `4ε²/h` = 3e-26, and a gradient of
        2e-26 passed at twice its value.
        """
        if self.conditioning > 0:
            return self.scale
        return max(self.scale, self.eps)

    def _conditioning(self, f: Callable[..., Any]) -> float:
        """`f.rounding_scale(x)` when `f` has one, else 0: see `scale`.

        Notes
        -----
        The rounding of one evaluation is bounded as a few `ε` times `scale`, the
        largest `|f|` seen. A function whose value is a small result of large
        intermediates (a saturated softmax: a loss of 1e-14 from logits of 40, each
        rounded to `ε·40`) rounds far above `ε|f|`; it may say how much by a method
        ``rounding_scale(x)``, the magnitude `S` such that its rounding is a few `ε·S`
        (for `NetworkLoss`, `Σ |∂L/∂a_L|·|a_L|`), and `scale` is then at least `S`.
        """
        method = getattr(f, "rounding_scale", None)
        if not callable(method):
            return 0.0
        try:
            return float(method(self.point))
        except Exception as exc:
            raise FunctionError(f"`rounding_scale` raised {type(exc).__name__}: {exc}") from exc

    def _pattern(self, point: Point) -> Array:
        assert self.kinks is not None
        try:
            return np.asarray(self.kinks(point))
        except Exception as exc:
            raise FunctionError(f"`kinks` raised {type(exc).__name__}: {exc}") from exc

    def call(self, flat: Array) -> Array:
        """`f` at one flat point, as an array (for a batched `f`, a batch of one)."""
        self.evaluations += 1
        if self.batched:
            out = self._invoke(self.layout.unflatten(flat[None, :], (1,)), flat)
            return out.reshape(out.shape[1:])
        return self._invoke(self.point if flat is self.x else self.layout.unflatten(flat), flat)

    def _invoke(self, point: Point, flat: Array) -> Array:
        with _complex_warnings_raise():
            return self._invoke_raw(point, flat)

    def _invoke_raw(self, point: Point, flat: Array) -> Array:
        """`f(point)` as an array; call it inside `_complex_warnings_raise`."""
        try:
            out = np.asarray(self.f(point))
        except np.exceptions.ComplexWarning as exc:
            raise ComplexStepError(
                f"`f` is not complex-safe: it discarded an imaginary part ({exc})"
            ) from exc
        except Exception as exc:
            if np.iscomplexobj(flat):
                raise ComplexStepError(
                    f"`f` is not complex-safe: it raised {type(exc).__name__} on a complex "
                    f"point: {exc}"
                ) from exc
            raise FunctionError(f"`f` raised {type(exc).__name__}: {exc}") from exc
        if out.dtype.kind not in "biufc":
            raise FunctionError(f"`f` must return numbers, got dtype {out.dtype}")
        return out

    def along_axes(self, index: Array, delta: Array) -> tuple[Array, Array]:
        """`f(x + δ_k e_{i_k})` for each `k`, `(k, out)`, and whether it crossed a kink."""
        k = len(index)
        out_size = int(np.prod(self.out_shape))
        values = np.empty((k, out_size), dtype=np.result_type(self.dtype, delta.dtype))
        crossed = np.zeros(k, dtype=bool)
        if self.axes is not None and self.layout.names is not None:
            point = self.point
            for name, sl, _ in self.layout.blocks():
                sel = np.flatnonzero((index >= sl.start) & (index < sl.stop))
                if sel.size:
                    self.evaluations += sel.size
                    v, c = self.axes(point, name, index[sel] - sl.start, delta[sel])
                    values[sel] = np.asarray(v).reshape(sel.size, out_size)
                    crossed[sel] = np.asarray(c, dtype=bool)
            return values, crossed
        # no copy when the dtypes agree: a full check calls this once per range of entries
        base = self.x.astype(values.dtype, copy=False)
        if self.batched:
            self._along_axes_batched(base, index, delta, values, crossed)
            return values, crossed
        # One buffer and one set of views into it for the whole loop: each call moves
        # one entry and puts it back, so a call costs `f` and little else (a plain loop).
        point = base.copy()
        view = self._read_only_views(point, ())
        out_size = values.shape[1]
        with _complex_warnings_raise():
            for j in range(k):
                i = index[j]
                point[i] = base[i] + delta[j]
                self.evaluations += 1
                out = self._invoke_raw(view, point)
                if out.size != out_size:
                    raise FunctionError(
                        f"`f` must return the same shape at every point, got {out.shape} "
                        f"after {self.out_shape}"
                    )
                values[j] = out.reshape(-1)
                if self.kinks is not None:
                    crossed[j] = self._crossed(point)
                point[i] = base[i]
        return values, crossed

    def _along_axes_batched(
        self, base: Array, index: Array, delta: Array, values: Array, crossed: Array
    ) -> None:
        """The batched path of `along_axes`: one batch buffer filled with `x` once;
        each chunk moves one entry per row, calls `f`, and puts the entries back."""
        k = len(index)
        per = max(1, min(k, _CHUNK // max(1, base.size)))
        points = np.empty((per, base.size), dtype=base.dtype)
        points[...] = base
        rows = np.arange(per)
        for lo in range(0, k, per):
            n = min(per, k - lo)
            sl, r = slice(lo, lo + n), rows[:n]
            points[r, index[sl]] = base[index[sl]] + delta[sl]
            batch = points[:n]
            values[sl] = self._batch(batch, self._read_only_views(batch, (n,)))
            if self.kinks is not None:
                crossed[sl] = [self._crossed(p) for p in batch]
            points[r, index[sl]] = base[index[sl]]

    def _read_only_views(self, flat: Array, batch: tuple[int, ...]) -> Point:
        """`flat` shaped like the point, as views `f` cannot write into: the buffer is
        reused from call to call, so a function that wrote into its argument would
        change the next points; it gets a clear error instead."""
        view = flat.view()
        view.flags.writeable = False
        return self.layout.unflatten(view, batch)

    def along(self, directions: Array, delta: Array) -> tuple[Array, Array]:
        """`f(x + δ_k u_k)` for directions `u_k` (rows), and whether it crossed a kink."""
        points = self.x[None, :] + delta[:, None] * directions
        if not np.iscomplexobj(points):
            points = points.astype(self.layout.dtype)
        return self.at(points)

    def at(self, points: Array) -> tuple[Array, Array]:
        """`f` at each row of `points` (flat), and whether it crossed a kink."""
        if self.batched:
            values = self._batch(points)
        else:
            values = np.stack([self.call(p).reshape(-1) for p in points])
        crossed = (
            np.array([self._crossed(p) for p in points])
            if self.kinks
            else np.zeros(len(points), dtype=bool)
        )
        return values, crossed

    def _batch(self, points: Array, point: Point | None = None) -> Array:
        self.evaluations += len(points)
        if point is None:
            point = self.layout.unflatten(points, (len(points),))
        out = self._invoke(point, points)
        if out.shape[:1] != (len(points),):
            raise FunctionError(
                f"`f` is batched: for {len(points)} points it must return {len(points)} "
                f"values along its first axis, got shape {out.shape}"
            )
        return out.reshape(len(points), -1)

    def _crossed(self, flat: Array) -> bool:
        assert self.pattern is not None
        pattern = self._pattern(self.layout.unflatten(flat.real.astype(self.layout.dtype)))
        return bool(pattern.shape != self.pattern.shape or np.any(pattern != self.pattern))
