"""Hypothesis strategies for the notes' network: widths, parameters, inputs, labels, points.

`test_points` is the one to use for a numerical check of a formula: every point it
draws exposes mistakes instead of hiding them (see `shared/reference/MISTAKES.md`,
"Choose the test point on purpose"). The others are building blocks, and the special
inputs a careful point avoids but a careful test needs on purpose: exact zeros in `z`
(`pre_activations_with_zeros`), softmax overflow (`large_logits`), ties (`columns_with_ties`).

Bounds are keyword-only, with small defaults, and checked when the strategy is made
(a bad bound raises `hypothesis.errors.InvalidArgument`, which is also a `ValueError`
or a `TypeError`, naming it), not when it draws. Strategies shrink towards the
smallest network: fewest layers, narrowest widths, fewest examples. Arrays are
float64. Each strategy makes the same number of choices whatever it draws, so that
Hypothesis discards no example (`--hypothesis-show-statistics`: 0 invalid in 1000
examples of each).

Examples
--------
>>> from hypothesis import given
>>> from checks.strategies import test_points
>>> @given(test_points(max_layers=2))
... def test_backward_shapes(point):
...     grads = point.gradients()
...     assert [dW.shape for dW in grads.dW] == [W.shape for W, _ in point.params]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from backprop.catalog import Point
from checks import _points

__all__ = [
    "EXP_OVERFLOW",
    "EXP_UNDERFLOW",
    "columns_with_ties",
    "inputs",
    "large_logits",
    "layer_widths",
    "networks",
    "one_hot_labels",
    "pre_activations_with_zeros",
    "test_points",
]

FloatArray = npt.NDArray[np.float64]
Params = list[tuple[FloatArray, FloatArray]]

KINDS = ("notes", "categorical")
BOTH_KINDS = st.sampled_from(KINDS)

#: `log` of the largest float64: `exp` overflows above it.
EXP_OVERFLOW = float(np.log(np.finfo(np.float64).max))  # 709.78
#: `exp` is exactly 0 below this (`log` of half the smallest subnormal, -745.133...).
EXP_UNDERFLOW = -745.14


class _BadBound(InvalidArgument, ValueError):
    """A bound of a strategy out of its range."""


class _BadType(InvalidArgument, TypeError):
    """A bound of a strategy of the wrong type."""


# --- eager validation -----------------------------------------------------------------


def _int(name: str, value: object, *, at_least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise _BadType(f"`{name}` must be an int, got {value!r}")
    if value < at_least:
        raise _BadBound(f"`{name}` must be at least {at_least}, got {value}")
    return int(value)


def _range(name: str, low: object, high: object, *, at_least: int) -> tuple[int, int]:
    lo = _int(f"min_{name}", low, at_least=at_least)
    hi = _int(f"max_{name}", high, at_least=at_least)
    if lo > hi:
        raise _BadBound(f"`min_{name}` must be at most `max_{name}`, got {lo} > {hi}")
    return lo, hi


def _real(
    name: str, value: object, *, above: float, below: float = np.inf, at_most: float = np.inf
) -> float:
    """`value` in `(above, below)`, or in `(above, at_most]` when `at_most` is given."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise _BadType(f"`{name}` must be a real number, got {value!r}")
    if not (above < value < below and value <= at_most):
        interval = f"({above:g}, {at_most:g}]" if at_most < np.inf else f"({above:g}, {below:g})"
        raise _BadBound(f"`{name}` must be in {interval}, got {value!r}")
    return float(value)


def _kind(kind: object) -> st.SearchStrategy[str]:
    if isinstance(kind, st.SearchStrategy):
        return kind
    if kind not in KINDS:
        raise _BadBound(f"`kind` must be one of {KINDS} or a strategy, got {kind!r}")
    return st.just(str(kind))


# --- shapes ---------------------------------------------------------------------------


def _pick(index: int, values: range, *wishes: Callable[[int], bool]) -> int:
    """The `index`-th (cyclically) of `values` meeting the most `wishes`, dropping the last first.

    Index 0 is the smallest value that fits: where Hypothesis shrinks to.
    """
    for k in range(len(wishes), -1, -1):
        fit = [v for v in values if all(wish(v) for wish in wishes[:k])]
        if fit:
            return fit[index % len(fit)]
    raise AssertionError("unreachable: `values` is never empty")  # pragma: no cover


