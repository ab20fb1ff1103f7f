"""`check_gradient`: an analytic gradient against numerical differences, block by block."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from checks.engine._args import evaluate_grad, numeric_block, option_number
from checks.engine._block import Block, Shares
from checks.engine._chunked import (
    MEMORY,
    Chunks,
    Part,
    plan,
    whole,
)
from checks.engine._directional import directional_report
from checks.engine._numdiff import METHODS, Estimate, estimate
from checks.engine._problem import Array, Problem
from checks.engine._report import BlockRow, EntryError, GradientReport
from checks.findings import Finding, fingerprint

__all__ = [
    "MODES",
    "BlockRow",
    "EntryError",
    "GradientReport",
    "assert_gradient_close",
    "check_gradient",
]

MODES = ("full", "directional")
#: Directions drawn in directional mode by default: 2 directions × 4 evaluations.
DIRECTIONS = 2


def _validate(method: str, mode: str, rtol: float | None, atol: float | None) -> None:
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, got {method!r}")
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}, got {mode!r}")
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is None:
            continue
        if not option_number(name, value) >= 0:
            raise ValueError(f"`{name}` must be a non-negative number or None, got {value!r}")


def _grad_blocks(p: Problem, grad: object) -> dict[str, Array | None]:
    """`grad` as one array (or None where missing or not numeric) per block of `x`."""
    names = p.layout.names
    if names is None:
        if isinstance(grad, Mapping):
            raise TypeError("`grad` must be an array like `x`, got a mapping")
        items: dict[str, object] = {"x": grad}
    else:
        if not isinstance(grad, Mapping):
            raise TypeError(
                f"`grad` must be a mapping with the blocks of `x` {list(names)}, "
                f"got {type(grad).__name__}"
            )
        extra = set(map(str, grad)) - set(names)
        if extra:
            raise ValueError(f"`grad` has blocks {sorted(extra)} that `x` does not have")
        items = {n: grad.get(n) for n in names}
    out: dict[str, Array | None] = {}
    for n, g in items.items():  # a missing block is a wrong gradient; a non-numeric one unusable
        out[n] = (
            None if g is None else numeric_block("grad" if names is None else f"grad[{n!r}]", g)
        )
    return out


def check_gradient(
    f: Callable[..., Any],
    grad: object,
    x: object,
    *,
    method: str = "central",
    mode: str = "full",
    rtol: float | None = None,
    atol: float | None = None,
    kinks: Callable[[Any], Any] | None = None,
    rng: np.random.Generator | int | None = None,
    step: float | None = None,
    m: int | None = None,
    directions: int = DIRECTIONS,
    batched: bool | None = None,
    memory: int | None = None,
) -> GradientReport:
    """Compare an analytic gradient `grad` of `f` at `x` with numerical differences.

    Parameters
    ----------
    f : callable
        A scalar function of `x` (see `numerical_gradient` for ``batched`` and
        ``along_axes``). Its attributes ``kinks`` and ``m``, when present (as on
        `NetworkLoss`), are used when the arguments of the same name are not given.
    grad : array, mapping of str to array, or callable
        The gradient to check, shaped like `x` (the same block names), or a function
        returning it at `x` (as for `scipy.optimize.check_grad`). A block of the wrong
        shape or missing does not raise: its row fails with a ``wrong-shape`` finding
        (or ``transposed``, ``bias-shape``), for a grader. A block that is not a real
        numeric array is unusable: `TypeError`.
    x : array or mapping of str to array
        The point.
    method : {"central", "forward", "richardson", "complex", "scipy"}
        The numerical derivative; ``"scipy"`` also runs `scipy.optimize.check_grad`
        (``direction="all"`` and ``"random"``) and puts its figures in the report.
    mode : {"full", "directional"}
        ``"full"``: every entry, which says where the gradient is wrong. ``"directional"``:
        `directions` random unit directions `u` (from `rng`), comparing `⟨grad, u⟩` with a
        Richardson difference along `u`: 4 evaluations each, whatever the size.
    rtol, atol : float, optional
        A fixed tolerance ``atol + rtol·|numerical|`` instead of the error model.
    kinks : callable, optional
        See `numerical_gradient`: differences that cross a kink are retried with smaller
        steps, then taken on `x`'s own piece (``report.one_sided``): by a complex step
        when `f` declares ``complex_safe = True`` (its complex extension picks each piece
        by the real part, as `NetworkLoss` does), else one-sided; an entry no
        difference can reach is never counted as an error, but left unchecked: the
        report's `status` is then ``"unchecked"`` (not ``ok``) unless another entry fails.
    rng : numpy.random.Generator or int, optional
        The directions' generator (default: seed 0, so a check is reproducible).
    m : int, optional
        The number of examples, to recognise a factor `m` in the fingerprint.
    memory : int, optional
        The memory budget of a full check, in bytes (at least 1 MiB): by default
        `f.memory` when `f` has one (`NetworkLoss`), else 64 MiB. See Notes.

    Notes
    -----
    Memory. A full check is computed and compared in ranges of entries
    (`checks.engine._chunked.Chunks`), so that its peak memory beyond `x`, `grad` and
    one flat copy of `x` stays within `memory` at any number of parameters `P`: a
    quarter of it for the range being computed (about 300 bytes an entry), a quarter
    for ranges kept from their computation to their comparison (18 bytes an entry), an
    eighth for numerical values held for a diagnosis, the rest for `f`'s own batch
    (`NetworkLoss` bounds it by its `memory`, the default budget). The error model
    needs a few figures of each whole block (its truncation coefficient, sampled among
    all of its entries, and its largest value) before any entry's final tolerance.
    Up to `memory / 72` entries (930,000 in 64 MiB) every range is kept until they are
    measured. Beyond, the check takes one pass: each range is compared with the figures
    of the entries seen so far, which only grow, so an entry within that tolerance
    passes; an entry over it is held (48 bytes, in the kept ranges' quarter) and judged
    at the end with the final figures, as at once (`_chunked`'s docstring). Each entry
    is evaluated once at any `P`; only held entries beyond their quarter have their
    range computed again (a gradient wrong in more than 350,000 entries in 64 MiB).
    The report is the same whatever the ranges, to rounding (in one pass, the worst
    entries listed among passing ones may differ); but a failing block whose numerical
    values (8 bytes an entry) do not fit in a sixteenth of the budget gets no diagnosis
    (`findings`), nor does the whole gradient beyond 16 bytes an entry in an eighth; in
    one pass a failing block is diagnosed once all of it is seen when its figures are
    its own (not for complex steps, whose bound takes the largest value of all), else
    at the end, its values sharing that sixteenth with the other blocks waiting:
    `tolerance_source` says when one was left out. Not bounded: `f`'s own
    memory, the report's lists of skipped and one-sided entries (a string each), the
    ``"complex"`` method's safety probe (a few vectors of `P`, for a function that does
    not declare ``complex_safe``) and ``method="scipy"`` (scipy's `approx_fprime` and
    `check_grad` take every entry at once).

    Tolerance. Unless `rtol`/`atol` are given, entry `i` passes when
    `|g_i - D_i| ≤ e_i + 8 ε_g (|D_i| + max|D|)`, where `e_i` is the error bound of the
    numerical derivative `D_i` under its method's error model (`Estimate.error`, see
    `default_step`) and the second term the rounding of a gradient computed in the
    precision `ε_g` of `grad`'s dtype (float32 gradients get float32's).

    Directional sensitivity. An error `δ` of the gradient shows along a unit direction
    `u` as `⟨δ, u⟩ ~ N(0, ‖δ‖²/P)`; with tolerance `τ` it is missed by all `K`
    directions with probability about `(0.8 τ √P / ‖δ‖)^K`. The tolerance is the error
    model's (about `1e-9·|f|` in float64), not inflated with `P`: at the notes' L size a
    1 % error in one entry of typical size is caught with near certainty by `K = 2`.
    Every directional report states its `resolution`: the error of one entry that all
    `K` directions miss with probability below 1 % (from the same bound, with `2τ`:
    the numerical value itself may be off by `τ`). Smaller errors of one entry may
    pass: only ``mode="full"`` checks every entry.
    """
    _validate(method, mode, rtol, atol)
    if option_number("directions", directions, integer=True) < 1:
        raise ValueError(f"`directions` must be a positive integer, got {directions!r}")
    if m is not None and option_number("m", m, integer=True) < 1:
        raise ValueError(f"`m` must be a positive integer or None, got {m!r}")
    if rng is not None and not isinstance(rng, np.random.Generator):
        option_number("rng", rng, integer=True)
    if memory is None:  # the function's own budget when it declares one (NetworkLoss)
        own = getattr(f, "memory", None)
        memory = own if _is_budget(own) else MEMORY
    if not _is_budget(memory):
        raise ValueError(f"`memory` must be an int of at least 1 MiB (bytes), got {memory!r}")
    assert isinstance(memory, int | np.integer)
    budget = int(memory)
    start = time.perf_counter()
    p = Problem(f, x, kinks=kinks, batched=batched, base=mode == "full")
    if m is None:
        m = getattr(p.f, "m", None)
    grads = _grad_blocks(p, evaluate_grad(p, grad))
    if mode == "directional":
        return directional_report(p, grads, method, rtol, atol, rng, directions, m, start)
    if method == "scipy":
        est = estimate(p, method, step)
        parts = whole(est, np.array(_block_max(p, est)))
        return _full_report(
            p, grads, parts, est, rtol, atol, m, start, _check_grad(p, grads), budget
        )
    chunks = Chunks(p, method, step, budget)
    return _full_report(p, grads, chunks, chunks, rtol, atol, m, start, {}, budget)


def _is_budget(value: object) -> bool:
    return (
        isinstance(value, int | np.integer)
        and not isinstance(value, bool)
        and bool(value >= 1 << 20)
    )


def _tolerance(
    D: Array,
    err: Array,
    g_dtype: np.dtype[Any],
    rtol: float | None,
    atol: float | None,
    big: float,
) -> Array:
    """Entry by entry; `big` is the largest `|D|` of the block (not NaN)."""
    if rtol is not None or atol is not None:
        return (atol or 0.0) + (rtol or 0.0) * np.abs(D)
    eps_g = float(np.finfo(g_dtype).eps) if g_dtype.kind == "f" else 0.0
    return err + 8 * eps_g * (np.abs(D) + big)


def _full_report(
    p: Problem,
    grads: Mapping[str, Array | None],
    parts: Iterable[Part],
    chunks: Chunks | Estimate,
    rtol: float | None,
    atol: float | None,
    m: int | None,
    start: float,
    scipy_figures: Mapping[str, float],
    memory: int,
) -> GradientReport:
    """The report of a full check, from the estimate's ranges of entries (`Part`).

    Each range is compared and dropped: what is kept is per block (its figures, its five
    worst entries) and, within a quarter of `memory`, the numerical values needed for a
    diagnosis (the whole gradient's when it fits, else each block's that fits).
    """
    method = chunks.method
    blocks = [Block(n, sl, s, grads[n]) for n, sl, s in p.layout.blocks()]
    size = p.layout.size
    room = chunks.hold if isinstance(chunks, Chunks) else plan(memory)[2]
    held_all = 16 * size <= room  # the numerical gradient and the analytic one, whole
    one_pass = isinstance(chunks, Chunks) and chunks.one_pass
    # a one-pass check holds the entries it judges at the end in the kept ranges' share
    suspects = chunks.keep if isinstance(chunks, Chunks) and one_pass else 0
    shares = Shares(room if held_all else room // 2, suspects)
    for b in blocks:
        b.hold(shares, keep=held_all)
    given = rtol is not None or atol is not None  # a tolerance no figure changes

    def tolerance(i: int, big: Array) -> Callable[[Array, Array, np.dtype[Any]], Array]:
        def at(D: Array, err: Array, dtype: np.dtype[Any]) -> Array:
            return _tolerance(D, err, dtype, rtol, atol, float(big[i]))

        return at

    refined = 0
    skips: list[tuple[str, str]] = []
    one_sided: list[str] = []
    for part in parts:
        for i, b in enumerate(blocks):
            refined += b.add(p, part, method, tolerance(i, part.big), m, part.final or given)
        skips.extend(
            (_where(p, part.lo + int(i)), r)
            for i, r in zip(part.skipped, part.skip_reasons, strict=True)
        )
        one_sided.extend(_where(p, part.lo + int(i)) for i in part.one_sided)
        if one_pass:
            assert isinstance(chunks, Chunks)
            # a block seen whole whose figures are its own is settled now, and its
            # numerical values dropped: room for the next failing block's
            for i, b in enumerate(blocks):
                seen = part.lo < b.sl.stop <= part.hi  # its last entries in this range
                if seen and not b.settled and b.final_early(method):
                    figures = chunks.block_figures(i)
                    refined += b.settle(p, chunks, figures, i, method, tolerance(i, figures.big), m)
    if one_pass:
        assert isinstance(chunks, Chunks) and chunks.figures is not None
        big = chunks.figures.big
        for lo, hi in sorted(set().union(*(b.deferred for b in blocks))):
            part = chunks.again(lo, hi)
            for i, b in enumerate(blocks):
                if (lo, hi) in b.deferred:
                    refined += b.add(p, part, method, tolerance(i, big), m)
        for i, b in enumerate(blocks):
            if not b.settled:
                refined += b.settle(p, chunks, chunks.figures, i, method, tolerance(i, big), m)
    too_big: list[str] = []
    rows: list[BlockRow] = []
    entries: list[EntryError] = []
    for b in blocks:
        row, worst = b.row(too_big)
        rows.append(row)
        entries.extend(worst)
    entries.sort(key=_badness)
    ok_all = all(r.ok for r in rows)
    shapes_ok = all(b.shape_ok for b in blocks)
    tol_max = max((b.tol_max for b in blocks if b.shape_ok), default=0.0)
    findings: tuple[Finding, ...] = ()
    if shapes_ok and not ok_all and len(rows) > 1:
        if held_all:
            g_all = np.concatenate([np.asarray(b.g, dtype=np.float64).reshape(-1) for b in blocks])
            D_all = np.concatenate([b.held for b in blocks if b.held is not None])
            findings = tuple(fingerprint(g_all, D_all, m=m, atol=tol_max, rtol=0.0))
        else:
            too_big.append("the whole gradient")
    # An entry left unchecked proves nothing: no plain pass while one remains.
    status = "failed" if not ok_all else "passed"
    if ok_all and (skips or not any(r.checked for r in rows)):
        status = "unchecked"
    ok_all = status == "passed"
    summary = _summary(rows, entries)
    if shapes_ok:
        nrm = float(np.linalg.norm([n for b in blocks for n in b.norms]))
        dn = float(np.linalg.norm([n for b in blocks for n in b.diff_norms]))
        summary["norm_rel_error"] = dn / nrm if nrm > 0 else (0.0 if dn == 0 else np.inf)
    source = chunks.model if rtol is None and atol is None else f"given: atol={atol}, rtol={rtol}"
    if refined:
        source += (
            f"; {refined} entries over it re-estimated by Richardson from steps h and 2h, "
            "each with its own error estimate"
        )
    if one_pass and not given:
        source += (
            "; in one pass (more entries than the memory budget keeps): an entry within "
            "the tolerance of the figures seen so far, which only grow, passed at once, "
            "the others were judged with the final ones"
        )
    if too_big:
        source += (
            f"; no diagnosis of {', '.join(too_big)}: its numerical values exceed the "
            f"memory budget ({memory / 2**20:.3g} MiB)"
        )
    step = chunks.step if isinstance(chunks, Chunks) else float(np.median(chunks.step))
    return GradientReport(
        ok=ok_all,
        method=method,
        mode="full",
        **summary,
        tolerance=tol_max,
        tolerance_source=source,
        step=step,
        evaluations=p.evaluations,
        seconds=time.perf_counter() - start,
        worst=tuple(entries[:5]),
        skipped=tuple(skips),
        blocks=tuple(rows),
        findings=findings,
        scipy=dict(scipy_figures),
        status=status,
        one_sided=tuple(one_sided),
    )


def _block_max(p: Problem, est: Estimate) -> list[float]:
    """The largest `|D|` of each block (not NaN) of an estimate computed at once."""
    out = []
    for _, sl, _ in p.layout.blocks():
        D = est.value[sl, 0]
        out.append(float(np.max(np.abs(D), initial=0.0, where=~np.isnan(D))))
    return out


def _badness(e: EntryError) -> float:
    """Sort key, worst first: the error in tolerances, a NaN error the worst."""
    ratio = e.error / max(e.tolerance, np.finfo(float).tiny)
    return -np.inf if np.isnan(ratio) else -ratio


def _where(p: Problem, flat: int) -> str:
    name, idx = p.layout.where(flat)
    return (
        f"{name}[{', '.join(map(str, idx))}]"
        if p.layout.names
        else f"x[{', '.join(map(str, idx))}]"
    )


def _summary(rows: list[BlockRow], entries: list[EntryError]) -> dict[str, Any]:
    good = [r for r in rows if r.checked]
    if not good:
        nan = float("nan")
        return dict(
            max_abs_error=nan, max_rel_error=nan, norm_rel_error=nan, where_abs="-", where_rel="-"
        )
    by_abs = max(entries, key=lambda e: e.error) if entries else None
    by_rel = (
        max(
            entries,
            key=lambda e: e.error / max(abs(e.analytic), abs(e.numerical), np.finfo(float).tiny),
        )
        if entries
        else None
    )
    return dict(
        max_abs_error=max(r.max_abs_error for r in good),
        max_rel_error=max(r.max_rel_error for r in good),
        norm_rel_error=float("nan"),
        where_abs=by_abs.where if by_abs else "-",
        where_rel=by_rel.where if by_rel else "-",
    )


def _check_grad(p: Problem, grads: Mapping[str, Array | None]) -> dict[str, float]:
    """`scipy.optimize.check_grad`'s figure, all directions and one random direction."""
    from scipy.optimize import check_grad

    parts = [grads[n] for n, _, _ in p.layout.blocks()]
    if any(
        g is None or g.size != s.stop - s.start
        for g, (_, s, _) in zip(parts, p.layout.blocks(), strict=True)
    ):
        return {}
    g_flat = np.concatenate([np.asarray(g, dtype=np.float64).reshape(-1) for g in parts])

    def fun(v: Array) -> float:
        return float(p.call(v).reshape(-1)[0])

    def jac(v: Array) -> Array:
        return g_flat

    x0 = p.x.astype(np.float64)
    return {
        "check_grad(direction='all')": float(check_grad(fun, jac, x0)),
        "check_grad(direction='random')": float(
            check_grad(fun, jac, x0, direction="random", rng=np.random.default_rng(0))
        ),
    }


def assert_gradient_close(
    f: Callable[..., Any], grad: object, x: object, **options: Any
) -> GradientReport:
    """`check_gradient`, raising `AssertionError` with the report when it fails.

    Takes the arguments of `check_gradient`; returns the report when the check passes.
    """
    report = check_gradient(f, grad, x, **options)
    if not report.ok:
        raise AssertionError(str(report))
    return report
