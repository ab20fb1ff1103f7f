"""Hypothesis strategies for the notes' network: widths, parameters, inputs, labels, points.

`test_points` is the one to use for a numerical check of a formula: every point it
draws exposes mistakes instead of hiding them (see docs/contract.md,
"What the checker promises"). The others are building blocks, and the special
inputs a careful point avoids but a careful test needs on purpose: exact zeros in `z`
(`pre_activations_with_zeros`), softmax overflow (`large_logits`), ties (`columns_with_ties`).

Bounds are keyword-only, with small defaults, and checked when the strategy is made
(a bad bound raises `hypothesis.errors.InvalidArgument`, which is also a `ValueError`
or a `TypeError`, naming it), not when it draws. Strategies shrink towards the
smallest network: fewest layers, narrowest widths, fewest examples. Arrays are
float64. At the default bounds, each strategy makes the same number of choices
whatever it draws, so that Hypothesis discards no example
(`--hypothesis-show-statistics`: 0 invalid in 1000 examples of each); with bounds
allowing arrays of more than 300 floats, some 10% are discarded.

Examples
--------
>>> from hypothesis import given
>>> from checks.strategies import test_points
>>> @given(test_points(max_layers=2))
... def test_backward_shapes(point):
...     grads = point.gradients()
...     assert [dW.shape for dW in grads.dW] == [W.shape for W, _ in point.params]
>>> test_backward_shapes()
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st

from backprop.catalog import Point
from checks.strategies import _bounds as bounds
from checks.strategies import _draws as draws
from checks.strategies import _edges, _points
from checks.strategies._bounds import KINDS
from checks.strategies._draws import EXP_OVERFLOW, FloatArray, Params

__all__ = [
    "EDGE_REGIONS",
    "EXP_OVERFLOW",
    "EXP_UNDERFLOW",
    "columns_with_ties",
    "edge_points",
    "fixed_points",
    "inputs",
    "large_logits",
    "layer_widths",
    "networks",
    "one_hot_labels",
    "pre_activations_with_zeros",
    "test_points",
]

BOTH_KINDS = st.sampled_from(KINDS)

#: `exp` is exactly 0 below this (`log` of half the smallest subnormal, -745.133...).
EXP_UNDERFLOW = -745.14


# --- shapes ---------------------------------------------------------------------------


def layer_widths(
    *,
    min_layers: int = 1,
    max_layers: int = 3,
    min_width: int = 2,
    max_width: int = 8,
    m: int | None = None,
) -> st.SearchStrategy[list[int]]:
    """Widths `[n_0, n_1, ..., n_L]` of a network of `L` layers.

    Parameters
    ----------
    min_layers, max_layers : int
        Bounds on the number of layers `L` (at least 1).
    min_width, max_width : int
        Bounds on every width `n_l` (at least 1).
    m : int, optional
        A number of examples the widths should differ from.

    Returns
    -------
    SearchStrategy[list[int]]
        Widths distinct from each other and from `m` as far as the bounds allow (when
        they do not, the last widths drawn repeat earlier ones). Shrinks towards one
        layer and the smallest widths.
    """
    layers = bounds.check_range("layers", min_layers, max_layers, at_least=1)
    width = bounds.check_range("width", min_width, max_width, at_least=1)
    if m is not None:
        m = bounds.check_int("m", m, at_least=1)
    return draws.layer_widths(layers, width, m)


# --- arrays ---------------------------------------------------------------------------


def networks(
    *,
    min_layers: int = 1,
    max_layers: int = 3,
    min_width: int = 2,
    max_width: int = 8,
    widths: Sequence[int] | None = None,
    max_abs: float = 1.0,
) -> st.SearchStrategy[Params]:
    """Parameters `[(W_1, b_1), ..., (W_L, b_L)]`, `W_l` `(n_l, n_{l-1})`, `b_l` `(n_l, 1)`.

    Parameters
    ----------
    min_layers, max_layers, min_width, max_width : int
        Bounds on the shape, as in `layer_widths`.
    widths : sequence of int, optional
        Fixed widths `[n_0, ..., n_L]` instead of drawn ones.
    max_abs : float
        Bound on every entry.

    Returns
    -------
    SearchStrategy[list[tuple[ndarray, ndarray]]]
        Float64 entries drawn by Hypothesis (shrinking towards 0), with no guarantee on
        the pre-activations: exact zeros and dead units happen. For a numerical check,
        use `test_points`.
    """
    bound = bounds.check_real("max_abs", max_abs, above=0)
    if widths is None:
        sizes = layer_widths(
            min_layers=min_layers, max_layers=max_layers, min_width=min_width, max_width=max_width
        )
        return draws.networks(sizes, max_layers, max_width, bound)
    fixed = [bounds.check_int(f"widths[{i}]", n, at_least=1) for i, n in enumerate(widths)]
    if len(fixed) < 2:
        raise bounds.BadBound(f"`widths` must have at least 2 entries (n_0, n_1), got {fixed}")
    return draws.networks(st.just(fixed), len(fixed) - 1, max(fixed), bound)


def inputs(n_0: int, m: int, *, max_abs: float = 2.0) -> st.SearchStrategy[FloatArray]:
    """Inputs `X` of shape `(n_0, m)`.

    Parameters
    ----------
    n_0, m : int
        The number of inputs and of examples.
    max_abs : float
        Bound on every entry.

    Returns
    -------
    SearchStrategy[ndarray]
        Float64 arrays `(n_0, m)`, entries in `[-max_abs, max_abs]`, shrinking to 0.
    """
    shape = (bounds.check_int("n_0", n_0, at_least=1), bounds.check_int("m", m, at_least=1))
    elements = draws.floats(bounds.check_real("max_abs", max_abs, above=0))
    from hypothesis.extra import numpy as hnp  # on first use: `test_points` does not need it

    return hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing())


def one_hot_labels(n_L: int, m: int) -> st.SearchStrategy[FloatArray]:
    """One-hot labels `Y` of shape `(n_L, m)`, examples as columns.

    Parameters
    ----------
    n_L, m : int
        The number of classes and of examples.

    Returns
    -------
    SearchStrategy[ndarray]
        Float64 one-hot columns with every class present when `m >= n_L`, and `m`
        distinct classes otherwise. Shrinks towards classes `0, 1, ..., n_L - 1, 0,
        0, ...` in order.
    """
    return draws.one_hot_labels(
        bounds.check_int("n_L", n_L, at_least=1), bounds.check_int("m", m, at_least=1)
    )


# --- test points ----------------------------------------------------------------------


def test_points(
    *,
    min_layers: int = 1,
    max_layers: int = 3,
    min_width: int = 2,
    max_width: int = 8,
    min_m: int = 3,
    max_m: int = 8,
    kind: str | st.SearchStrategy[str] = BOTH_KINDS,
    margin: float = 1e-2,
    min_probability: float = 1e-2,
) -> st.SearchStrategy[Point]:
    """Test points `Point(params, X, Y, kind)` on which a wrong formula shows.

    Parameters
    ----------
    min_layers, max_layers : int
        Bounds on the number of layers `L` (at least 1).
    min_width, max_width : int
        Bounds on every width `n_0, ..., n_L` (at least 2: softmax over one class is 1).
    min_m, max_m : int
        Bounds on the number of examples `m` (at least 2, for a unit to be active on
        some and inactive on others; 3 by default, see docs/contract.md).
    kind : str or SearchStrategy[str]
        The loss, ``"notes"`` or ``"categorical"``, or a strategy of them (both, by
        default).
    margin : float
        Every pre-activation satisfies `|z| > margin`; in `(0, 0.05]`, and small
        enough for the bounds (see Notes).
    min_probability : float
        Every `ŷ` lies in `[min_probability, 1 - min_probability]`; in
        `(0, 1 / max_width)`.

    Returns
    -------
    SearchStrategy[Point]
        Points with, where the bounds allow: widths distinct from each other and from
        `m`, `m > n_L`, `n_L ≠ 2`, and the factors by which typical mistakes scale a
        gradient (`m`, `m²`, `n_L`, `m/n_0`, 2, their inverses, -1) all different,
        so a fitted factor names its mistake. Always: every unit of every layer
        (the last too: the notes apply ReLU before the softmax) active on some
        examples and inactive on others; every example active in some unit of each
        layer; `|z| > margin` everywhere; `ŷ` unsaturated; every class present in `Y`
        when `m ≥ n_L`. Shrinks towards one layer, the smallest widths and `m`, the
        ``"notes"`` loss.

    Notes
    -----
    *By construction, not by filtering.* Hypothesis draws the shape and a seed; a
    `numpy.random.Generator` from that seed draws the labels, `X` and the weights
    (standard normal). Each unit's weights are rescaled so that its pre-activations
    over the examples have standard deviation 1, and its bias is set to minus a cut
    between two consecutive sorted pre-activations more than `2 margin` apart, so that
    they straddle 0 with `|z| > margin`. An example left inactive in every unit gets a
    lower cut in one unit (or one unit's weights negated). The last layer's standard
    deviation is `min(1, D / √(2m))`, with `D = log((1/p - 1) / (n_L - 1))`, which
    bounds the spread of each column of `a_L` by `D` and so `ŷ` by `p =
    min_probability`. `m` values of standard deviation `σ` have two consecutive ones
    at least `2σ / (m - 1)` apart, so a cut exists when `margin < σ / (m - 1)`; the
    bounds must allow twice that, or `test_points` refuses them. A construction that
    still misses a guarantee is rejected (Hypothesis discards the example): measured,
    0 in 3000 points of depth 1 to 4 at the defaults.

    *Why a seed rather than Hypothesis-drawn floats.* The values are tied together by
    the guarantees; Hypothesis shrinking them one by one towards 0 would only break the
    guarantees (ties, zero gaps) for the construction to repair. What makes a
    counterexample small is its shape, and the shape is drawn, and shrinks, directly.

    *The margin.* Pre-activations have unit scale (the last layer's, less), so
    `margin` is relative to that scale. A central difference in one parameter `θ`
    steps `h = ε^(1/3) max(1, |θ|) ≈ 6e-6 max(1, |θ|)` (`checks.engine._numdiff`); it moves
    `z_l` by about `h |∂z_l/∂θ|`: `h |a_{l-1}|` for `θ` in `W_l` (activations of a few
    units), `h` for `b_l`, and that times the weights of the layers in between for
    earlier layers. Weights are kept within 4 (`checks.strategies._points.MAX_WEIGHT`) for this.
    Measured over 5000 points of depth 1 to 4, one step moved a `z` by at most 5e-4
    (median 3e-5): the default `margin = 1e-2` is 20 times that, and the tests check,
    on every drawn point, that a step 10 times the engine's moves no `z` by `margin`.
    Richardson's first step, `ε^(1/5)` (120 times the central one), may rarely cross
    a kink; the engine detects crossings and retries with smaller steps.

    *The softmax bound.* `min_probability = 1e-2` keeps the central-difference
    truncation error of the notes' loss in `ŷ` (`h² |f'''| / 6`, with `f''' ~ 2/(m ŷ³)`)
    below about `1e-7` of its gradient (`~1/(m ŷ)`), and `ŷ ± h` inside `(0, 1)`.
    """
    layers = bounds.check_range("layers", min_layers, max_layers, at_least=1)
    width = bounds.check_range("width", min_width, max_width, at_least=2)
    ms = bounds.check_range("m", min_m, max_m, at_least=2)
    loss = bounds.check_kind(kind)
    gap = bounds.check_real("margin", margin, above=0, at_most=0.05)
    p = bounds.check_real("min_probability", min_probability, above=0, below=1 / width[1])
    # m values of standard deviation σ span at least 2σ, so some two consecutive ones
    # are 2σ/(m - 1) apart: a cut with a gap over 2 margin exists if margin < σ/(m - 1).
    # σ is smallest in the last layer, at n_L = max_width and m = max_m; ask for twice.
    sigma = _points.last_layer_scale(width[1], ms[1], p)
    if 2 * gap * (ms[1] - 1) >= sigma:
        raise bounds.BadBound(
            f"`margin` must be below {sigma / (2 * (ms[1] - 1)):.3g} with `max_m` = {ms[1]}, "
            f"`max_width` = {width[1]} and `min_probability` = {p:g} (the last layer's "
            f"pre-activations then have standard deviation {sigma:.3g}), got {gap:g}"
        )
    return draws.points(draws.point_shape(layers, width, ms), loss, gap, p)


test_points.__test__ = False  # type: ignore[attr-defined]  # not a test, for pytest


def fixed_points(
    widths: Sequence[int], *, kind: str | st.SearchStrategy[str] = "notes", extra_m: int = 5
) -> st.SearchStrategy[Point]:
    """Test points of one fixed architecture `widths = (n_0, ..., n_L)`.

    The guarantees of `test_points` (units active on some examples and not others,
    `|z| > margin`, `ŷ` unsaturated, every class present) with the widths given: for a
    course whose configuration fixes `layers`. `m` ranges over `n_L + 1 ..
    n_L + 1 + extra_m` (at least 3).

    Notes
    -----
    The softmax bound and the margin are derived from the widths as `test_points`
    derives them from its bounds: `min_probability = min(1e-2, 1 / (2 n_L))`, and the
    margin is a quarter of the largest one a cut is guaranteed for at the largest `m`
    (`σ / (m - 1)`, `σ` the last layer's scale), capped at `1e-2`.
    """
    sizes = [int(n) for n in widths]
    if len(sizes) < 2 or min(sizes) < 1 or sizes[-1] < 2:
        raise bounds.BadBound(
            f"`widths` must be at least 2 positive widths ending with n_L ≥ 2, got {widths!r}"
        )
    loss = bounds.check_kind(kind)
    n_L = sizes[-1]
    low = max(3, n_L + 1)
    high = low + bounds.check_int("extra_m", extra_m, at_least=0)
    p = min(1e-2, 1 / (2 * n_L))
    gap = min(1e-2, _points.last_layer_scale(n_L, high, p) / (4 * (high - 1)))
    shape = st.tuples(st.just(sizes), st.integers(low, high))
    return draws.points(shape, loss, gap, p)


fixed_points.__test__ = False  # type: ignore[attr-defined]


#: The regions `edge_points` draws from (see there).
EDGE_REGIONS = _edges.REGIONS


def edge_points(
    *,
    max_layers: int = 3,
    max_width: int = 6,
    max_m: int = 5,
    kind: str | st.SearchStrategy[str] = BOTH_KINDS,
    regions: Sequence[str] = EDGE_REGIONS,
) -> st.SearchStrategy[Point]:
    """Points at the edges of the input space, where `test_points` never goes.

    Parameters
    ----------
    max_layers, max_width, max_m : int
        Bounds on the number of layers, every width (from 1) and `m` (from 1).
    kind : str or SearchStrategy[str]
        The loss, or a strategy of them (both, by default).
    regions : sequence of str
        Drawn from, among `EDGE_REGIONS`:

        - ``"kink"``: in every layer one pre-activation exactly 0 and, in another unit,
          one at `±2^-30`, far below a central-difference step;
        - ``"saturated"``: one last-layer unit's logits 40, 64 or 800 above the others:
          `ŷ` rounds to 1, and a softmax without its max shift overflows;
        - ``"ties"``: two last-layer units with the same weights, so every column of
          `a_L` ties (at its maximum, in some columns);
        - ``"one-class"``: `n_L = 1`, where `ŷ = 1` and the loss is 0;
        - ``"float32"``: the parameters, `X` and `Y` as float32 arrays.

    Returns
    -------
    SearchStrategy[Point]
        Points whose values are all multiples of 1/8 (planted offsets, of a power
        of 2), so that a planted zero is exactly 0 in float64 and every value is
        exact in float32. Shrinks towards one layer, width 1, one example.

    Notes
    -----
    A finite difference at such a point may cross a kink: the engine checks those
    entries on the point's own piece (a complex step or one-sided differences), and an
    entry that no difference reaches is reported ``"unchecked"``, never passed. The
    point is where a mask `z >= 0`, a softmax without its shift, `decide` through
    `argmax`, a float32 cast or a loss of probabilities instead of logits shows;
    `test_points` keeps away
    from it on purpose so that its differences need no care.
    """
    layers = bounds.check_int("max_layers", max_layers, at_least=1)
    widths_top = bounds.check_int("max_width", max_width, at_least=2)
    ms_top = bounds.check_int("max_m", max_m, at_least=1)
    loss = bounds.check_kind(kind)
    chosen = tuple(regions)
    unknown = [r for r in chosen if r not in EDGE_REGIONS]
    if not chosen or unknown:
        raise bounds.BadBound(f"`regions` must be drawn from {EDGE_REGIONS}, got {chosen!r}")

    @st.composite
    def draw_point(draw: st.DrawFn) -> Point:
        seed = draw(st.integers(0, 2**32 - 1))
        point_kind = draw(loss)
        if point_kind not in KINDS:
            raise bounds.BadBound(f"`kind` must draw one of {KINDS}, drew {point_kind!r}")
        region = draw(st.sampled_from(chosen))
        L = draw(st.integers(1, layers))
        widths = [draw(st.integers(1, widths_top)) for _ in range(L + 1)]
        n_L = draw(st.integers(2, widths_top))
        widths[-1] = 1 if region == "one-class" else n_L
        m = draw(st.integers(1, ms_top))
        rng = np.random.default_rng(seed)
        return _edges.build_edge_point(rng, widths, m, point_kind, region)

    return draw_point()


# --- special inputs -------------------------------------------------------------------


def pre_activations_with_zeros(
    *, min_rows: int = 1, max_rows: int = 8, min_m: int = 1, max_m: int = 8, max_abs: float = 2.0
) -> st.SearchStrategy[FloatArray]:
    """Pre-activations `z` `(n, m)` with exact zeros: for the mask's convention at 0.

    Parameters
    ----------
    min_rows, max_rows : int
        Bounds on the number of units `n` (at least 1).
    min_m, max_m : int
        Bounds on the number of examples `m` (at least 1).
    max_abs : float
        Bound on every entry.

    Returns
    -------
    SearchStrategy[ndarray]
        Float64 arrays with at least one entry exactly `0.0` and, when they have 3
        entries or more, at least one positive and one negative (of magnitude at
        least `max_abs / 8`). The other entries are any floats in `[-max_abs,
        max_abs]`, shrinking to 0: more zeros, `-0.0` and subnormals come on their own.

    Notes
    -----
    A finite difference at `z = 0` measures neither side of the kink (a central one
    gives 1/2): check `relu_mask` and `dL_dz` there against the notes' convention,
    `1_{R+*}(0) = 0`, not numerically. A mask `z >= 0` differs from the correct one
    only at these entries.
    """
    rows = bounds.check_range("rows", min_rows, max_rows, at_least=1)
    ms = bounds.check_range("m", min_m, max_m, at_least=1)
    return draws.with_zeros(rows, ms, bounds.check_real("max_abs", max_abs, above=0))


def large_logits(
    *,
    min_classes: int = 2,
    max_classes: int = 8,
    min_m: int = 1,
    max_m: int = 8,
    max_abs: float = 1e3,
    spread: float = 10.0,
) -> st.SearchStrategy[FloatArray]:
    """Logits `a` `(n, m)` with `|a|` up to `max_abs`: the overflow of a naive softmax.

    Parameters
    ----------
    min_classes, max_classes : int
        Bounds on the number of classes `n` (at least 1).
    min_m, max_m : int
        Bounds on the number of examples `m` (at least 1).
    max_abs : float
        Bound on every `|a|`; above `EXP_OVERFLOW + 2 spread + 1` (about 730).
    spread : float
        Bound on the deviations of a column from its offset.

    Returns
    -------
    SearchStrategy[ndarray]
        Float64 arrays whose every column is an offset plus deviations within
        `±spread`, so that the softmax is neither uniform nor one-hot. The offsets'
        magnitudes lie in `[EXP_OVERFLOW + spread + 1, max_abs - spread]`: a positive
        column overflows `exp` in every entry, a negative one goes below
        `-EXP_OVERFLOW`, and, at offsets under `EXP_UNDERFLOW - spread`, underflows
        `exp` to 0 in every entry. The first column is always positive. Shrinks to
        the smallest positive offset and no deviation.

    Notes
    -----
    A softmax without the column's maximum subtracted gives inf/inf or 0/0, NaN, on
    every such column. The notes' network only produces `a_L ≥ 0`; `softmax` itself
    takes any `a`.
    """
    classes = bounds.check_range("classes", min_classes, max_classes, at_least=1)
    ms = bounds.check_range("m", min_m, max_m, at_least=1)
    d = bounds.check_real("spread", spread, above=0)
    least = EXP_OVERFLOW + 2 * d + 1
    bound = bounds.check_real("max_abs", max_abs, above=least, below=np.inf)
    return draws.large_logits(classes, ms, bound, d)


def columns_with_ties(
    *, min_rows: int = 2, max_rows: int = 8, min_m: int = 1, max_m: int = 8, max_abs: float = 2.0
) -> st.SearchStrategy[FloatArray]:
    """Arrays `a` `(n, m)` whose every column attains its maximum at least twice.

    Parameters
    ----------
    min_rows, max_rows : int
        Bounds on the number of rows `n` (at least 2, to tie).
    min_m, max_m : int
        Bounds on the number of columns `m` (at least 1).
    max_abs : float
        Bound on every entry.

    Returns
    -------
    SearchStrategy[ndarray]
        Float64 arrays, entries in `[-max_abs, max_abs]` shrinking to 0, so that ties
        of three and more, and columns tied everywhere, come too.

    Notes
    -----
    The ties of formula `decide`: every maximum of a column gets 1. An `argmax` picks
    one and gives a single 1.
    """
    rows = bounds.check_range("rows", min_rows, max_rows, at_least=2)
    ms = bounds.check_range("m", min_m, max_m, at_least=1)
    return draws.columns_with_ties(rows, ms, bounds.check_real("max_abs", max_abs, above=0))
