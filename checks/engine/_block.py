"""The comparison of one block of a full check, range by range of its entries.

`_full_report` (`_gradcheck`) hands every range of the numerical gradient to each
block's `Block.add`; in a one-pass check (`_chunked`) a block's entries over the running
tolerance are held and judged by `Block.settle` once its figures are final. What a
block keeps: its figures (counts, largest errors, norms), its five worst entries and,
within its share of the budget, its numerical values for a diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from checks.engine._chunked import COMPLEX, PIECE, SUSPECT_BYTES, Bound, Chunks, Figures, Part
from checks.engine._numdiff import largest, refine_at
from checks.engine._problem import Array, Problem
from checks.engine._report import BlockRow, EntryError
from checks.findings import Finding, fingerprint

__all__ = ["Block", "Shares"]


class Shares:
    """What the blocks share of the budget: bytes of numerical values held for their
    diagnoses, and of entries held to the end of a one-pass check."""

    def __init__(self, held: int, suspects: int) -> None:
        self.held, self.suspects = held, suspects


class Block:
    """The comparison of one block, accumulated range by range of its entries."""

    def __init__(self, name: str, sl: slice, shape: tuple[int, ...], g: Array | None) -> None:
        self.name, self.sl, self.shape = name, sl, shape
        self.size = sl.stop - sl.start
        self.shape_ok = g is not None and g.shape == shape
        self.g = g if g is None or g.dtype.kind == "f" else g.astype(np.float64)
        self.held: Array | None = None
        self.diagnosed = True
        self.done = False
        self.skipped = self.known = self.failed = 0
        self.max_diff = self.max_rel = self.tol_max = 0.0
        self.norms: list[float] = []  # ‖D‖ of each range, then ‖diff‖ of each
        self.diff_norms: list[float] = []
        self.any_diff = False
        self.worst: list[tuple[float, int, float, float, float, float, Any]] = []
        # a one-pass check: entries over the running tolerance, ranges to compute again,
        # the largest tolerance of the others under the final figures
        self.suspects: list[tuple[Array, Array, Array, Array, Array]] = []
        self.deferred: set[tuple[int, int]] = set()
        self.bound = Bound()
        self.settled = False

    def final_early(self, method: str) -> bool:
        """Whether the block's own figures are all its held entries and tolerance need
        (no complex step, whose bound takes the largest value of all), so that it can be
        settled once all of its entries are seen, its numerical values then dropped."""
        kinds = np.concatenate([s[3] for s in self.suspects] or [np.zeros(0, np.int8)])
        return (
            method in ("central", "forward", "richardson")
            and not self.deferred
            and not np.isin(kinds, (COMPLEX, PIECE)).any()
            and self.bound.complex == self.bound.piece == self.bound.piece_floor == -np.inf
        )

    def hold(self, shares: Shares, keep: bool) -> None:
        """Keep the block's numerical values for its diagnosis when they fit in the
        `shares`' room: while it is compared, and after it when `keep` (the whole
        gradient's)."""
        self.shares, self.keep = shares, keep
        self.finds: tuple[Finding, ...] = ()

    def add(
        self,
        p: Problem,
        part: Part,
        method: str,
        tolerance: Callable[[Array, Array, np.dtype[Any]], Array],
        m: int | None,
        final: bool = True,
    ) -> int:
        """Compare the entries of `part` in this block; returns how many were refined.

        A part that is not `final` has tolerances that may still grow: its entries over
        them are held for `settle` (or, past the shares' room, the range is left for
        `settle`'s caller to compute again), the others pass."""
        a, z = max(part.lo, self.sl.start), min(part.hi, self.sl.stop)
        if a >= z:
            return 0
        rows = slice(a - part.lo, z - part.lo)
        D, err = part.value[rows, 0].copy(), part.error[rows, 0].copy()
        known = ~np.isnan(D)
        mine = slice(a - self.sl.start, z - self.sl.start)
        if a == self.sl.start and self.held is None and 8 * self.size <= self.shares.held:
            self.held = np.empty(self.size)
            self.shares.held -= 8 * self.size
        refined = 0
        if self.shape_ok:
            assert self.g is not None
            g = self.g.reshape(-1)[mine]
            g64 = g.astype(np.float64)
            tol = tolerance(D, err, g.dtype)
            diff = np.abs(g64 - D)
            bad = known & ~(diff <= tol)
            redo = None
            if not final:
                local = rows.start + np.flatnonzero(bad)
                if local.size * SUSPECT_BYTES > self.shares.suspects:
                    self.deferred.add((part.lo, part.hi))
                    return 0
                self.shares.suspects -= local.size * SUSPECT_BYTES
                if local.size:
                    assert part.kind is not None and part.fixed is not None
                    self.suspects.append(
                        (part.lo + local, part.value[local], part.step[local],
                         part.kind[local], part.fixed[local])
                    )  # fmt: skip
                known &= ~bad
                bad[:] = False
                assert part.parts is not None and part.kind is not None
                base, mult, floor = (c[rows] for c in part.parts)
                kind = part.kind[rows]
                extra = 8 * float(np.finfo(g.dtype).eps) * np.abs(D)
                self.bound.add(kind[known], base[known, 0], mult[known], floor[known, 0],
                               extra[known])  # fmt: skip
                redo = (part, rows.start)
            elif bad.any() and method in ("central", "forward"):
                # before calling an entry wrong, give it its own error estimate
                at = np.flatnonzero(bad)
                local = rows.start + at
                value, error, used = refine_at(
                    p, method, part.value[local], part.step[local], part.lo + local
                )
                D[at[used]], err[at[used]] = value[used, 0], error[used, 0]
                refined = int(np.count_nonzero(used))
                tol = tolerance(D, err, g.dtype)
                diff = np.abs(g64 - D)
                bad = known & ~(diff <= tol)
            pos = np.flatnonzero(known)
            # every entry known (the usual case): views, not a masked copy of each array
            which: slice | Array = slice(None) if pos.size == D.size else pos
            self._tally(mine.start + pos, g[which], D[which], diff[which], tol[which], bad[which],
                        track=final, redo=redo and (redo[0], redo[1] + pos))  # fmt: skip
        self.skipped += int(np.count_nonzero(np.isnan(D)))
        if self.held is not None:
            self.held[mine] = D
        if z == self.sl.stop and not self.suspects and not self.deferred:
            self._diagnose(m)
        return refined

    def _tally(
        self,
        pos: Array,
        g: Array,
        D: Array,
        diff: Array,
        tol: Array,
        bad: Array,
        track: bool = True,
        redo: tuple[Part, Array] | None = None,
    ) -> None:
        """Entries at `pos` of the block compared: their figures added. Unless `track`,
        their tolerances may grow (`bound` has them) and so may their worst's: `redo`
        keeps where each is in its part, for `settle`."""
        self.known += pos.size
        self.failed += int(np.count_nonzero(bad))
        self.max_diff = max(self.max_diff, float(np.max(diff, initial=0.0)))
        denom = np.maximum(np.abs(D), np.abs(g.astype(np.float64)))
        with np.errstate(invalid="ignore"):  # inf/inf where g is infinite: NaN, a failure
            rel = np.where(denom > 0, diff / np.where(denom > 0, denom, 1), 0.0)
        self.max_rel = max(self.max_rel, float(np.max(rel, initial=0.0)))
        self.norms.append(float(np.linalg.norm(D)))
        self.diff_norms.append(float(np.linalg.norm(diff)))
        self.any_diff = self.any_diff or bool(np.any(diff))
        if track:
            self.tol_max = max(self.tol_max, float(np.max(tol, initial=0.0)))
        # a NaN or infinite analytic entry is the worst of all, never left out
        with np.errstate(invalid="ignore"):
            ratio = diff / np.maximum(tol, np.finfo(float).tiny)
        ratio[~np.isfinite(ratio)] = np.inf
        for j in largest(ratio, 5).tolist():
            again = None
            if redo is not None:
                part, local = redo[0], int(redo[1][j])
                assert part.kind is not None and part.fixed is not None
                # copies: a view of a row would keep its whole range alive
                again = (part.lo + local, part.value[local].copy(), float(part.step[local]),
                         int(part.kind[local]), part.fixed[local].copy())  # fmt: skip
            self.worst.append(
                (float(ratio[j]), int(pos[j]), float(g[j]), float(D[j]),
                 float(diff[j]), float(tol[j]), again)
            )  # fmt: skip
        self.worst = sorted(self.worst, key=lambda w: (-w[0], w[1]))[:5]

    def settle(
        self,
        p: Problem,
        chunks: Chunks,
        figures: Figures,
        b: int,
        method: str,
        tolerance: Callable[[Array, Array, np.dtype[Any]], Array],
        m: int | None,
    ) -> int:
        """The end of the block in a one-pass check (`Chunks`): the held entries judged
        with the final `figures` (refined where they fail), the tolerance and the worst
        entries under them, the diagnosis; returns how many entries were refined."""
        self.settled = True
        refined = 0
        if self.shape_ok and self.suspects:
            assert self.g is not None
            idx, value, step, kind, fixed = (
                np.concatenate(c) for c in zip(*self.suspects, strict=True)
            )
            self.suspects = []
            self.shares.suspects += idx.size * SUSPECT_BYTES  # for the next blocks'
            err = chunks.error(chunks.parts(idx, value, step, kind, fixed), idx, kind, figures)
            D, err = value[:, 0].copy(), err[:, 0]
            pos = idx - self.sl.start
            g = self.g.reshape(-1)[pos]
            g64 = g.astype(np.float64)
            tol = tolerance(D, err, g.dtype)
            bad = ~(np.abs(g64 - D) <= tol)
            if bad.any() and method in ("central", "forward"):
                at = np.flatnonzero(bad)
                v, e, used = refine_at(p, method, value[at], step[at], idx[at])
                D[at[used]], err[at[used]] = v[used, 0], e[used, 0]
                refined = int(np.count_nonzero(used))
                tol = tolerance(D, err, g.dtype)
            diff = np.abs(g64 - D)
            bad = ~(diff <= tol)
            self._tally(pos, g, D, diff, tol, bad)
            if self.held is not None:
                self.held[pos] = D
        if self.shape_ok and self.g is not None and not self.bound.empty:
            K = 8 * p.eps * p.condition
            G = 8 * float(np.finfo(self.g.dtype).eps)
            top = self.bound.at(float(figures.coef[b]), K, figures) + G * float(figures.big[b])
            self.tol_max = max(self.tol_max, top)
        self._rerate(chunks, figures, tolerance)
        if not self.done:
            self._diagnose(m)
        return refined

    def _rerate(
        self,
        chunks: Chunks,
        figures: Figures,
        tolerance: Callable[[Array, Array, np.dtype[Any]], Array],
    ) -> None:
        """The worst entries that passed at once, rated again under the final figures."""
        out = []
        for ratio, pos, g, D, diff, tol, again in self.worst:
            if again is not None:
                assert self.g is not None
                idx, value, step, kind, fixed = (np.atleast_1d(np.asarray(c)) for c in again)
                value, fixed = value.reshape(1, -1), fixed.reshape(1, -1)
                parts = chunks.parts(idx, value, step, kind, fixed)
                err = chunks.error(parts, idx, kind, figures)[:, 0]
                tol = float(tolerance(value[:, 0], err, self.g.dtype)[0])
                with np.errstate(invalid="ignore"):
                    ratio = diff / max(tol, np.finfo(float).tiny)
                ratio = ratio if np.isfinite(ratio) else np.inf
            out.append((ratio, pos, g, D, diff, tol, None))
        self.worst = sorted(out, key=lambda w: (-w[0], w[1]))[:5]

    def _diagnose(self, m: int | None) -> None:
        """The block's findings, once all of it is compared; its values dropped after."""
        D = None if self.held is None else self.held.reshape(self.shape)
        if not self.shape_ok:
            if self.g is None:
                self.finds = (Finding("wrong-shape", "missing or not a numeric array"),)
            elif D is not None:
                self.finds = tuple(fingerprint(self.g, D, m=m, rtol=1e-6))
            else:
                got, want = self.g.shape, self.shape
                self.finds = (Finding("wrong-shape", f"got shape {got}, expected {want}"),)
        elif self.failed and D is not None:
            self.finds = tuple(fingerprint(self.g, D, m=m, atol=self.tol_max, rtol=0.0))
        self.diagnosed = D is not None or not self.failed
        self.done = True
        if not self.keep and self.held is not None:
            self.shares.held += self.held.nbytes
            self.held = None

    def norm_rel(self) -> float:
        nrm = float(np.linalg.norm(self.norms))
        dn = float(np.linalg.norm(self.diff_norms))
        if nrm > 0:
            return dn / nrm
        return 0.0 if not self.any_diff else float(dn > 0) * np.inf

    def row(self, too_big: list[str]) -> tuple[BlockRow, list[EntryError]]:
        shape = self.shape
        if not self.shape_ok:
            got = () if self.g is None else self.g.shape
            row = BlockRow(self.name, got, shape, False, skipped=self.skipped, findings=self.finds)
            return row, []
        if not self.diagnosed:
            too_big.append(self.name)
        block_finds = self.finds
        entries = [
            EntryError(self.name, tuple(int(i) for i in np.unravel_index(pos, shape)), g, d, e, t)
            for _, pos, g, d, e, t, _ in self.worst
        ]
        row = BlockRow(
            self.name,
            shape,
            shape,
            not self.failed,
            self.max_diff,
            self.max_rel,
            self.norm_rel(),
            self.known,
            self.failed,
            self.skipped,
            block_finds,
        )
        return row, entries