def _indices(draw: st.DrawFn, count: int, values: range) -> list[int]:
    """`count` indices into `values`, drawn whatever is later made of them.

    A shape draws as many choices whatever its depth, each over a range fixed by the
    bounds: a choice never changes place or range in Hypothesis's choice sequence when
    an earlier one shrinks, so shrinking the depth and the widths keeps the rest valid
    (a variable number of draws costs about 4% of examples, misaligned and discarded).
    """
    return [draw(st.integers(0, len(values) - 1)) for _ in range(count)]


@st.composite
def _layer_widths(
    draw: st.DrawFn, layers: tuple[int, int], width: tuple[int, int], m: int | None
) -> list[int]:
    L = draw(st.integers(*layers))
    values = range(width[0], width[1] + 1)
    widths: list[int] = []
    for index in _indices(draw, layers[1] + 1, values)[: L + 1]:
        widths.append(_pick(index, values, lambda w: w not in widths and w != m))
    return widths


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
    layers = _range("layers", min_layers, max_layers, at_least=1)
    width = _range("width", min_width, max_width, at_least=1)
    if m is not None:
        m = _int("m", m, at_least=1)
    return _layer_widths(layers, width, m)


def _factors(n_0: int, n_L: int, m: int) -> list[Fraction]:
    """The factors by which typical mistakes scale a gradient (MISTAKES.md), and 1."""
    base = [Fraction(m), Fraction(m * m), Fraction(n_L), Fraction(m, n_0), Fraction(2)]
    return [Fraction(1), Fraction(-1), *base, *(1 / x for x in base)]


def _telling(n_0: int, n_L: int, m: int) -> bool:
    """Whether every typical factor differs from every other: a factor names its mistake."""
    factors = _factors(n_0, n_L, m)
    return len(set(factors)) == len(factors)


@st.composite
def _point_shape(
    draw: st.DrawFn, layers: tuple[int, int], width: tuple[int, int], ms: tuple[int, int]
) -> tuple[list[int], int]:
    """Widths and `m` for `test_points`: distinct, `m > n_L`, factors telling."""
    L = draw(st.integers(*layers))
    widths_range = range(width[0], width[1] + 1)
    m_range = range(ms[0], ms[1] + 1)
    n_L_index, n_0_index, *hidden_indices = _indices(draw, layers[1] + 1, widths_range)
    [m_index] = _indices(draw, 1, m_range)
    n_L = _pick(n_L_index, widths_range, lambda n: n < ms[1], lambda n: n != 2)
    used = [n_L]

    def m_left(extra: int) -> list[int]:
        return [m for m in m_range if m > n_L and m not in used and m != extra]

    n_0 = _pick(
        n_0_index,
        widths_range,
        lambda n: n not in used,
        lambda n: bool(m_left(n)),
        lambda n: any(_telling(n, n_L, m) for m in m_left(n)),
    )
    used.append(n_0)
    hidden = []
    for index in hidden_indices[: L - 1]:
        n = _pick(
            index,
            widths_range,
            lambda n: n not in used,
            lambda n: bool(m_left(n)),
            lambda n: any(_telling(n_0, n_L, m) for m in m_left(n)),
        )
        hidden.append(n)
        used.append(n)
    m = _pick(
        m_index,
        m_range,
        lambda m: m >= n_L,
        lambda m: m not in used,
        lambda m: _telling(n_0, n_L, m),
    )
    return [n_0, *hidden, n_L], m


# --- arrays ---------------------------------------------------------------------------


def _floats(max_abs: float) -> st.SearchStrategy[float]:
    return st.floats(-max_abs, max_abs, allow_nan=False, allow_infinity=False)


def _block(
    draw: st.DrawFn, shape: tuple[int, ...], full: tuple[int, ...], elements: st.SearchStrategy[Any]
) -> FloatArray:
    """An array of `shape`, the corner of one of `full` shape drawn whole.

    As many choices whatever `shape` (see `_indices`); `fill=nothing()` draws every
    element, rather than a random number of them over a fill value. One block per
    example: Hypothesis discards some 10% of examples drawing two arrays of different
    shapes in a row (measured with `--hypothesis-show-statistics`), none with one.
    """
    whole = draw(hnp.arrays(np.float64, full, elements=elements, fill=st.nothing()))
    return np.array(whole[tuple(slice(0, k) for k in shape)])


