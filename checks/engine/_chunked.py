"""The numerical gradient of a full check, in chunks of entries, in bounded memory.

`estimate` (`_numdiff`) returns every entry's value, error and step at once: about 30
arrays of `P` floats while it works (250 bytes per entry). A full check needs each
entry only long enough to compare it, so `Chunks` computes the same estimate range by
range of entries and hands each finished range to the comparison (`_gradcheck`).

What a range's error needs from the others is a handful of numbers (`Figures`): the
truncation coefficient of each block (`|a|` measured at a few entries of the block,
chosen among all of its values: the largest two and the first and last usable ones),
each block's largest value (the analytic gradient's rounding), the largest value of
all (the complex step's rounding bound) and, for complex steps on `x`'s own piece,
the largest derivative. Every error bound, and so every tolerance, grows with each.

When the ranges fit in their share of the budget (`memory / 72` entries: 930,000 in
64 MiB), they are computed and kept, the figures measured, and each range is then
finished with them: `estimate`'s values and errors, to rounding. Beyond, the check
takes one pass: each range is finished with the figures of the entries seen so far
(the first usable entry of a block, which is in the final sample whatever follows, is
measured when it is seen), never larger than the final figures. An entry within that
tolerance is within the final one, and passes at once; an entry over it is held (its
value, step and kind: `SUSPECT_BYTES`) and judged with the final figures, as a check
at once would judge it (refined where it fails): once its block is seen whole when
the block's own figures are all it needs (`block_figures`), else at the end. Where
the held entries would outgrow their share of the budget, that range's entries of
the block are computed again at the end instead (`again`). So each entry is
evaluated once, plus
the sample's steps `2h` (the evaluations of `estimate`) and the refinement of the
entries that fail; the verdicts, the tolerance and the failing entries' figures are
those of a check at once.

Measured (docs/benchmarks.md, `OPENBLAS_NUM_THREADS=1 python bench/engine.py --sizes ""
--scaling --scaling-max 1e7`, CPU time on 2 shared cores): a central check of
`NetworkLoss` takes 2.00 evaluations a parameter from P = 1e4 to 1e7 (2.03 at 1e3),
its time ∝ P^0.64 over P = 1e3 .. 1e7 at m = 16, P^0.89 from 1e6 to 1e7, (P·m)^0.61
over every run; with the second pass it replaces, 3.82 evaluations a parameter and
P^1.17 from 1e6 to 1e7.
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
    on_piece_values,
)
from checks.engine._onesided import ONE_SIDED_SHRINKS, one_sided
from checks.engine._problem import Array, ComplexStepError, Problem

__all__ = [
    "COMPLEX",
    "FIXED",
    "KEEP_BYTES",
    "MEMORY",
    "PIECE",
    "PLAIN",
    "SUSPECT_BYTES",
    "WORK_BYTES",
    "Bound",
    "Chunks",
    "Figures",
    "Part",
    "plan",
    "whole",
]

#: The default memory budget of a full check, in bytes, beyond `x` and the gradient.
MEMORY = 64 << 20
#: Bytes per entry of a range while it is computed and compared (the engine's arrays),
#: measured with tracemalloc (central checks of networks [n, n, 10], m = 16): about 270.
WORK_BYTES = 300
#: Bytes per entry of a range kept from its computation to its comparison (value, step
#: and two flags, for a scalar `f`; Richardson's truncation estimate adds 8).
KEEP_BYTES = 18
#: Bytes per entry held to the end of a one-pass check (index, value, step, kind and
#: fixed error, and the lists holding them).
SUSPECT_BYTES = 48
#: Steps whose median is the report's typical step: every `P // STEP_SAMPLE`-th entry's.
STEP_SAMPLE = 1 << 14
#: An entry's kind of error bound: a difference whose truncation is the block's
#: (`PLAIN`), a complex step (`COMPLEX`), a complex step on `x`'s own piece (`PIECE`),
#: an error of its own (`FIXED`: Richardson's, a one-sided difference's).
PLAIN, COMPLEX, PIECE, FIXED = 0, 1, 2, 3


def plan(memory: int) -> tuple[int, int, int]:
    """The budget's shares: entries per range, bytes of ranges kept (or of entries held
    to the end of a one-pass check), bytes of numerical values held for a diagnosis
    (`Chunks`'s Notes)."""
    return max(1024, memory // (4 * WORK_BYTES)), memory // 4, memory // 8


@dataclass
class Figures:
    """What an entry's error bound needs from the whole gradient (module docstring)."""

    coef: Array  # per block: the truncation coefficient |a|
    big: Array  # per block: the largest |D| (not NaN)
    value_max: Array  # per output: the largest |D| of all (the complex step's)
    piece_max: float  # the largest |D| and on-piece derivative of all


@dataclass
class Part:
    """Entries `lo:hi` of the estimate: as `Estimate`'s fields, for those entries.

    `big` is each block's largest `|D|` as the tolerance takes it. A part that is not
    `final` was finished with figures that may still grow: `kind`, `fixed` and
    `parts` (`Chunks.parts`) then let its entries' errors be taken again with others.
    """

    lo: int
    hi: int
    value: Array
    error: Array
    step: Array
    skipped: Array  # local indices
    skip_reasons: tuple[str, ...]
    one_sided: Array  # local indices
    big: Array
    final: bool = True
    kind: Array | None = None
    fixed: Array | None = None
    parts: tuple[Array, Array, Array] | None = None


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

    Iterate over it for the finished ranges (`Part`), in order; `figures`, `model`,
    `step` and `one_sided_count` are set once the iteration is done (before the first
    range when the ranges are kept: `one_pass` false).

    Notes
    -----
    The ranges hold `memory / 4 / WORK_BYTES` entries (at least 1024, 300 kB: a budget
    is a bound for large `P`, and tiny ranges cost calls); the ranges are kept between
    their computation and their comparison when all of them fit in `memory / 4` (so up
    to `memory / 72` entries: 930,000 in 64 MiB), else the check takes one pass, and
    that quarter holds the entries judged at the end (module docstring); the comparison
    may hold numerical values for a diagnosis within `memory / 8` (`plan`); the rest is
    left to `f`'s own batch. The per-block samples of the truncation coefficient are
    the same entries whatever the ranges (`_numdiff._sample`, whose ties go to the
    first entries): the top two by magnitude are merged range by range, and its spread
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
        self.figures: Figures | None = None
        self._starts = np.array([sl.start for _, sl, _ in p.layout.blocks()], dtype=int)
        self._kept: dict[int, _Raw] = {}
        self._start()
        self.one_pass = self._kept_bytes() > self.keep
        if not self.one_pass:
            for lo, hi in self.ranges:
                self._kept[lo] = self._collect(lo, hi)
            self._finish()

    def _kept_bytes(self) -> int:
        """What `_Raw.nbytes` of every range adds up to."""
        out = int(np.prod(self.p.out_shape))
        per_entry = 8 * out + 8 + 2 + (8 * out if self.method == "richardson" else 0)
        return sum((hi - lo) * per_entry + 512 for lo, hi in self.ranges)

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

    def _start(self) -> None:
        p = self.p
        if self.method == "complex":
            _probe_complex_safety(p)
        nb = len(self._starts)
        # per block: the top two (magnitude, index, value, step); the first and last usable
        self._tops: list[list[tuple[float, int, Array, float]]] = [[] for _ in range(nb)]
        self._ends: list[dict[int, tuple[Array, float]]] = [{} for _ in range(nb)]
        self._first: list[int | None] = [None] * nb
        self._last: list[int | None] = [None] * nb
        self._a: dict[int, float] = {}  # sampled entries measured so far: |a|
        self._first_a = np.zeros(nb)  # |a| at each block's first usable entry, once seen
        self.block_max = np.zeros(nb)
        self._value_max = np.zeros(int(np.prod(p.out_shape)))  # NaN propagating
        self._piece_max = 0.0
        self._steps_seen: list[Array] = []
        self._on_piece = self._saved = 0

    def _collect(self, lo: int, hi: int) -> _Raw:
        """Range `lo:hi` measured, and its share of the figures taken."""
        p, method = self.p, self.method
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
        self._on_piece += raw.piece.size
        self._saved += raw.side.size
        stride = max(1, p.layout.size // STEP_SAMPLE)
        self._steps_seen.append(raw.used[(-lo) % stride :: stride].copy())
        D = v[:, 0].copy()
        D[raw.piece] = raw.piece_value[:, 0]
        D[raw.side] = raw.side_value[:, 0]
        mag = np.abs(np.where(np.isnan(v), 0.0, v)).max(axis=1)
        tops, ends = self._tops, self._ends
        for b, (_, sl, _) in enumerate(p.layout.blocks()):
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
            if self._first[b] is None:
                i = int(cand[0])
                self._first[b] = i
                ends[b][i] = (v[i - lo].copy(), float(raw.used[i - lo]))
                if self.one_pass:
                    # in the final sample whatever follows: the running figures' floor
                    self._a[i] = self._first_a[b] = float(self._measure([i], [ends[b][i]])[0])
            self._last[b] = int(cand[-1])
            ends[b][int(cand[-1])] = (v[cand[-1] - lo].copy(), float(raw.used[cand[-1] - lo]))
            best = cand[largest(mag[cand - lo], 2)]
            for i in best.tolist():
                tops[b].append((float(mag[i - lo]), i, v[i - lo].copy(), float(raw.used[i - lo])))
            tops[b] = sorted(tops[b], key=lambda t: (-t[0], t[1]))[:2]
            for i in list(ends[b]):
                if i not in (self._first[b], self._last[b]):
                    del ends[b][i]
        return raw

    def _measure(self, sample: list[int], at: list[tuple[Array, float]]) -> Array:
        """`|a|` at entries `sample` whose values and steps are `at`: from steps h and 2h."""
        value = np.stack([v for v, _ in at])
        used = np.array([u for _, u in at])
        order = 2 if self.method == "central" else 1
        d2, _, _, c2 = self._diff()(self.p, np.array(sample, dtype=int), 2 * used)
        change = np.abs(d2 - value).max(axis=1)
        a: Array = change / ((2**order - 1) * used**order)
        a[c2 | ~np.isfinite(a)] = 0.0  # a kink or a pole at 2h: no measure there
        return a

    def _coef(self, b: int) -> float:
        """Block `b`'s truncation coefficient, once all of its entries are seen: the
        largest `|a|` of its sample (each entry measured once, `_a`)."""
        chosen = {i: (val, u) for _, i, val, u in self._tops[b]}
        chosen.update(self._ends[b])
        todo = [i for i in sorted(chosen) if i not in self._a]
        if todo:
            a = self._measure(todo, [chosen[i] for i in todo])
            self._a.update(zip(todo, a.tolist(), strict=True))
        return max((self._a[i] for i in chosen), default=0.0)

    def block_figures(self, b: int) -> Figures:
        """The figures once block `b` is seen whole: its own (coefficient, largest
        value) final, the others as seen so far."""
        figures = self._running()
        if self.method in ("central", "forward"):
            figures.coef[b] = self._coef(b)
        return figures

    def _running(self) -> Figures:
        """The figures of the entries seen so far: at most the final ones."""
        return Figures(
            self._first_a.copy(), self.block_max.copy(), self._value_max.copy(), self._piece_max
        )

    def _finish(self) -> None:
        """The final figures, the model, the typical step."""
        method = self.method
        nb = len(self._starts)
        coef = np.zeros(nb)
        n_sample = 0
        if method in ("central", "forward"):
            chosen: dict[int, tuple[Array, float]] = {}
            for b in range(nb):
                for _, i, val, u in self._tops[b]:
                    chosen[i] = (val, u)
                chosen.update(self._ends[b])
            n_sample = len(chosen)
            todo = [i for i in sorted(chosen) if i not in self._a]
            if todo:  # at once: the ranges were kept, or blocks settled at the end
                a = self._measure(todo, [chosen[i] for i in todo])
                self._a.update(zip(todo, a.tolist(), strict=True))
            coef = np.array([self._coef(b) for b in range(nb)])
        self.figures = Figures(coef, self.block_max.copy(), self._value_max, self._piece_max)
        self.one_sided_count = self._on_piece + self._saved
        self.step = float(np.median(np.concatenate(self._steps_seen)))
        self.model = self._model(n_sample, self._on_piece, self._saved)

    def _block_of(self, idx: Array) -> Array:
        return np.searchsorted(self._starts, idx, side="right") - 1

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

    def parts(
        self, idx: Array, value: Array, step: Array, kind: Array, fixed: Array
    ) -> tuple[Array, Array, Array]:
        """The error bound of entries `idx` `(k, out)` in parts independent of the
        figures: `base`, `mult` and `floor`, so that the bound is
        `max(base + mult·coef + extra, floor)` (`error`)."""
        p, method = self.p, self.method
        k = len(idx)
        floor = np.full(value.shape, -np.inf)
        K = 8 * p.eps * p.condition
        if method in ("central", "forward"):
            factor, order = (1, 2) if method == "central" else (2, 1)
            base = factor * _rounding(p, value, idx) / step[:, None]
            mult = 4 * step**order
        else:
            base = K * np.abs(value) if method == "complex" else fixed.copy()
            mult = np.zeros(k)
        piece = np.flatnonzero(kind == PIECE)
        if piece.size:
            d = value[piece]
            # `on_piece_error`: the complex step's rounding, and a central difference's
            central = _steps(p, "central", self.step_arg, idx[piece])[:, None]
            base[piece], floor[piece] = K * np.abs(d), _rounding(p, d, idx[piece]) / central
            mult[piece] = 0.0
        own = np.flatnonzero(kind == FIXED)
        if own.size:
            base[own], mult[own] = fixed[own], 0.0
        return base, mult, floor

    def error(
        self, parts: tuple[Array, Array, Array], idx: Array, kind: Array, figures: Figures
    ) -> Array:
        """The error bound of entries `idx` from their `parts` under `figures`: monotone
        in each figure."""
        base, mult, floor = parts
        K = 8 * self.p.eps * self.p.condition
        err: Array = base + (mult * figures.coef[self._block_of(idx)])[:, None]
        cx = np.flatnonzero(kind == COMPLEX)
        if cx.size:
            err[cx] += K * figures.value_max[None, :]
        piece = np.flatnonzero(kind == PIECE)
        if piece.size:
            err[piece] = np.maximum(err[piece] + K * figures.piece_max, floor[piece])
        return err

    def _part(self, raw: _Raw, figures: Figures, final: bool) -> Part:
        p, method = self.p, self.method
        lo, hi = raw.lo, raw.hi
        idx = np.arange(lo, hi)
        value = raw.value
        k = hi - lo
        kind = np.full(k, {"complex": COMPLEX, "richardson": FIXED}.get(method, PLAIN), np.int8)
        fixed = np.zeros(value.shape)
        if method == "richardson":
            # (NaN where `f` was not finite, which `estimate` bounds as inf: such an
            # entry's error is its fallback's, or it is skipped)
            assert raw.aux is not None
            fixed = 2 * raw.aux + 6 * _rounding(p, value, idx) / raw.used[:, None]
        value[raw.piece] = raw.piece_value
        kind[raw.piece] = PIECE
        value[raw.side], fixed[raw.side], kind[raw.side] = raw.side_value, raw.side_error, FIXED
        parts = self.parts(idx, value, raw.used, kind, fixed)
        error = self.error(parts, idx, kind, figures)
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
        part = Part(lo, hi, value, error, raw.used, skipped, reasons, saved, figures.big, final)
        if not final:
            part.kind, part.fixed, part.parts = kind, fixed, parts
        return part

    def __iter__(self) -> Iterator[Part]:
        for lo, hi in self.ranges:
            if self.one_pass:
                raw = self._collect(lo, hi)
                yield self._part(raw, self._running(), final=False)
            else:
                assert self.figures is not None
                yield self._part(self._kept.pop(lo), self.figures, final=True)
        if self.one_pass:
            self._finish()

    def again(self, lo: int, hi: int) -> Part:
        """Range `lo:hi` computed again, finished with the final figures."""
        assert self.figures is not None
        return self._part(self._raw(lo, hi)[0], self.figures, final=True)


def whole(est: Estimate, big: Array) -> Iterator[Part]:
    """An `Estimate` computed at once (``"scipy"``) as one `Part`; `big` is each block's
    largest `|D|`."""
    skipped = est.skipped
    yield Part(
        0,
        len(est.value),
        est.value,
        est.error,
        est.step,
        skipped,
        est.skip_reasons,
        est.one_sided,
        big,
    )


class Bound:
    """The largest tolerance of entries judged before the figures were final, as a
    function of the final figures (`at`), for the report's `tolerance`.

    Notes
    -----
    An entry's tolerance is `max(E + B·coef + extra, floor) + G·big` (`Chunks.error`,
    `_gradcheck._tolerance`). For the entries whose truncation is the block's, the
    largest `E + B·coef` over them, whatever `coef`, is at a vertex of the convex hull
    of their points `(B, E)`: a handful, kept range by range (the hull of the union
    is the hull of the last hull and the new points). The others need one or two
    maxima.
    """

    def __init__(self) -> None:
        self.B = np.zeros(0)
        self.E = np.zeros(0)
        self.complex = self.piece = self.piece_floor = -np.inf

    def add(self, kind: Array, base: Array, mult: Array, floor: Array, extra: Array) -> None:
        """Entries of kinds `kind`, their error's parts (1-d) and `extra` (`G·|D|`)."""
        E = base + extra
        flat = (kind == PLAIN) | (kind == FIXED)
        self.B, self.E = _hull(
            np.concatenate([self.B, mult[flat]]), np.concatenate([self.E, E[flat]])
        )
        self.complex = max(self.complex, float(np.max(E[kind == COMPLEX], initial=-np.inf)))
        piece = kind == PIECE
        self.piece = max(self.piece, float(np.max(E[piece], initial=-np.inf)))
        self.piece_floor = max(
            self.piece_floor, float(np.max((floor + extra)[piece], initial=-np.inf))
        )

    @property
    def empty(self) -> bool:
        return (
            not self.B.size and not np.isfinite([self.complex, self.piece, self.piece_floor]).any()
        )

    def at(self, coef: float, K: float, figures: Figures) -> float:
        """The largest tolerance (without `G·big`) at truncation coefficient `coef`."""
        return max(
            float(np.max(self.E + coef * self.B, initial=-np.inf)),
            self.complex + K * float(np.max(figures.value_max)),
            self.piece + K * figures.piece_max,
            self.piece_floor,
        )


def _hull(B: Array, E: Array) -> tuple[Array, Array]:
    """The vertices of the upper convex hull of the points `(B, E)`: where every
    `max(E + c·B)`, `c ≥ 0`, is. Quickhull: the points above the chord between two
    vertices, the farthest of them a vertex, both halves again; a handful of passes
    over fewer and fewer points."""
    if B.size <= 2:
        return B, E
    left, right = int(np.lexsort((-E, B))[0]), int(np.lexsort((E, B))[-1])
    keep = {left, right}
    todo = [(left, right, np.arange(B.size))]
    while todo:
        a, b, cand = todo.pop()
        side = (B[b] - B[a]) * (E[cand] - E[a]) - (E[b] - E[a]) * (B[cand] - B[a])
        up = side > 0
        if not up.any():
            continue
        above = cand[up]
        far = int(above[np.argmax(side[up])])
        keep.add(far)
        todo += [(a, far, above), (far, b, above)]
    at = np.array(sorted(keep))
    return B[at], E[at]
