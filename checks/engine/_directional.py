"""Directional mode of `check_gradient`: a few random directions, whatever the size."""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np

from checks.engine._numdiff import KINK_RETRIES, ROUNDING_ULPS
from checks.engine._onesided import ONE_SIDED_SHRINKS
from checks.engine._problem import Array, ComplexStepError, Problem
from checks.engine._report import BlockRow, GradientReport
from checks.findings import Finding

__all__ = ["DRAWS", "directional_report"]

#: Random directions drawn, at most, for each direction compared.
DRAWS = 8


def directional_report(
    p: Problem,
    grads: Mapping[str, Array | None],
    method: str,
    rtol: float | None,
    atol: float | None,
    rng: np.random.Generator | int | None,
    K: int,
    m: int | None,
    start: float,
) -> GradientReport:
    rows = []
    for name, _, shape in p.layout.blocks():
        g = grads[name]
        if g is None or g.shape != shape:
            finds = (
                Finding("wrong-shape", f"got {None if g is None else g.shape}, expected {shape}"),
            )
            rows.append(BlockRow(name, () if g is None else g.shape, shape, False, findings=finds))
        else:
            rows.append(BlockRow(name, shape, shape, True))
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng or 0)
    nan = float("nan")
    if not all(r.ok for r in rows):
        return GradientReport(
            ok=False,
            method=method,
            mode="directional",
            max_abs_error=nan,
            max_rel_error=nan,
            norm_rel_error=nan,
            where_abs="-",
            where_rel="-",
            tolerance=nan,
            tolerance_source="not compared: a block has the wrong shape",
            step=nan,
            evaluations=p.evaluations,
            seconds=time.perf_counter() - start,
            blocks=tuple(rows),
            status="failed",
        )
    g_flat = np.concatenate(
        [np.asarray(grads[n], dtype=np.float64).reshape(-1) for n, _, _ in p.layout.blocks()]
    )
    eps_g = max(
        float(np.finfo(grads[n].dtype).eps) if grads[n].dtype.kind == "f" else 0.0  # type: ignore[union-attr]
        for n, _, _ in p.layout.blocks()
    )
    h0 = float(p.eps ** (1 / 3) * max(1.0, float(np.max(np.abs(p.x)))))
    results: list[tuple[float, float, float]] = []
    lengths: list[float] = []
    skips: list[tuple[str, str]] = []
    for k in range(K):
        # a point where several kinks meet lies on its piece only along some directions:
        # a random u (or -u) is one with probability 2^-(k-1) for k kinks, so draw a few
        for _attempt in range(DRAWS):
            u = gen.standard_normal(p.layout.size)
            u /= np.linalg.norm(u)
            got = _along(p, u, h0, method)
            if got is not None:
                break
        if got is None:
            skips.append(
                (
                    f"direction {k}",
                    f"every step tried, central and one-sided, in {DRAWS} directions, "
                    "crossed a kink",
                )
            )
            continue
        v_eff, numerical, err = got
        analytic = float(g_flat @ v_eff)
        if rtol is not None or atol is not None:
            tol = (atol or 0.0) + (rtol or 0.0) * abs(numerical)
        else:
            tol = err + 8 * eps_g * float(np.abs(g_flat) @ np.abs(v_eff))
        results.append((analytic, numerical, tol))
        lengths.append(float(np.linalg.norm(v_eff)))
    errs = [abs(a - n) for a, n, _ in results]
    agree = all(e <= t for e, (_, _, t) in zip(errs, results, strict=True))
    # a direction left unchecked, or none compared, is not a pass
    status = "failed" if not agree else ("passed" if results and not skips else "unchecked")
    ok = status == "passed"
    worst = int(np.argmax(errs)) if errs else 0
    rels = [
        e / max(abs(a), abs(n), np.finfo(float).tiny)
        for e, (a, n, _) in zip(errs, results, strict=True)
    ]
    source = (
        f"given: atol={atol}, rtol={rtol}"
        if rtol is not None or atol is not None
        else (
            "complex step along each direction: 8ε(|f'_u| + Σ|g_i u_i|)"
            if method == "complex"
            else "central differences along each direction at h and h/2, Richardson-extrapolated: "
            f"error ≤ |D(h) - D(h/2)|/3 + rounding 3·{ROUNDING_ULPS:g}ε|f|/h "
            f"(ε = {p.eps:.1e}, |f| = {p.scale:.3g})"
        )
    )
    norm = float(np.linalg.norm([n for _, n, _ in results])) if results else nan
    return GradientReport(
        ok=ok,
        method=method,
        mode="directional",
        max_abs_error=max(errs, default=nan),
        max_rel_error=max(rels, default=nan),
        norm_rel_error=float(np.linalg.norm(errs)) / max(norm, 1e-300) if results else nan,
        where_abs=f"direction {worst}",
        where_rel=f"direction {int(np.argmax(rels)) if rels else 0}",
        tolerance=max((t for _, _, t in results), default=nan),
        tolerance_source=source,
        step=h0,
        evaluations=p.evaluations,
        seconds=time.perf_counter() - start,
        skipped=tuple(skips),
        blocks=tuple(rows),
        directional=tuple(results),
        status=status,
        resolution=_resolution([t for _, _, t in results], lengths, p.layout.size),
    )


