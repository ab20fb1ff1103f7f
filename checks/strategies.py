"""Hypothesis strategies for the notes' network: widths, parameters, inputs, labels, points.

`test_points` is the one to use for a numerical check of a formula: every point it
draws exposes mistakes instead of hiding them (see `shared/reference/MISTAKES.md`,
"Choose the test point on purpose"). The others are building blocks, and the special
inputs a careful point avoids but a careful test needs on purpose: exact zeros in `z`
(`pre_activations_with_zeros`), softmax overflow (`large_logits`), ties (`columns_with_ties`).

Every strategy takes keyword-only bounds with small defaults, checks them when it is
called (a bad bound raises `hypothesis.errors.InvalidArgument`, which is also a
`ValueError` or `TypeError`, naming it), and shrinks towards the smallest network:
fewest layers, narrowest widths, fewest examples. Arrays are float64.

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

import numpy as np
import numpy.typing as npt
from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from backprop.catalog import Point
from checks import _points

__all__ = [
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
#: `log` of the smallest positive (subnormal) float64: `exp` is exactly 0 below it.
EXP_UNDERFLOW = float(np.log(np.nextafter(0.0, 1.0)))  # -744.44


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


def _pick(draw: st.DrawFn, values: range, *wishes: Callable[[int], bool]) -> int:
    """Draw from `values` meeting the most `wishes`, dropping the last ones first.

    The index drawn ranges over all of `values`, whatever fits: a choice that depends
    on earlier draws keeps its place in Hypothesis's choice sequence, so that earlier
    draws can shrink, and index 0 (the smallest value that fits) is where it shrinks.
    """
    index = draw(st.integers(0, len(values) - 1))
    for k in range(len(wishes), -1, -1):
        fit = [v for v in values if all(wish(v) for wish in wishes[:k])]
        if fit:
            return fit[index % len(fit)]
    raise AssertionError("unreachable: `values` is never empty")  # pragma: no cover


@st.composite
def _layer_widths(
    draw: st.DrawFn, layers: tuple[int, int], width: tuple[int, int], m: int | None
) -> list[int]:
    L = draw(st.integers(*layers))
    widths: list[int] = []
    for _ in range(L + 1):
        widths.append(
            _pick(draw, range(width[0], width[1] + 1), lambda w: w not in widths and w != m)
        )
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
    n_L = _pick(draw, widths_range, lambda n: n < ms[1], lambda n: n != 2)
    used = [n_L]

    def m_left(extra: int) -> list[int]:
        return [m for m in m_range if m > n_L and m not in used and m != extra]

    n_0 = _pick(
        draw,
        widths_range,
        lambda n: n not in used,
        lambda n: bool(m_left(n)),
        lambda n: any(_telling(n, n_L, m) for m in m_left(n)),
    )
    used.append(n_0)
    hidden = []
    for _ in range(L - 1):
        n = _pick(
            draw,
            widths_range,
            lambda n: n not in used,
            lambda n: bool(m_left(n)),
            lambda n: any(_telling(n_0, n_L, m) for m in m_left(n)),
        )
        hidden.append(n)
        used.append(n)
    m = _pick(
        draw, m_range, lambda m: m >= n_L, lambda m: m not in used, lambda m: _telling(n_0, n_L, m)
    )
    return [n_0, *hidden, n_L], m


# --- arrays ---------------------------------------------------------------------------


def _floats(max_abs: float) -> st.SearchStrategy[float]:
    return st.floats(-max_abs, max_abs, allow_nan=False, allow_infinity=False)


@st.composite
def _networks(draw: st.DrawFn, widths: st.SearchStrategy[list[int]], max_abs: float) -> Params:
    sizes = draw(widths)
    elements = _floats(max_abs)
    return [
        (
            draw(hnp.arrays(np.float64, (n_out, n_in), elements=elements)),
            draw(hnp.arrays(np.float64, (n_out, 1), elements=elements)),
        )
        for n_in, n_out in itertools.pairwise(sizes)
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
    else:
        fixed = [_int(f"widths[{i}]", n, at_least=1) for i, n in enumerate(widths)]
        if len(fixed) < 2:
            raise _BadBound(f"`widths` must have at least 2 entries (n_0, n_1), got {fixed}")
        sizes = st.just(fixed)
    return _networks(sizes, bound)


def inputs(n_0: int, m: int, *, max_abs: float = 2.0) -> st.SearchStrategy[FloatArray]:
    """Inputs `X` of shape `(n_0, m)`, float64 entries in `[-max_abs, max_abs]`."""
    shape = (_int("n_0", n_0, at_least=1), _int("m", m, at_least=1))
    return hnp.arrays(np.float64, shape, elements=_floats(_real("max_abs", max_abs, above=0)))


@st.composite
def _one_hot_labels(draw: st.DrawFn, n_L: int, m: int) -> FloatArray:
    if m >= n_L:
        extra = draw(st.lists(st.integers(0, n_L - 1), min_size=m - n_L, max_size=m - n_L))
        order = draw(st.permutations(range(m)))
        classes = np.array([*range(n_L), *extra])[order]
    else:
        classes = np.array(
            draw(st.lists(st.integers(0, n_L - 1), min_size=m, max_size=m, unique=True))
        )
    return np.eye(n_L)[:, classes]


def one_hot_labels(n_L: int, m: int) -> st.SearchStrategy[FloatArray]:
    """One-hot labels `Y` of shape `(n_L, m)`: every class present when `m >= n_L`.

    When `m < n_L`, the `m` classes present are distinct. Shrinks towards classes
    `0, 1, ..., n_L - 1, 0, 0, ...` in order.
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
        Every pre-activation satisfies `|z| > margin`; in `(0, 0.05]`.
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
    min_probability`. A construction that still misses a guarantee is rejected
    (Hypothesis discards the example): measured, 0 in 3000 points of depth 1 to 4.

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
    return _test_points(_point_shape(layers, width, ms), loss, gap, p)


test_points.__test__ = False  # type: ignore[attr-defined]  # not a test, for pytest


# --- special inputs -------------------------------------------------------------------


@st.composite
def _with_zeros(
    draw: st.DrawFn, rows: tuple[int, int], ms: tuple[int, int], max_abs: float
) -> FloatArray:
    shape = (draw(st.integers(*rows)), draw(st.integers(*ms)))
    z = draw(hnp.arrays(np.float64, shape, elements=_floats(max_abs)))
    order = draw(st.permutations(range(z.size)))
    flat = z.reshape(-1)
    magnitude = st.floats(max_abs / 8, max_abs)
    flat[order[0]] = 0.0
    if z.size >= 3:
        flat[order[1]] = draw(magnitude)
        flat[order[2]] = -draw(magnitude)
    return z


def pre_activations_with_zeros(
    *, min_rows: int = 1, max_rows: int = 8, min_m: int = 1, max_m: int = 8, max_abs: float = 2.0
) -> st.SearchStrategy[FloatArray]:
    """Pre-activations `z` `(n, m)` with exact zeros: the mask's convention at 0.

    At least one entry is exactly `0.0`, and when `z` has 3 entries or more, at least
    one is positive and one negative. The others are any floats in
    `[-max_abs, max_abs]`, shrinking towards 0 (so more zeros, signed zeros and
    subnormals come on their own). A finite difference at `z = 0` measures neither
    side of the kink: check `relu_mask` and `dL_dz` there against the notes'
    convention (`1_{R+*}(0) = 0`), not numerically.
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
    offsets = draw(hnp.arrays(np.float64, m, elements=st.floats(low, high)))
    signs = draw(hnp.arrays(np.bool_, m))
    signs[0] = False  # the first column at least overflows exp
    offsets[signs] *= -1
    deviations = draw(hnp.arrays(np.float64, (n, m), elements=st.floats(-spread, spread)))
    logits: FloatArray = offsets + deviations
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

    Each column is an offset of magnitude between `log(max float) + spread + 1 ≈ 721`
    and `max_abs - spread`, positive (every `exp` overflows to inf) or negative (below
    `log(smallest subnormal) ≈ -744`... when the offset is large enough, every `exp`
    underflows to 0), plus deviations within `±spread` so that the softmax is neither
    uniform nor one-hot. The first column is always positive. A softmax without the
    column's maximum subtracted gives NaN here; the notes' network only produces
    `a_L ≥ 0`, but `softmax` itself takes any `a`.
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
    a = draw(hnp.arrays(np.float64, (n, m), elements=_floats(max_abs)))
    for j in range(m):
        first, second = draw(st.permutations(range(n)))[:2]
        a[first, j] = a[second, j] = a[:, j].max()
    return a


def columns_with_ties(
    *, min_rows: int = 2, max_rows: int = 8, min_m: int = 1, max_m: int = 8, max_abs: float = 2.0
) -> st.SearchStrategy[FloatArray]:
    """Arrays `a` `(n, m)` whose every column attains its maximum at least twice.

    The ties of formula `decide` (every maximum gets 1). Entries are floats in
    `[-max_abs, max_abs]` shrinking towards 0, so columns tied everywhere come too.
    """
    rows = _range("rows", min_rows, max_rows, at_least=2)
    ms = _range("m", min_m, max_m, at_least=1)
    return _columns_with_ties(rows, ms, _real("max_abs", max_abs, above=0))
