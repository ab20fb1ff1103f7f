"""`check_gradient`: an analytic gradient against numerical differences, block by block."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from checks.engine._args import evaluate_grad, numeric_block, option_number
from checks.engine._directional import directional_report
from checks.engine._numdiff import METHODS, Estimate, estimate, refine
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

    Notes
    -----
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
    start = time.perf_counter()
    p = Problem(f, x, kinks=kinks, batched=batched, base=mode == "full")
    if m is None:
        m = getattr(p.f, "m", None)
    grads = _grad_blocks(p, evaluate_grad(p, grad))
    if mode == "directional":
        return directional_report(p, grads, method, rtol, atol, rng, directions, m, start)
    est = estimate(p, method, step)
    scipy_figures = _check_grad(p, grads) if method == "scipy" else {}
    return _full_report(p, grads, est, rtol, atol, m, start, scipy_figures)


def _tolerance(
    D: Array, err: Array, g_dtype: np.dtype[Any], rtol: float | None, atol: float | None
) -> Array:
    if rtol is not None or atol is not None:
        return (atol or 0.0) + (rtol or 0.0) * np.abs(D)
    eps_g = float(np.finfo(g_dtype).eps) if g_dtype.kind == "f" else 0.0
    big = float(np.max(np.abs(D), initial=0.0, where=~np.isnan(D)))
    return err + 8 * eps_g * (np.abs(D) + big)


def _full_report(
    p: Problem,
    grads: Mapping[str, Array | None],
    est: Estimate,
    rtol: float | None,
    atol: float | None,
    m: int | None,
    start: float,
    scipy_figures: Mapping[str, float],
) -> GradientReport:
    D_all, err_all = est.value[:, 0].copy(), est.error[:, 0].copy()
    refined = 0
    rows: list[BlockRow] = []
    entries: list[EntryError] = []
    g_parts: list[Array] = []
    tol_max = 0.0
    ok_all = True
    for name, sl, shape in p.layout.blocks():
        D = D_all[sl].reshape(shape)
        g = grads[name]
        skipped = int(np.count_nonzero(np.isnan(D)))
        if g is None or g.shape != shape:
            got = () if g is None else g.shape
            finds = (
                (Finding("wrong-shape", "missing or not a numeric array"),)
                if g is None
                else tuple(fingerprint(g, D, m=m, rtol=1e-6))
            )
            rows.append(BlockRow(name, got, shape, False, skipped=skipped, findings=finds))
            ok_all = False
            continue
        g = g.astype(np.float64) if g.dtype.kind != "f" else g
        tol = _tolerance(D, err_all[sl].reshape(shape), g.dtype, rtol, atol)
        diff = np.abs(g.astype(np.float64) - D)
        known = ~np.isnan(D)
        bad = known & ~(diff <= tol)
        if bad.any() and est.method in ("central", "forward"):
            # before calling an entry wrong, give it its own error estimate
            flat = sl.start + np.flatnonzero(bad.ravel())
            value, error, used = refine(p, est, flat)
            D_all[flat[used]], err_all[flat[used]] = value[used, 0], error[used, 0]
            refined += int(np.count_nonzero(used))
            D = D_all[sl].reshape(shape)
            tol = _tolerance(D, err_all[sl].reshape(shape), g.dtype, rtol, atol)
            diff = np.abs(g.astype(np.float64) - D)
            bad = known & ~(diff <= tol)
        denom = np.maximum(np.abs(D), np.abs(g))
        with np.errstate(invalid="ignore"):  # inf/inf where g is infinite: NaN, a failure
            rel = np.where(denom > 0, diff / np.where(denom > 0, denom, 1), 0.0)
        nrm = float(np.linalg.norm(D[known]))
        nrel = (
            float(np.linalg.norm(diff[known])) / nrm
            if nrm > 0
            else float(np.linalg.norm(diff[known]) > 0) * np.inf
        )
        if nrm == 0 and not np.any(diff[known]):
            nrel = 0.0
        tol_max = max(tol_max, float(np.max(tol[known], initial=0.0)))
        block_finds: tuple[Finding, ...] = ()
        if bad.any():
            ok_all = False
            block_finds = tuple(
                fingerprint(g, D, m=m, atol=float(np.max(tol[known], initial=0.0)), rtol=0.0)
            )
        # a NaN or infinite analytic entry is the worst of all, never left out of the ranking
        with np.errstate(invalid="ignore"):
            ratio = np.where(known, diff / np.maximum(tol, np.finfo(float).tiny), -1.0)
        ratio[known & ~np.isfinite(ratio)] = np.inf
        for flat in np.argsort(-ratio, axis=None)[:5]:
            idx = tuple(int(i) for i in np.unravel_index(flat, shape))
            if ratio[idx] < 0:
                break
            entries.append(
                EntryError(
                    name, idx, float(g[idx]), float(D[idx]), float(diff[idx]), float(tol[idx])
                )
            )
        rows.append(
            BlockRow(
                name,
                shape,
                shape,
                not bad.any(),
                float(np.max(diff[known], initial=0.0)),
                float(np.max(rel[known], initial=0.0)),
                nrel,
                int(np.count_nonzero(known)),
                int(np.count_nonzero(bad)),
                skipped,
                block_finds,
            )
        )
        g_parts.append(g.reshape(-1).astype(np.float64))
    entries.sort(key=_badness)
    skips = tuple(
        (_where(p, int(i)), reason) for i, reason in zip(est.skipped, est.skip_reasons, strict=True)
    )
    findings: tuple[Finding, ...] = ()
    if len(g_parts) == len(rows) and not ok_all and len(rows) > 1:
        findings = tuple(fingerprint(np.concatenate(g_parts), D_all, m=m, atol=tol_max, rtol=0.0))
    # An entry left unchecked proves nothing: no plain pass while one remains.
    status = "failed" if not ok_all else "passed"
    if ok_all and (skips or not any(r.checked for r in rows)):
        status = "unchecked"
    ok_all = status == "passed"
    summary = _summary(rows, entries)
    if len(g_parts) == len(rows):
        g_all = np.concatenate(g_parts)
        known = ~np.isnan(D_all)
        nrm = float(np.linalg.norm(D_all[known]))
        dn = float(np.linalg.norm(g_all[known] - D_all[known]))
        summary["norm_rel_error"] = dn / nrm if nrm > 0 else (0.0 if dn == 0 else np.inf)
    source = est.model if rtol is None and atol is None else f"given: atol={atol}, rtol={rtol}"
    if refined:
        source += (
            f"; {refined} entries over it re-estimated by Richardson from steps h and 2h, "
            "each with its own error estimate"
        )
    return GradientReport(
        ok=ok_all,
        method=est.method,
        mode="full",
        **summary,
        tolerance=tol_max,
        tolerance_source=source,
        step=float(np.median(est.step)),
        evaluations=p.evaluations,
        seconds=time.perf_counter() - start,
        worst=tuple(entries[:5]),
        skipped=skips,
        blocks=tuple(rows),
        findings=findings,
        scipy=dict(scipy_figures),
        status=status,
        one_sided=tuple(_where(p, int(i)) for i in est.one_sided),
    )


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