def _resolution(tols: list[float], lengths: list[float], P: int, miss: float = 0.01) -> float:
    """The error of one entry that all the directions miss with probability below `miss`.

    Notes
    -----
    An error `δ` in entry `i` shows along direction `v_k` as `δ·v_k[i]`; with the
    numerical value within `τ_k` of the truth, the direction passes only if
    `|δ·v_k[i]| ≤ 2τ_k`. For `v_k` uniform on the sphere of radius `r_k` in `P`
    dimensions, `v_k[i]/r_k` has a density of at most `√(P/2π)`, so that happens with
    probability at most `0.8·2τ_k√P/(r_k|δ|)`; the directions are independent, and all
    miss with probability at most the product. Solved for the product equal to `miss`.
    (The directions are redrawn when they cross a kink; that conditioning is ignored.)
    """
    if not tols:
        return float("nan")
    product = float(
        np.prod([1.6 * t * np.sqrt(P) / max(r, 1e-300) for t, r in zip(tols, lengths, strict=True)])
    )
    return float((product / miss) ** (1 / len(tols)))


def _along(p: Problem, u: Array, h0: float, method: str) -> tuple[Array, float, float] | None:
    """The derivative along `u`: the effective direction, its value and error bound.

    The points are rounded to the dtype of `x`, so the direction actually taken is
    `(x⁺ - x⁻) / 2h`, not `u`; the analytic side is compared along the same.
    """
    if method == "complex":
        vals = p.call(p.x + 1j * 1e-20 * u).reshape(-1)
        if np.isnan(p.scale):
            p.observe(vals.real[None, :])
        if not np.iscomplexobj(vals):
            raise ComplexStepError("`f` is not complex-safe: it returned a real value")
        d = float(vals[0].imag / 1e-20)
        return u, d, 8 * p.eps * abs(d)
    for shrink in (1.0, *KINK_RETRIES):
        h = h0 / shrink
        pts = np.stack([p.x + s * u for s in (h, -h, h / 2, -h / 2)]).astype(p.layout.dtype)
        vals, crossed = p.at(pts)
        if np.isnan(p.scale):
            p.observe(vals)
        if crossed.any():
            continue
        rounding = ROUNDING_ULPS * p.eps * max(p.floor, float(np.max(np.abs(vals))))
        v = vals[:, 0].astype(np.float64)
        w1 = (pts[0].astype(np.float64) - pts[1]) / (2 * h)
        w2 = (pts[2].astype(np.float64) - pts[3]) / h
        d1, d2 = (v[0] - v[1]) / (2 * h), (v[2] - v[3]) / h
        value = (4 * d2 - d1) / 3
        err = abs(d1 - d2) / 3 + 3 * rounding / h
        return (4 * w2 - w1) / 3, float(value), float(err)
    return _one_sided_along(p, u, h0)


def _one_sided_along(p: Problem, u: Array, h0: float) -> tuple[Array, float, float] | None:
    """The derivative along `u` from one side of `x` only, on `x`'s own piece.

    Where every central difference along `u` crosses a kink, `x` may lie on (or next
    to) a kink that one side of the line avoids: the parabola through `f(x)`,
    `f(x + t u/2)`, `f(x + t u)` (`t = ±h`) gives the derivative of `x`'s own piece,
    with the error estimate of `checks.engine._onesided` (the one at `t, 2t` against the
    one at `t/2, t`). The effective direction is `Σ_j c_j (x_j - x)` over the rounded
    points `x_j`, with the parabola's weights `c_j`.
    """
    f0: float | None = None
    for shrink in ONE_SIDED_SHRINKS:
        for side in (1.0, -1.0):
            h = side * h0 / shrink
            pts = np.stack([p.x + c * h * u for c in (0.5, 1.0, 2.0)]).astype(p.layout.dtype)
            vals, crossed = p.at(pts)
            if np.isnan(p.scale):
                p.observe(vals)
            v = vals[:, 0].real.astype(np.float64)
            if crossed.any() or not np.all(np.isfinite(v)):
                continue
            if f0 is None:
                f0 = float(p.call(p.x).reshape(-1)[0].real)
            d = pts.astype(np.float64) - p.x.astype(np.float64)
            c_small = _weights(h / 2, h)
            c_big = _weights(h, 2 * h)
            small = c_small[1] * (v[0] - f0) + c_small[2] * (v[1] - f0)
            big = c_big[1] * (v[1] - f0) + c_big[2] * (v[2] - f0)
            rounding = ROUNDING_ULPS * p.eps * max(p.floor, float(np.max(np.abs(v))))
            err = 2 * abs(big - small) / 3 + rounding * sum(abs(c) for c in c_small)
            return c_small[1] * d[0] + c_small[2] * d[1], float(small), float(err)
    return None


def _weights(t1: float, t2: float) -> tuple[float, float, float]:
    """Weights of `f(x)`, `f(x + t1 u)`, `f(x + t2 u)` in the parabola's slope at `x`."""
    return -(t1 + t2) / (t1 * t2), t2 / (t1 * (t2 - t1)), -t1 / (t2 * (t2 - t1))
