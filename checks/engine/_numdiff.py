"""Numerical derivatives: steps, methods, error estimates, kink detection.

Every method differentiates a `Problem` (see `checks.engine._problem`): `f` near `x`, flat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from checks.engine._onesided import ONE_SIDED_SHRINKS, one_sided
from checks.engine._problem import (
    ROUNDING_ULPS,
    Array,
    ComplexStepError,
    FunctionError,
    Point,
    Problem,
)

__all__ = [
    "KINK_RETRIES",
    "METHODS",
    "ROUNDING_ULPS",
    "ComplexStepError",
    "Estimate",
    "FunctionError",
    "default_step",
    "estimate",
    "largest",
    "numerical_gradient",
    "numerical_jacobian",
    "refine",
]

METHODS: tuple[str, ...] = ("forward", "central", "richardson", "complex", "scipy")

#: Step shrink factors tried, in order, when a difference crosses a kink.
KINK_RETRIES = (8.0, 64.0)
#: Complex step: no subtraction, so the step only needs to keep `h²f'''` negligible.
COMPLEX_STEP = 1e-20


def default_step(method: str, x: Array, dtype: npt.DTypeLike = np.float64) -> Array:
    """The step of each entry of `x` for `method`, from the precision of `dtype`.

    Notes
    -----
    With `ε` the machine epsilon of `dtype` and `s = max(1, |x|)` (the scale of `x`):

    - ``"forward"``, ``"scipy"``: `h = √ε · s`, balancing truncation `h |f''| / 2`
      against rounding `2 ε |f| / h`; error `~ √ε` (1.5e-8 in float64). ``"scipy"``
      uses `scipy.optimize.approx_fprime`'s absolute `√ε` instead of scaling by `s`.
    - ``"central"``: `h = ε^(1/3) · s`, balancing `h² |f'''| / 6` against `ε |f| / h`;
      error `~ ε^(2/3)` (4e-11 in float64, 4e-6 in float32).
    - ``"richardson"``: central differences at `h` and `h/2` combined as
      `(4 D(h/2) - D(h)) / 3`, which cancels the `h²` term; `h = ε^(1/5) · s` balances
      the remaining `h⁴` term against rounding: error `~ ε^(4/5)` (3e-13 in float64).
    - ``"complex"``: `Im f(x + ih) / h` subtracts nothing, so `h = 1e-20` and the error
      is rounding alone, `~ ε |f'|`.
    """
    eps = float(np.finfo(dtype).eps)
    scale = np.maximum(1.0, np.abs(x))
    if method == "forward":
        return np.asarray(np.sqrt(eps) * scale)
    if method == "scipy":
        return np.full(x.shape, np.sqrt(eps))
    if method == "central":
        return np.asarray(eps ** (1 / 3) * scale)
    if method == "richardson":
        return np.asarray(eps ** (1 / 5) * scale)
    if method == "complex":
        return np.full(x.shape, COMPLEX_STEP)
    raise ValueError(f"`method` must be one of {METHODS}, got {method!r}")


@dataclass(frozen=True)
class Estimate:
    """A numerical derivative with its error bound, entry by entry.

    `value` and `error` are flat, `(P, out)` for `P` entries of `x` and `out` outputs
    of `f` (1 for a gradient); `error` bounds `|value - true|` under the
    method's error model (`model` says which); `step` is each entry's step. Entries in
    `skipped` (flat indices) crossed a kink at every step tried: their value is NaN,
    and `skip_reasons` says why.
    """

    method: str
    value: Array
    error: Array
    step: Array
    evaluations: int
    model: str
    skipped: Array = field(default_factory=lambda: np.zeros(0, dtype=int))
    skip_reasons: tuple[str, ...] = ()
    one_sided: Array = field(default_factory=lambda: np.zeros(0, dtype=int))


Diff = Callable[["Problem", Array, Array], tuple[Array, Array, Array, Array]]


def _taken(p: Problem, x: Array, h: Array) -> Array:
    """The steps actually taken from `x` by `h`, once `x + h` is rounded to `x`'s dtype.

    Notes
    -----
    The difference is formed in float64. In `x`'s own dtype it is exact only when
    `x + h` and `x` are within a factor 2 (Sterbenz); for `|x| ≪ h` in float32 it rounds
    to `ε₃₂/2` relative, and so did the sum of the two steps of a central difference.
    The error model assumes the steps exact: a quotient by a step off by 6e-8 made
    float32 points fail at `|f'|·6e-8` against a float64 rounding bound (entries such as
    a bias of 1e-7). In float64 the difference of two float32 values is exact but for
    a float64 rounding, far below the model's terms.
    """
    return (x + h).astype(p.layout.dtype).astype(np.float64) - x.astype(np.float64)


def _central(p: Problem, idx: Array, h: Array) -> tuple[Array, Array, Array, Array]:
    """Central differences at `idx`, steps `h`: values `(k, out)`, 0, steps, crossed."""
    x = p.x[idx]
    up = _taken(p, x, h)  # the steps actually taken, after rounding
    down = -_taken(p, x, -h)
    v, c = p.along_axes(np.concatenate([idx, idx]), np.concatenate([up, -down]))
    k = len(idx)
    with np.errstate(invalid="ignore"):  # inf - inf where f is not finite: NaN, skipped
        d = (v[:k] - v[k:]) / (up + down)[:, None]
        # Rounded to x's dtype, the two steps may differ (in float32, by an ulp of x where
        # x ± h straddle a power of 2): (f(x+u) - f(x-d))/(u+d) then carries f''(u-d)/2,
        # a first-order error outside the error model (7e-10 at |f''| = 0.2 in float32).
        # The derivative of the parabola through x - d, x, x + u has none.
        odd = np.flatnonzero(up != down)
        if odd.size and np.all(np.isfinite(p.f0)):
            u, w, f0 = up[odd, None], down[odd, None], p.f0[None, :]
            d[odd] = w / (u * (u + w)) * (v[odd] - f0) + u / (w * (u + w)) * (f0 - v[k + odd])
    return d, np.zeros(d.shape), (up + down) / 2, c[:k] | c[k:]


def _forward(p: Problem, idx: Array, h: Array) -> tuple[Array, Array, Array, Array]:
    x = p.x[idx]
    up = _taken(p, x, h)
    v, c = p.along_axes(idx, up)
    d = (v - p.f0[None, :]) / up[:, None]
    return d, np.zeros(d.shape), up, c


def _richardson(p: Problem, idx: Array, h: Array) -> tuple[Array, Array, Array, Array]:
    """Central differences at `h`, `h/2`, `h/4`, extrapolated twice; error estimate."""
    d1, _, u, c1 = _central(p, idx, h)
    d2, _, _, c2 = _central(p, idx, h / 2)
    d3, _, _, c3 = _central(p, idx, h / 4)
    r1, r2 = (4 * d2 - d1) / 3, (4 * d3 - d2) / 3
    # D(h) = f' + a h² + b h⁴ + ...: r1 = f' - b h⁴/4, r2 = f' - b h⁴/64, so the error
    # of r2 is |r1 - r2|/15.
    return r2, np.abs(r1 - r2) / 15, u, c1 | c2 | c3


def _with_kink_retries(
    diff: Diff, p: Problem, h: Array, idx: Array | None = None
) -> tuple[Array, Array, Array, Array]:
    """`diff` at entries `idx` (all by default), steps `h` (one per entry of `idx`);
    where it crossed a kink, again with smaller steps."""
    if idx is None:
        idx = np.arange(p.layout.size)
    value, aux, used, crossed = diff(p, idx, h)
    for shrink in KINK_RETRIES:
        redo = np.flatnonzero(crossed)
        if not redo.size:
            break
        v, a, u, c = diff(p, idx[redo], h[redo] / shrink)
        value[redo], aux[redo], used[redo], crossed[redo] = v, a, u, c
    value[crossed] = np.nan
    return value, aux, used, crossed


def largest(values: Array, k: int) -> Array:
    """The positions of the `k` largest of `values` (1-d, no NaN), largest first, equal
    values in the order of their positions: ``np.argsort(-values, kind="stable")[:k]``.

    Notes
    -----
    A partition finds the k-th largest value in one pass; only the values at least as
    large are then sorted. A full sort of every block's values took a fifth of a
    structured check's time.
    """
    if values.size <= k:
        return np.argsort(-values, kind="stable")
    kth = np.partition(values, values.size - k)[values.size - k]
    cand = np.flatnonzero(values >= kth)
    return cand[np.argsort(-values[cand], kind="stable")[:k]]


def _sample(p: Problem, value: Array, ok: Array, per_block: int = 4) -> Array:
    """A few entries per block for the error model: the largest values, and spread ones."""
    chosen: list[int] = []
    mag = np.abs(np.where(np.isnan(value), 0.0, value)).max(axis=1)
    for _, sl, _ in p.layout.blocks():
        cand = np.arange(sl.start, sl.stop)[ok[sl]]
        if not cand.size:
            continue
        # stable: among equal magnitudes the first entries, so that a check taken in
        # chunks (`_chunked`) samples the same entries
        top = cand[largest(mag[cand], per_block // 2)]
        spread = cand[np.linspace(0, cand.size - 1, per_block - len(top)).astype(int)]
        chosen.extend(np.unique(np.concatenate([top, spread])).tolist())
    return np.array(sorted(set(chosen)), dtype=int)


def _steps(p: Problem, method: str, step: float | None, idx: Array | None = None) -> Array:
    """The steps of entries `idx` (all by default)."""
    x = p.x if idx is None else p.x[idx]
    if step is None:
        return default_step(method, x, p.dtype)
    try:
        value = float(step)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value <= 0 or isinstance(step, bool):
        raise ValueError(f"`step` must be a positive finite number or None, got {step!r}")
    return np.full(x.shape, value)


def estimate(p: Problem, method: str, step: float | None) -> Estimate:
    if method == "complex":
        return _complex(p, step)
    if method == "scipy":
        return _scipy(p, step)
    h = _steps(p, method, step)
    if method == "richardson":
        value, trunc, used, crossed = _with_kink_retries(_richardson, p, h)
        # r2 = (4 D(h/4) - D(h/2)) / 3 carries (4·4 + 2)/3 = 6 times the rounding/h.
        error = 2 * trunc + 6 * _rounding(p, value) / used[:, None]
        model = (
            "Richardson (steps h, h/2, h/4): 2·|r1 - r2|/15 per entry, plus rounding "
            f"6·{ROUNDING_ULPS:g}ε(|f| + |x_i f'_i|)/h (ε = {p.eps:.1e}, |f| = {p.scale:.3g})"
        )
    else:
        diff = _central if method == "central" else _forward
        value, _, used, crossed = _with_kink_retries(diff, p, h)
        order = 2 if method == "central" else 1
        # Truncation: D(h) ≈ f' + a h^order, so D(2h) - D(h) ≈ (2^order - 1) a h^order
        # (plus rounding: an overestimate). `a` is measured on a few entries of each
        # block, at their first step (smaller steps after a kink magnify the rounding),
        # and its largest value, times a safety factor of 4, bounds the truncation
        # everywhere in the block.
        finite = np.all(np.isfinite(value), axis=1)
        sample = _sample(p, value, ~crossed & finite & (used > h / 2))
        coef = np.zeros(p.layout.size)
        if sample.size:
            d2, _, _, c2 = diff(p, sample, 2 * used[sample])
            change = np.abs(d2 - value[sample]).max(axis=1)
            a = change / ((2**order - 1) * used[sample] ** order)
            a[c2 | ~np.isfinite(a)] = 0.0  # a kink or a pole at 2h: no measure there
            for _, sl, _ in p.layout.blocks():
                inside = (sample >= sl.start) & (sample < sl.stop)
                if inside.any():
                    coef[sl] = a[inside].max()
        trunc = 4 * coef * used**order
        rounding_each = (1 if method == "central" else 2) * _rounding(p, value) / used[:, None]
        error = trunc[:, None] + rounding_each
        model = (
            f"{method} differences: truncation ≤ 4·|a|·h^{order}, |a| measured at steps h "
            f"and 2h on {sample.size} sampled entries; rounding "
            f"{'' if order == 2 else '2·'}{ROUNDING_ULPS:g}ε(|f| + |x_i f'_i|)/h "
            f"(ε = {p.eps:.1e}, |f| = {p.scale:.3g})"
        )
    not_finite = ~crossed & ~np.all(np.isfinite(value), axis=1)
    value[not_finite] = np.nan
    redo = np.flatnonzero(crossed | not_finite)
    saved = np.zeros(0, dtype=int)
    on_piece = np.zeros(0, dtype=int)
    if redo.size and getattr(p.f, "complex_safe", False) is True:
        d, ok1 = on_piece_values(p, redo)
        on_piece = redo[ok1]
        finite = np.isfinite(value)
        largest = max(
            float(np.max(np.abs(d[ok1]), initial=0.0)),
            float(np.max(np.abs(value[finite]), initial=0.0)),
        )
        value[on_piece] = d[ok1]
        error[on_piece] = on_piece_error(p, d[ok1], on_piece, step, largest)
        crossed[on_piece] = not_finite[on_piece] = False
        redo = redo[~ok1]
    if redo.size:
        v1, e1, ok1 = one_sided(p, redo, _steps(p, "central", step)[redo])
        saved = redo[ok1]
        value[saved], error[saved] = v1[ok1], e1[ok1]
        crossed[saved] = not_finite[saved] = False
    if on_piece.size:
        model += (
            f"; {on_piece.size} entries whose central difference crossed a kink: complex "
            "step on x's own piece (`f.complex_safe`), error ≤ the larger of its rounding "
            "8εκ·(|f'_i| + max|f'|) and a central difference's at h"
        )
    if saved.size:
        model += (
            f"; {saved.size} entries whose central difference crossed a kink or met a "
            "non-finite value: one-sided on x's own piece, parabola through x, x+h/2, x+h "
            "(error 2·|D(h/2,h) - D(h,2h)|/3 plus rounding)"
        )
    saved = np.sort(np.concatenate([on_piece, saved]))
    skipped = np.flatnonzero(crossed | not_finite)
    reasons = tuple(
        "`f` is not finite at x ± h"
        if not_finite[i]
        else (
            f"every step tried (central down to h/{int(KINK_RETRIES[-1])}, one-sided down to "
            f"h/{int(ONE_SIDED_SHRINKS[-1])} on either side) crossed a kink"
        )
        for i in skipped
    )
    return Estimate(method, value, error, used, p.evaluations, model, skipped, reasons, saved)


def _rounding(p: Problem, value: Array, idx: Array | None = None) -> Array:
    """The rounding error of one evaluation of `f` near `x`, per entry: `ulps·ε·(|f| + |x_i f'_i|)`.

    `|f|` alone is not enough: `f` may be a sum whose terms cancel, and the term that a
    step in `x_i` perturbs is about `x_i f'_i`, rounded to its own ulps at each of the
    two evaluations however small `f` is (a vector-Jacobian product `⟨v, g(x)⟩` is such
    a sum). The bound is relative to the larger of the two.
    """
    x = p.x if idx is None else p.x[idx]
    term: Array = np.abs(x.astype(np.float64))[:, None] * np.abs(value)
    bound: Array = ROUNDING_ULPS * p.eps * np.maximum(p.floor, term)
    return bound


def refine(p: Problem, est: Estimate, idx: Array) -> tuple[Array, Array, Array]:
    """Entries `idx` again, where their own truncation shows: Richardson from `h` and `2h`.

    For the entries of a ``"central"`` or ``"forward"`` estimate that an analytic value
    seems to contradict: the block-wide truncation bound of those methods comes from a
    few sampled entries, and an entry with a larger third derivative than theirs could
    fail wrongly. With `D(h)` and `D(2h)` central differences, `Δ = |D(2h) - D(h)|` is
    three times the entry's truncation at `h` plus at most `1.5·r/h` of rounding (`r`
    the rounding bound of one evaluation). Where `Δ` exceeds twice that rounding, the
    truncation is real and measured: the entry becomes `(4 D(h) - D(2h))/3` with the
    error `Δ/3 + 1.5·r/h`. Elsewhere (rounding dominates, or `2h` crosses a kink) the
    entry is left as it was: no truncation explains the mismatch. Returns the values
    `(k, out)`, their errors and which entries were re-estimated.
    """
    return refine_at(p, est.method, est.value[idx], est.step[idx], idx)


def refine_at(
    p: Problem, method: str, value: Array, step: Array, idx: Array
) -> tuple[Array, Array, Array]:
    """`refine` of entries `idx` whose estimate by `method` is `value` at steps `step`."""
    if method == "central":
        d1, u = value, step
        crossed = np.zeros(len(idx), dtype=bool)
    else:
        d1, _, u, crossed = _central(p, idx, default_step("central", p.x[idx], p.dtype))
    d2, _, _, c2 = _central(p, idx, 2 * u)
    noise = 1.5 * _rounding(p, d1, idx) / u[:, None]
    change = np.abs(d2 - d1)
    value = (4 * d1 - d2) / 3
    error = change / 3 + noise
    used = ~(crossed | c2) & np.all(change > 2 * noise, axis=1)
    return value, error, used


def _complex(p: Problem, step: float | None) -> Estimate:
    h = _steps(p, "complex", step)
    _probe_complex_safety(p)
    idx = np.arange(p.layout.size)
    v, _ = p.along_axes(idx, 1j * h)
    if not np.iscomplexobj(v):
        raise ComplexStepError(
            "`f` is not complex-safe: it returned a real value at a complex point"
        )
    value = v.imag / h[:, None]
    # No subtraction: the error is the rounding of the imaginary part, a few ε times
    # the magnitudes it is computed from (the largest derivative bounds them).
    big = np.max(np.abs(value), axis=0, keepdims=True)
    error = 8 * p.eps * p.condition * (np.abs(value) + big)
    model = (
        f"complex step: rounding ≤ 8εκ·(|f'_i| + max|f'|), h = {h.flat[0]:.0e} "
        f"(ε = {p.eps:.1e}, κ = 1 + rounding_scale/|f| = {p.condition:.3g})"
    )
    return Estimate("complex", value, error, h, p.evaluations, model)


def on_piece_error(p: Problem, d: Array, idx: Array, step: float | None, largest: float) -> Array:
    """The error bound of complex steps `d` `(k, out)` at entries `idx`, on `x`'s own piece.

    Notes
    -----
    A function that declares ``complex_safe`` (`NetworkLoss`) is complex-safe and picks
    each piece by the real part of its argument (a ReLU of `z` is `z` where `Re z > 0`):
    `x + ih·e_i` has `x`'s real part, so `Im f(x + ih·e_i)/h` is the derivative of `x`'s
    own piece, at any distance from a kink and at a kink itself. A one-sided difference
    there needs a step below the distance to the nearest kink, and its rounding grows as
    `1/h`: a 1 % error went unseen at an entry whose piece was 3e-9 wide.

    The bound is no looser than the complex step's model (`_complex`'s, `largest` the
    largest derivative), nor tighter than a central difference's rounding at the step
    `h` it would have had: the complex step's rounding grows with the conditioning of
    the intermediates (logits of 800: 200ε relative), which the central difference's
    rounding bound covers and its own model does not. `estimate` and the chunked check
    (`_chunked`) both take their bound here.
    """
    own = 8 * p.eps * p.condition * (np.abs(d) + largest)
    central = _rounding(p, d, idx) / _steps(p, "central", step, idx)[:, None]
    return np.asarray(np.maximum(own, central))


def on_piece_values(p: Problem, idx: Array) -> tuple[Array, Array]:
    """The complex step at entries `idx` (its bound: `on_piece_error`): the values
    `(k, out)` (NaN when `f` is not complex-safe) and which succeeded (finite, no kink
    reported)."""
    k, out = len(idx), int(np.prod(p.out_shape))
    nothing = np.full((k, out), np.nan), np.zeros(k, dtype=bool)
    h = np.full(k, COMPLEX_STEP)
    try:
        v, crossed = p.along_axes(idx, 1j * h)
    except ComplexStepError:
        return nothing
    if not np.iscomplexobj(v):
        return nothing
    d = v.imag / h[:, None]
    done = ~np.asarray(crossed, dtype=bool) & np.all(np.isfinite(d), axis=1)
    return d, done


def _probe_complex_safety(p: Problem) -> None:
    """Compare the complex step with central differences along one random direction.

    Notes
    -----
    A function that declares ``complex_safe`` is taken at its word. Otherwise the probe
    looks for operations that lose the imaginary part (`abs`, comparisons, `float()`):
    both sides must agree to the central difference's own accuracy. Its points stay
    in float64 and its step comes from the precision of `f`'s values (`p.eps`): at a
    float32 point, rounding `x ± h·u` to float32 moved each entry by up to half an ulp
    of `x`, about the size of `h·u_i`, and the probe refused complex-safe functions
    (71 of 150 float32 networks in the edges sweep's cases).
    """
    if getattr(p.f, "complex_safe", False) is True:
        return
    rng = np.random.default_rng(0)
    u = rng.standard_normal(p.layout.size)
    u /= np.linalg.norm(u)
    x = p.x.astype(np.float64)
    h = float(p.eps ** (1 / 3) * max(1.0, float(np.max(np.abs(x)))))
    vals, crossed = p.at(np.stack([x + h * u, x - h * u]))
    central = (vals[0] - vals[1]) / (2 * h)
    zc = p.call(x + 1e-20j * u)
    if not np.iscomplexobj(zc):
        raise ComplexStepError(
            f"`f` is not complex-safe: it returned {zc.dtype} at a complex point, dropping the "
            "imaginary part (does it call float(), np.real or write into a real array?)"
        )
    cs = zc.reshape(-1).imag / 1e-20
    tol = 1e3 * p.eps ** (2 / 3) * (p.scale + np.abs(central) + 1e-300)
    if not bool(crossed.any()) and np.any(np.abs(cs - central) > tol):
        raise ComplexStepError(
            "`f` is not complex-safe: along a random direction the complex step gives "
            f"{cs[0]:.6g} but central differences give {central[0]:.6g} (does it use abs(), "
            "comparisons or conjugation on its argument?)"
        )


def _scipy(p: Problem, step: float | None) -> Estimate:
    from scipy.optimize import approx_fprime

    if p.out_shape != () and int(np.prod(p.out_shape)) != 1:
        raise ValueError("`method='scipy'` needs a scalar `f`")
    h = _steps(p, "scipy", step)

    def flat_f(v: Array) -> float:
        return float(p.call(v).reshape(-1)[0])

    value = approx_fprime(p.x.astype(np.float64), flat_f, float(h.flat[0]))[:, None]
    # Forward differences: truncation h|f''|/2 unknown here; bound it like "forward".
    rounding = 2 * ROUNDING_ULPS * p.eps * p.floor / h
    error = (rounding + h * _curvature(p, h))[:, None]
    model = (
        f"scipy.optimize.approx_fprime (forward, h = {h.flat[0]:.2e}): truncation ≤ 4·|f''|h/2 "
        f"with |f''| measured on sampled entries; rounding 2·{ROUNDING_ULPS:g}ε|f|/h"
    )
    return Estimate("scipy", value, error, h, p.evaluations, model)


def _curvature(p: Problem, h: Array) -> Array:
    """4·max|f''|/2 per entry's block, from second differences on sampled entries."""
    ok = np.ones(p.layout.size, dtype=bool)
    sample = _sample(p, np.zeros((p.layout.size, 1)), ok)
    hs = np.maximum(h[sample], np.finfo(np.float64).eps ** 0.25)
    v, _ = p.along_axes(np.concatenate([sample, sample]), np.concatenate([hs, -hs]))
    k = len(sample)
    second = np.abs(v[:k, 0] + v[k:, 0] - 2 * p.f0[0]) / hs**2
    out = np.zeros(p.layout.size)
    for _, sl, _ in p.layout.blocks():
        inside = (sample >= sl.start) & (sample < sl.stop)
        if inside.any():
            out[sl] = 2 * second[inside].max()
    return out


def _shaped(p: Problem, flat: Array, jacobian: bool) -> Point:
    """A flat `(P, out)` result as arrays shaped `out_shape + block shape`."""
    flat = flat.T
    out = p.out_shape if jacobian else ()
    if p.layout.names is None:
        return flat.reshape(out + p.layout.shapes[0])
    return {n: flat[:, sl].reshape(out + s) for n, sl, s in p.layout.blocks()}


def numerical_gradient(
    f: Callable[..., Any],
    x: Point,
    *,
    method: str = "central",
    step: float | None = None,
    kinks: Callable[[Any], Any] | None = None,
    batched: bool | None = None,
    full_output: bool = False,
) -> Any:
    """The gradient of a scalar function `f` at `x`, by finite differences.

    Parameters
    ----------
    f : callable
        Takes a point shaped like `x` and returns a scalar. With ``batched=True`` (or a
        true ``f.batched`` attribute) it takes a batch: every array gets a leading axis
        of size `k`, and it returns `k` values. An object with an ``along_axes(x, name,
        index, delta)`` method (see `NetworkLoss`) is evaluated through it.
    x : array or mapping of str to array
        The point: one array of any shape, or named blocks (``{"W_1": ..., "b_1": ...}``).
    method : {"central", "forward", "richardson", "complex", "scipy"}
        The difference scheme; its step and error are in `default_step`'s Notes.
    step : float, optional
        An absolute step for every entry, instead of the default of `default_step`.
    kinks : callable, optional
        Maps a point to the pattern of the smooth pieces it lies on (e.g. the signs of
        the pre-activations). A difference whose evaluations see another pattern than
        `x`'s crossed a kink: it is retried with steps `h/8` and `h/64`, then taken on
        `x`'s own piece (a complex step when `f` declares ``complex_safe = True``,
        else one-sided differences, `_onesided`); an entry none of these reaches is
        NaN, listed in the `Estimate`'s `skipped` with the reason.
        By default ``f.kinks`` when `f` has one. ``method="scipy"`` (scipy's own loop)
        does not look at kinks.
    full_output : bool
        Also return the `Estimate`, with the error bound of every entry.

    Returns
    -------
    array or dict of arrays
        Shaped like `x`; with ``full_output=True``, ``(gradient, estimate)``.

    Raises
    ------
    TypeError, ValueError
        A bad argument: `f` not callable, `x` not numeric or not finite, `f` not scalar.
    FunctionError
        `f` raised; `ComplexStepError` when ``method="complex"`` and `f` is not
        complex-safe.

    Notes
    -----
    The gradient has `P` entries, and they are computed at once, with their errors and
    steps: about 250 bytes a parameter while it works. `check_gradient`, which needs
    each entry only to compare it, takes them in ranges within a memory budget.
    """
    p = Problem(f, x, kinks=kinks, batched=batched, scalar=True)
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, got {method!r}")
    est = estimate(p, method, step)
    grad = _shaped(p, est.value.astype(p.dtype), jacobian=False)
    return (grad, est) if full_output else grad


def numerical_jacobian(
    f: Callable[..., Any],
    x: Point,
    *,
    method: str = "central",
    step: float | None = None,
    kinks: Callable[[Any], Any] | None = None,
    batched: bool | None = None,
    full_output: bool = False,
) -> Any:
    """The Jacobian of an array-valued `f` at `x`, shaped `f(x).shape + x.shape`.

    For named blocks, a dict of such arrays, one per block. The arguments are those of
    `numerical_gradient` (``method="scipy"`` excepted: scipy's `approx_fprime` is for
    scalars); `J[k..., i...] = ∂f_k / ∂x_i`, as for the notes' softmax Jacobian.
    """
    if method == "scipy":
        raise ValueError("`method='scipy'` is for gradients; use another method for a Jacobian")
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, got {method!r}")
    p = Problem(f, x, kinks=kinks, batched=batched, scalar=False)
    est = estimate(p, method, step)
    jac = _shaped(p, est.value.astype(p.dtype), jacobian=True)
    return (jac, est) if full_output else jac
