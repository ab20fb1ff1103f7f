"""`taylor_test`: the convergence order of the first-order Taylor remainder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from checks.engine._args import evaluate_grad, numeric_block, option_number
from checks.engine._problem import ROUNDING_ULPS, Array, Problem

__all__ = ["TaylorResult", "taylor_test"]


@dataclass(frozen=True)
class TaylorResult:
    """The remainders `r(h) = |f(x + h u) - f(x) - h ⟨grad, u⟩|` and their order.

    `order` is the observed order of `r(h) ~ h^order` at the smallest steps above the
    rounding floor: 2 for a right gradient, 1 for a wrong one. `ok` is ``order > 1.5``.
    `used` marks the steps that entered the estimate (above the floor, and crossing no
    kink when `kinks` is known).
    """

    order: float
    ok: bool
    steps: Array
    remainders: Array
    used: Array
    floor: float

    def __str__(self) -> str:
        verdict = "consistent with the gradient" if self.ok else "the gradient is WRONG"
        lines = [f"Taylor test: observed order {self.order:.2f} ({verdict}; 2 if right, 1 if not)"]
        for h, r, u in zip(self.steps, self.remainders, self.used, strict=True):
            lines.append(f"  h = {h:9.3e}  remainder {r:9.3e}{'' if u else '  (not used)'}")
        return "\n".join(lines)


def taylor_test(
    f: Callable[..., Any],
    grad: object,
    x: object,
    *,
    kinks: Callable[[Any], Any] | None = None,
    rng: np.random.Generator | int | None = None,
    steps: int = 16,
    largest: float = 0.1,
) -> TaylorResult:
    """The observed convergence order of the first-order Taylor remainder of `f` at `x`.

    Parameters
    ----------
    f, grad, x
        As for `check_gradient`: `grad` an array, a mapping or a function returning
        the gradient at `x` (it must have the shapes of `x` here).
    kinks : callable, optional
        See `numerical_gradient`; by default ``f.kinks`` when `f` has one. Steps whose
        point lies on another smooth piece than `x` are left out.
    rng : numpy.random.Generator or int, optional
        Draws the direction `u` (default: seed 0).
    steps : int
        The number of steps `h = largest·s / 2^k`, `k = 0..steps-1`, `s = max(1, |x|∞)`.
    largest : float
        The largest step, relative to `s`.

    Notes
    -----
    `r(h) = |h ⟨∇f - grad, u⟩ + h²/2 uᵀ∇²f u + O(h³)|`: when `grad` is right the first
    term vanishes and `r` halves twice per halving of `h`; otherwise it eventually halves
    once. The order is the median of `log2(r(h) / r(h/2))` over the three smallest pairs
    of steps whose remainders lie above the rounding floor `100·ROUNDING_ULPS·ε|f|` and
    cross no kink: no tolerance on the gradient is involved, and a kink at a distance from `x` only
    spoils the largest steps, which are not used.
    """
    if option_number("steps", steps, integer=True) < 3:
        raise ValueError(f"`steps` must be an integer ≥ 3, got {steps!r}")
    if not np.isfinite(option_number("largest", largest)) or largest <= 0:
        raise ValueError(f"`largest` must be a positive number, got {largest!r}")
    p = Problem(f, x, kinks=kinks)
    g = _flat_grad(p, evaluate_grad(p, grad))
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng or 0)
    u = gen.standard_normal(p.layout.size)
    u /= np.linalg.norm(u)
    h = largest * max(1.0, float(np.max(np.abs(p.x)))) / 2.0 ** np.arange(steps)
    values, crossed = p.along(np.broadcast_to(u, (steps, u.size)), h)
    f0 = float(p.f0[0])
    r = np.abs(values[:, 0].astype(np.float64) - f0 - h * float(g @ u))
    floor = 100 * ROUNDING_ULPS * p.eps * max(abs(f0), p.eps)
    used = (r > floor) & ~crossed
    pairs = np.flatnonzero(used[:-1] & used[1:])
    orders = np.log2(r[pairs] / r[pairs + 1])
    if orders.size:
        order = float(np.median(orders[-3:]))
    else:  # every remainder at rounding level: f is linear along u and grad exact
        order = float("inf") if np.all(r[~crossed] <= floor) and (~crossed).any() else np.nan
    return TaylorResult(order, bool(order > 1.5), h, r, used, floor)


def _flat_grad(p: Problem, grad: object) -> Array:
    if p.layout.names is None:
        parts = [numeric_block("grad", grad).astype(np.float64)]
    else:
        if not isinstance(grad, Mapping):
            raise TypeError(f"`grad` must be a mapping like `x`, got {type(grad).__name__}")
        missing = [n for n in p.layout.names if n not in grad]
        if missing:
            raise ValueError(f"`grad` lacks the blocks {missing} of `x`")
        parts = [numeric_block(f"grad[{n!r}]", grad[n]).astype(np.float64) for n in p.layout.names]
    for part, shape, name in zip(parts, p.layout.shapes, p.layout.names or ("x",), strict=True):
        if part.shape != shape:
            raise ValueError(f"`grad` block `{name}` must have shape {shape}, got {part.shape}")
    return np.concatenate([q.reshape(-1) for q in parts])