@st.composite
def _networks(
    draw: st.DrawFn, widths: st.SearchStrategy[list[int]], slots: int, full: int, max_abs: float
) -> Params:
    sizes = draw(widths)
    # Layer l's slot holds W_l in its first `full` columns and b_l in its last.
    slot = _block(draw, (slots, full, full + 1), (slots, full, full + 1), _floats(max_abs))
    return [
        (layer[:n_out, :n_in].copy(), layer[:n_out, full:].copy())
        for (n_in, n_out), layer in zip(itertools.pairwise(sizes), slot, strict=False)
    ]


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
    bound = _real("max_abs", max_abs, above=0)
    if widths is None:
        sizes = layer_widths(
            min_layers=min_layers, max_layers=max_layers, min_width=min_width, max_width=max_width
        )
        return _networks(sizes, max_layers, max_width, bound)
    fixed = [_int(f"widths[{i}]", n, at_least=1) for i, n in enumerate(widths)]
    if len(fixed) < 2:
        raise _BadBound(f"`widths` must have at least 2 entries (n_0, n_1), got {fixed}")
    return _networks(st.just(fixed), len(fixed) - 1, max(fixed), bound)


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
    shape = (_int("n_0", n_0, at_least=1), _int("m", m, at_least=1))
    elements = _floats(_real("max_abs", max_abs, above=0))
    return hnp.arrays(np.float64, shape, elements=elements, fill=st.nothing())


@st.composite
def _one_hot_labels(draw: st.DrawFn, n_L: int, m: int) -> FloatArray:
    if m >= n_L:
        extra = [draw(st.integers(0, n_L - 1)) for _ in range(m - n_L)]
        order = draw(st.permutations(range(m)))
        classes = np.array([*range(n_L), *extra])[order]
    else:
        classes = np.array(draw(st.permutations(range(n_L)))[:m])
    return np.eye(n_L)[:, classes]


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
    return _one_hot_labels(_int("n_L", n_L, at_least=1), _int("m", m, at_least=1))


# --- test points ----------------------------------------------------------------------


