"""The numerical gradient of a full check, in chunks of entries, in bounded memory.

`estimate` (`_numdiff`) returns every entry's value, error and step at once: about 30
arrays of `P` floats while it works (250 bytes per entry). A full check needs each
entry only long enough to compare it, so `Chunks` computes the same estimate range by
range of entries and hands each finished range to the comparison (`_gradcheck`).

What a range's error needs from the others is a handful of numbers: the truncation
coefficient of each block (`|a|` measured at a few entries of the block, chosen among
all of its values: the largest two and the first and last usable ones), the largest
value (the complex step's rounding bound), and for the complex step on `x`'s own piece
the largest value and on-piece derivative. A first pass over the ranges collects them;
the second finishes each range with them. A range is kept from the first pass to the
second while the kept ranges fit in their share of the budget, and computed again
otherwise (the same evaluations, so the same values): the check then costs up to twice
the evaluations, never more memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from checks.engine._numdiff import (
    KINK_RETRIES,
    ROUNDING_ULPS,
    Diff,
    Estimate,
    _central,
    _forward,
    _probe_complex_safety,
    _richardson,
    _rounding,
    _steps,
    _with_kink_retries,
    largest,
    on_piece_error,
    on_piece_values,
)
from checks.engine._onesided import ONE_SIDED_SHRINKS, one_sided
from checks.engine._problem import Array, ComplexStepError, Problem

__all__ = ["KEEP_BYTES", "MEMORY", "WORK_BYTES", "Chunks", "Part", "plan", "whole"]

#: The default memory budget of a full check, in bytes, beyond `x` and the gradient.
MEMORY = 64 << 20
#: Bytes per entry of a range while it is computed and compared (the engine's arrays),
#: measured with tracemalloc (central checks of networks [n, n, 10], m = 16): about 270.
WORK_BYTES = 300
#: Bytes per entry of a range kept from the first pass to the second (value, step and
#: two flags, for a scalar `f`; Richardson's truncation estimate adds 8).
KEEP_BYTES = 18
#: Steps whose median is the report's typical step: every `P // STEP_SAMPLE`-th entry's.
STEP_SAMPLE = 1 << 14


def plan(memory: int) -> tuple[int, int, int]:
    """The budget's shares: entries per range, bytes of ranges kept between the passes,
    bytes of numerical values held for a diagnosis (`Chunks`'s Notes)."""
    return max(1024, memory // (4 * WORK_BYTES)), memory // 4, memory // 8


@dataclass
class Part:
    """Entries `lo:hi` of the estimate: as `Estimate`'s fields, for those entries."""

    lo: int
    hi: int
    value: Array
    error: Array
    step: Array
    skipped: Array  # local indices
    skip_reasons: tuple[str, ...]
    one_sided: Array  # local indices


@dataclass
class _Raw:
    """A range after its differences and fallbacks, before its error bound."""

    lo: int
    hi: int
    value: Array  # NaN where crossed or not finite
    aux: Array | None  # Richardson's truncation estimate
    used: Array
    crossed: Array
    not_finite: Array
    piece: Array = field(default_factory=lambda: np.zeros(0, dtype=int))
    piece_value: Array = field(default_factory=lambda: np.zeros((0, 1)))
    side: Array = field(default_factory=lambda: np.zeros(0, dtype=int))
    side_value: Array = field(default_factory=lambda: np.zeros((0, 1)))
    side_error: Array = field(default_factory=lambda: np.zeros((0, 1)))

    @property
    def nbytes(self) -> int:
        arrays = (self.value, self.aux, self.used, self.crossed, self.not_finite)
        return sum(a.nbytes for a in arrays if a is not None) + 512


class Chunks:
    """The estimate of `p` by `method` in ranges of entries, within `memory` bytes.

    Iterate over it for the finished ranges (`Part`), in order; `model`, `step` and
    `one_sided_count` are set once the first pass is done (before the first range).

    Notes
    -----
    The ranges hold `memory / 4 / WORK_BYTES` entries (at least 1024, 300 kB: a budget
    is a bound for large `P`, and tiny ranges cost calls); ranges are kept from the
    first pass to the second within `memory / 4` (so up to `memory / 72` entries are
    computed once: 930,000 in 64 MiB), and the comparison may hold numerical values for
    a diagnosis within `memory / 8` (`plan`); the rest is left to `f`'s own batch. With
    every range kept, the check is computed once, as `estimate` computes it, and the
    values are the same. The per-block samples of the truncation coefficient are the
    same entries whatever the ranges (`_numdiff._sample`, whose ties go to the first
    entries): the top two by magnitude are merged range by range, and its spread
    entries, with 4 per block, are the first and the last usable ones of the block.
    """

    def __init__(self, p: Problem, method: str, step: float | None, memory: int) -> None:
        self.p, self.method, self.step_arg = p, method, step
        size = p.layout.size
        self.per, self.keep, self.hold = plan(memory)
        self.ranges = [(lo, min(size, lo + self.per)) for lo in range(0, size, self.per)]
        self.model = ""
        self.step = float("nan")
        self.one_sided_count = 0
        self.block_max: Array = np.zeros(len(p.layout.blocks()))
        self._kept: dict[int, _Raw] = {}
        self._first_pass()

    def _diff(self) -> Diff:
        return {"central": _central, "forward": _forward, "richardson": _richardson}[self.method]

    def _raw(self, lo: int, hi: int) -> tuple[_Raw, Array]:
        """Range `lo:hi` measured; also which entries may be sampled for the truncation."""
        p, method = self.p, self.method
        idx = np.arange(lo, hi)
        if method == "complex":
            h = _steps(p, "complex", self.step_arg, idx)
            v, _ = p.along_axes(idx, 1j * h)
            if not np.iscomplexobj(v):
                raise ComplexStepError(
                    "`f` is not complex-safe: it returned a real value at a complex point"
                )
            none = np.zeros(len(idx), dtype=bool)
            return _Raw(lo, hi, v.imag / h[:, None], None, h, none, none), none
        h = _steps(p, method, self.step_arg, idx)
        value, aux, used, crossed = _with_kink_retries(self._diff(), p, h, idx)
        finite = np.all(np.isfinite(value), axis=1)
        sampleable = ~crossed & finite & (used > h / 2)
        not_finite = ~crossed & ~finite
        value[not_finite] = np.nan
        kept = aux if method == "richardson" else None
        raw = _Raw(lo, hi, value, kept, used, crossed, not_finite)
        redo = np.flatnonzero(crossed | not_finite)
        if redo.size and getattr(p.f, "complex_safe", False) is True:
            d, done = on_piece_values(p, idx[redo])
            raw.piece, raw.piece_value = redo[done], d[done]
            redo = redo[~done]
        if redo.size:
            v1, e1, ok1 = one_sided(p, idx[redo], _steps(p, "central", self.step_arg, idx[redo]))
            raw.side, raw.side_value, raw.side_error = redo[ok1], v1[ok1], e1[ok1]
        return raw, sampleable

    def _first_pass(self) -> None:
        p, method = self.p, self.method
        if method == "complex":
            _probe_complex_safety(p)
        blocks = p.layout.blocks()
        out = int(np.prod(p.out_shape))
        # per block: the top two (magnitude, index, value, step); the first and last usable
        tops: list[list[tuple[float, int, Array, float]]] = [[] for _ in blocks]
        ends: list[dict[int, tuple[Array, float]]] = [{} for _ in blocks]
        first: list[int | None] = [None] * len(blocks)
        last: list[int | None] = [None] * len(blocks)
        self._value_max = np.zeros(out)  # the complex step's max |value|, NaN propagating
        self._piece_max = 0.0
        steps: list[Array] = []
        stride = max(1, p.layout.size // STEP_SAMPLE)
        kept = 0
        on_piece = saved = 0
        for lo, hi in self.ranges:
            raw, sampleable = self._raw(lo, hi)
            v = raw.value
            if method == "complex":
                self._value_max = np.maximum(self._value_max, np.max(np.abs(v), axis=0))
            finite = np.isfinite(v)
            self._piece_max = max(
                self._piece_max,
                float(np.max(np.abs(v[finite]), initial=0.0)),
                float(np.max(np.abs(raw.piece_value), initial=0.0)),
            )
            on_piece += raw.piece.size
            saved += raw.side.size
            first_local = (-lo) % stride
            steps.append(raw.used[first_local::stride].copy())
            D = v[:, 0].copy()
            D[raw.piece] = raw.piece_value[:, 0]
            D[raw.side] = raw.side_value[:, 0]
            mag = np.abs(np.where(np.isnan(v), 0.0, v)).max(axis=1)
            for b, (_, sl, _) in enumerate(blocks):
                a, z = max(lo, sl.start), min(hi, sl.stop)
                if a >= z:
                    continue
                seg = D[a - lo : z - lo]
                self.block_max[b] = max(
                    self.block_max[b], float(np.max(np.abs(seg), initial=0.0, where=~np.isnan(seg)))
                )
                if method not in ("central", "forward"):
                    continue
                cand = a + np.flatnonzero(sampleable[a - lo : z - lo])
                if not cand.size:
                    continue
                if first[b] is None:
                    first[b] = int(cand[0])
                    ends[b][int(cand[0])] = (v[cand[0] - lo].copy(), float(raw.used[cand[0] - lo]))
                last[b] = int(cand[-1])
                ends[b][int(cand[-1])] = (v[cand[-1] - lo].copy(), float(raw.used[cand[-1] - lo]))
                best = cand[largest(mag[cand - lo], 2)]
                for i in best.tolist():
                    tops[b].append(
                        (float(mag[i - lo]), i, v[i - lo].copy(), float(raw.used[i - lo]))
                    )
                tops[b] = sorted(tops[b], key=lambda t: (-t[0], t[1]))[:2]
                for i in list(ends[b]):
                    if i not in (first[b], last[b]):
                        del ends[b][i]
            if kept + raw.nbytes <= self.keep:
                self._kept[lo] = raw
                kept += raw.nbytes
        self.one_sided_count = on_piece + saved
        self.step = float(np.median(np.concatenate(steps)))
        self._coef = np.zeros(len(blocks))
        n_sample = 0
        if method in ("central", "forward"):
            chosen: dict[int, tuple[Array, float]] = {}
            for b in range(len(blocks)):
                for _, i, val, u in tops[b]:
                    chosen[i] = (val, u)
                chosen.update(ends[b])
            sample = np.array(sorted(chosen), dtype=int)
            n_sample = sample.size
            if sample.size:
                value = np.stack([chosen[i][0] for i in sample.tolist()])
                used = np.array([chosen[i][1] for i in sample.tolist()])
                order = 2 if method == "central" else 1
                d2, _, _, c2 = self._diff()(p, sample, 2 * used)
                change = np.abs(d2 - value).max(axis=1)
                a = change / ((2**order - 1) * used**order)
                a[c2 | ~np.isfinite(a)] = 0.0  # a kink or a pole at 2h: no measure there
                for b, (_, sl, _) in enumerate(blocks):
                    inside = (sample >= sl.start) & (sample < sl.stop)
                    if inside.any():
                        self._coef[b] = a[inside].max()
        self.model = self._model(n_sample, on_piece, saved)

    def _model(self, n_sample: int, on_piece: int, saved: int) -> str:
        p, method = self.p, self.method
        if method == "complex":
            h = _steps(p, "complex", self.step_arg, np.zeros(1, dtype=int))[0]
            return (
                f"complex step: rounding ≤ 8εκ·(|f'_i| + max|f'|), h = {h:.0e} "
                f"(ε = {p.eps:.1e}, κ = 1 + rounding_scale/|f| = {p.condition:.3g})"
            )
        if method == "richardson":
            model = (
                "Richardson (steps h, h/2, h/4): 2·|r1 - r2|/15 per entry, plus rounding "
                f"6·{ROUNDING_ULPS:g}ε(|f| + |x_i f'_i|)/h (ε = {p.eps:.1e}, |f| = {p.scale:.3g})"
            )
        else:
            order = 2 if method == "central" else 1
            model = (
                f"{method} differences: truncation ≤ 4·|a|·h^{order}, |a| measured at steps h "
                f"and 2h on {n_sample} sampled entries; rounding "
                f"{'' if order == 2 else '2·'}{ROUNDING_ULPS:g}ε(|f| + |x_i f'_i|)/h "
                f"(ε = {p.eps:.1e}, |f| = {p.scale:.3g})"
            )
        if on_piece:
            model += (
                f"; {on_piece} entries whose central difference crossed a kink: complex "
                "step on x's own piece (`f.complex_safe`), error ≤ the larger of its rounding "
                "8εκ·(|f'_i| + max|f'|) and a central difference's at h"
            )
        if saved:
            model += (
                f"; {saved} entries whose central difference crossed a kink or met a "
                "non-finite value: one-sided on x's own piece, parabola through x, x+h/2, x+h "
                "(error 2·|D(h/2,h) - D(h,2h)|/3 plus rounding)"
            )
        return model

    def __iter__(self) -> Iterator[Part]:
        p, method = self.p, self.method
        blocks = p.layout.blocks()
        for lo, hi in self.ranges:
            raw = self._kept.pop(lo, None)
            if raw is None:
                raw, _ = self._raw(lo, hi)
            value = raw.value
            if method != "complex":
                # (NaN where `f` was not finite, which `estimate` bounds as inf: such an
                # entry's error is its fallback's, or it is skipped)
                factor = {"richardson": 6, "central": 1, "forward": 2}[method]
                rounding = factor * _rounding(p, value, np.arange(lo, hi)) / raw.used[:, None]
            if method == "complex":
                error = 8 * p.eps * p.condition * (np.abs(value) + self._value_max[None, :])
            elif method == "richardson":
                assert raw.aux is not None
                error = 2 * raw.aux + rounding
            else:
                order = 2 if method == "central" else 1
                coef = np.zeros(hi - lo)
                for b, (_, sl, _) in enumerate(blocks):
                    a, z = max(lo, sl.start), min(hi, sl.stop)
                    if a < z:
                        coef[a - lo : z - lo] = self._coef[b]
                trunc = 4 * coef * raw.used**order
                error = trunc[:, None] + rounding
            value[raw.piece] = raw.piece_value
            if raw.piece.size:
                error[raw.piece] = on_piece_error(
                    p, raw.piece_value, lo + raw.piece, self.step_arg, self._piece_max
                )
            value[raw.side], error[raw.side] = raw.side_value, raw.side_error
            left = raw.crossed | raw.not_finite
            left[raw.piece] = left[raw.side] = False
            skipped = np.flatnonzero(left)
            reasons = tuple(
                "`f` is not finite at x ± h"
                if raw.not_finite[i]
                else (
                    f"every step tried (central down to h/{int(KINK_RETRIES[-1])}, one-sided "
                    f"down to h/{int(ONE_SIDED_SHRINKS[-1])} on either side) crossed a kink"
                )
                for i in skipped
            )
            saved = np.sort(np.concatenate([raw.piece, raw.side]))
            yield Part(lo, hi, value, error, raw.used, skipped, reasons, saved)


def whole(est: Estimate) -> Iterator[Part]:
    """An `Estimate` computed at once (``"scipy"``) as one `Part`."""
    skipped = est.skipped
    yield Part(
        0, len(est.value), est.value, est.error, est.step, skipped, est.skip_reasons, est.one_sided
    )