@st.composite
def _test_points(
    draw: st.DrawFn,
    shape: st.SearchStrategy[tuple[list[int], int]],
    kind: st.SearchStrategy[str],
    margin: float,
    min_probability: float,
) -> Point:
    # The seed and the loss first, the shape last: a choice whose range depends on the
    # shape would misalign Hypothesis's choice sequence when the shape shrinks.
    seed = draw(st.integers(0, 2**32 - 1))
    loss = draw(kind)
    if loss not in KINDS:
        raise _BadBound(f"`kind` must draw one of {KINDS}, drew {loss!r}")
    widths, m = draw(shape)
    point = _points.build_point(
        np.random.default_rng(seed), widths, m, loss, margin=margin, min_probability=min_probability
    )
    if point is None:
        reject()  # measured rate: see tests/strategies; construction almost never fails
    return point


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
        some and inactive on others; 3 by default, see MISTAKES.md).
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
    steps `h = ε^(1/3) max(1, |θ|) ≈ 6e-6 max(1, |θ|)` (`checks._numdiff`); it moves
    `z_l` by about `h |∂z_l/∂θ|`: `h |a_{l-1}|` for `θ` in `W_l` (activations of a few
    units), `h` for `b_l`, and that times the weights of the layers in between for
    earlier layers. Weights are kept within 4 (`checks._points.MAX_WEIGHT`) for this.
    Measured over 5000 points of depth 1 to 4, one step moved a `z` by at most 5e-4
    (median 3e-5): the default `margin = 1e-2` is 20 times that, and the tests check,
    on every drawn point, that a step 10 times the engine's moves no `z` by `margin`.
    Richardson's first step, `ε^(1/5)` (120 times the central one), may rarely cross
    a kink; the engine detects crossings and retries with smaller steps.

    *The softmax bound.* `min_probability = 1e-2` keeps the central-difference
    truncation error of the notes' loss in `ŷ` (`h² |f'''| / 6`, with `f''' ~ 2/(m ŷ³)`)
    below about `1e-7` of its gradient (`~1/(m ŷ)`), and `ŷ ± h` inside `(0, 1)`.
    """
    layers = _range("layers", min_layers, max_layers, at_least=1)
    width = _range("width", min_width, max_width, at_least=2)
    ms = _range("m", min_m, max_m, at_least=2)
    loss = _kind(kind)
    gap = _real("margin", margin, above=0, at_most=0.05)
    p = _real("min_probability", min_probability, above=0, below=1 / width[1])
    # m values of standard deviation σ span at least 2σ, so some two consecutive ones
    # are 2σ/(m - 1) apart: a cut with a gap over 2 margin exists if margin < σ/(m - 1).
    # σ is smallest in the last layer, at n_L = max_width and m = max_m; ask for twice.
    sigma = _points.last_layer_scale(width[1], ms[1], p)
    if 2 * gap * (ms[1] - 1) >= sigma:
        raise _BadBound(
            f"`margin` must be below {sigma / (2 * (ms[1] - 1)):.3g} with `max_m` = {ms[1]}, "
            f"`max_width` = {width[1]} and `min_probability` = {p:g} (the last layer's "
            f"pre-activations then have standard deviation {sigma:.3g}), got {gap:g}"
        )
    return _test_points(_point_shape(layers, width, ms), loss, gap, p)


test_points.__test__ = False  # type: ignore[attr-defined]  # not a test, for pytest


# --- special inputs -------------------------------------------------------------------


@st.composite
def _with_zeros(
    draw: st.DrawFn, rows: tuple[int, int], ms: tuple[int, int], max_abs: float
) -> FloatArray:
    shape = (draw(st.integers(*rows)), draw(st.integers(*ms)))
    z = _block(draw, shape, (rows[1], ms[1]), _floats(max_abs))
    size = z.size
    spots = [k for k in draw(st.permutations(range(rows[1] * ms[1]))) if k < size]
    magnitude = st.floats(max_abs / 8, max_abs)
    up, down = draw(magnitude), draw(magnitude)
    flat = z.reshape(-1)
    flat[spots[0]] = 0.0
    if size >= 3:
        flat[spots[1]], flat[spots[2]] = up, -down
    return z


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
    rows = _range("rows", min_rows, max_rows, at_least=1)
    ms = _range("m", min_m, max_m, at_least=1)
    return _with_zeros(rows, ms, _real("max_abs", max_abs, above=0))


@st.composite
def _large_logits(
    draw: st.DrawFn, classes: tuple[int, int], ms: tuple[int, int], max_abs: float, spread: float
) -> FloatArray:
    n, m = draw(st.integers(*classes)), draw(st.integers(*ms))
    low, high = EXP_OVERFLOW + spread + 1, max_abs - spread
    # One block of u in [-1, 1]: row 0 gives each column's offset, low + (high - low)|u|,
    # negative where u < 0; the others, the deviations spread u. Shrinks to low, +, 0.
    u = _block(draw, (n + 1, m), (classes[1] + 1, ms[1]), st.floats(-1, 1))
    offsets = low + (high - low) * np.abs(u[0])
    offsets[1:] *= np.where(u[0, 1:] < 0, -1, 1)  # the first column overflows exp
    logits: FloatArray = offsets + spread * u[1:]
    return logits


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
    classes = _range("classes", min_classes, max_classes, at_least=1)
    ms = _range("m", min_m, max_m, at_least=1)
    d = _real("spread", spread, above=0)
    least = EXP_OVERFLOW + 2 * d + 1
    bound = _real("max_abs", max_abs, above=least, below=np.inf)
    return _large_logits(classes, ms, bound, d)


@st.composite
def _columns_with_ties(
    draw: st.DrawFn, rows: tuple[int, int], ms: tuple[int, int], max_abs: float
) -> FloatArray:
    n, m = draw(st.integers(*rows)), draw(st.integers(*ms))
    a = _block(draw, (n, m), (rows[1], ms[1]), _floats(max_abs))
    orders = [draw(st.permutations(range(rows[1]))) for _ in range(ms[1])]
    for j in range(m):
        first, second = [k for k in orders[j] if k < n][:2]
        a[first, j] = a[second, j] = a[:, j].max()
    return a


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
    rows = _range("rows", min_rows, max_rows, at_least=2)
    ms = _range("m", min_m, max_m, at_least=1)
    return _columns_with_ties(rows, ms, _real("max_abs", max_abs, above=0))
