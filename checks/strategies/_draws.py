"""How `checks.strategies` draws: shapes, blocks of floats, points, special inputs.

Private to `checks.strategies`, which documents each strategy. Two rules hold here.
Every strategy makes the same number of choices whatever it draws, each over a range
fixed by the bounds, so that when Hypothesis shrinks one choice the others keep their
place and meaning (`indices`, `block`): no example is discarded, and shrinking reaches
the smallest network. And a choice's index 0 is the smallest value that fits (`pick`).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import reject
from hypothesis import strategies as st

from backprop.catalog import Point
from checks.strategies import _bounds as bounds
from checks.strategies import _points

__all__ = [
    "EXP_OVERFLOW",
    "MAX_BLOCK",
    "block",
    "columns_with_ties",
    "distinct_spots",
    "factors",
    "floats",
    "indices",
    "large_logits",
    "layer_widths",
    "networks",
    "one_hot_labels",
    "pick",
    "point_shape",
    "points",
    "telling",
    "with_zeros",
]

FloatArray = npt.NDArray[np.float64]
Params = list[tuple[FloatArray, FloatArray]]

#: The most floats drawn as one fixed-size block (see `block`).
MAX_BLOCK = 300

#: `log` of the largest float64: `exp` overflows above it.
EXP_OVERFLOW = float(np.log(np.finfo(np.float64).max))  # 709.78


def pick(index: int, values: range, *wishes: Callable[[int], bool]) -> int:
    """The `index`-th (cyclically) of `values` meeting the most `wishes`, dropping the last first.

    Index 0 is the smallest value that fits: where Hypothesis shrinks to.
    """
    for k in range(len(wishes), -1, -1):
        fit = [v for v in values if all(wish(v) for wish in wishes[:k])]
        if fit:
            return fit[index % len(fit)]
    raise AssertionError("unreachable: `values` is never empty")  # pragma: no cover


def indices(draw: st.DrawFn, count: int, values: range) -> list[int]:
    """`count` indices into `values`, drawn whatever is later made of them.

    A shape draws as many choices whatever its depth, each over a range fixed by the
    bounds: a choice never changes place or range in Hypothesis's choice sequence when
    an earlier one shrinks, so shrinking the depth and the widths keeps the rest valid
    (a variable number of draws costs about 4% of examples, misaligned and discarded).
    """
    return [draw(st.integers(0, len(values) - 1)) for _ in range(count)]


@st.composite
def layer_widths(
    draw: st.DrawFn, layers: tuple[int, int], width: tuple[int, int], m: int | None
) -> list[int]:
    L = draw(st.integers(*layers))
    values = range(width[0], width[1] + 1)
    widths: list[int] = []
    for index in indices(draw, layers[1] + 1, values)[: L + 1]:
        widths.append(pick(index, values, lambda w: w not in widths and w != m))
    return widths


def factors(n_0: int, n_L: int, m: int) -> list[Fraction]:
    """The factors by which typical mistakes scale a gradient (docs/diagnoses.md), and 1."""
    base = [Fraction(m), Fraction(m * m), Fraction(n_L), Fraction(m, n_0), Fraction(2)]
    return [Fraction(1), Fraction(-1), *base, *(1 / x for x in base)]


@functools.cache
def telling(n_0: int, n_L: int, m: int) -> bool:
    """Whether every typical factor differs from every other: a factor names its mistake."""
    found = factors(n_0, n_L, m)
    return len(set(found)) == len(found)


@st.composite
def point_shape(
    draw: st.DrawFn, layers: tuple[int, int], width: tuple[int, int], ms: tuple[int, int]
) -> tuple[list[int], int]:
    """Widths and `m` for `test_points`: distinct, `m > n_L`, factors telling."""
    L = draw(st.integers(*layers))
    widths_range = range(width[0], width[1] + 1)
    m_range = range(ms[0], ms[1] + 1)
    n_L_index, n_0_index, *hidden_indices = indices(draw, layers[1] + 1, widths_range)
    [m_index] = indices(draw, 1, m_range)
    n_L = pick(n_L_index, widths_range, lambda n: n < ms[1], lambda n: n != 2)
    used = [n_L]

    def m_left(extra: int) -> list[int]:
        return [m for m in m_range if m > n_L and m not in used and m != extra]

    n_0 = pick(
        n_0_index,
        widths_range,
        lambda n: n not in used,
        lambda n: bool(m_left(n)),
        lambda n: any(telling(n, n_L, m) for m in m_left(n)),
    )
    used.append(n_0)
    hidden = []
    for index in hidden_indices[: L - 1]:
        n = pick(
            index,
            widths_range,
            lambda n: n not in used,
            lambda n: bool(m_left(n)),
            lambda n: any(telling(n_0, n_L, m) for m in m_left(n)),
        )
        hidden.append(n)
        used.append(n)
    m = pick(
        m_index,
        m_range,
        lambda m: m >= n_L,
        lambda m: m not in used,
        lambda m: telling(n_0, n_L, m),
    )
    return [n_0, *hidden, n_L], m


def floats(max_abs: float) -> st.SearchStrategy[float]:
    return st.floats(-max_abs, max_abs, allow_nan=False, allow_infinity=False)


def block(
    draw: st.DrawFn, shape: tuple[int, ...], full: tuple[int, ...], elements: st.SearchStrategy[Any]
) -> FloatArray:
    """An array of `shape`, the corner of one of `full` shape drawn whole.

    As many choices whatever `shape` (see `indices`); `fill=nothing()` draws every
    element, rather than a random number of them over a fill value. One block per
    example: Hypothesis discards some 10% of examples drawing arrays of varying shapes
    (measured with `--hypothesis-show-statistics`), none this way. Beyond `MAX_BLOCK`
    elements, `shape` alone is drawn, the usual way: Hypothesis's health check
    refuses a smallest example of some 500 floats or more.
    """
    from hypothesis.extra import numpy as hnp  # on first use: `test_points` draws no block

    if math.prod(full) > MAX_BLOCK:
        return np.array(draw(hnp.arrays(np.float64, shape, elements=elements)))
    whole = draw(hnp.arrays(np.float64, full, elements=elements, fill=st.nothing()))
    return np.array(whole[tuple(slice(0, k) for k in shape)])


def distinct_spots(draw: st.DrawFn, count: int, size: int, full: int) -> list[int]:
    """Up to `count` distinct positions in `range(size)`, from `count` indices in `range(full)`."""
    left, spots = list(range(size)), []
    for index in indices(draw, count, range(full)):
        if left:
            spots.append(left.pop(index % len(left)))
    return spots


@st.composite
def networks(
    draw: st.DrawFn, widths: st.SearchStrategy[list[int]], slots: int, full: int, max_abs: float
) -> Params:
    sizes = draw(widths)
    elements = floats(max_abs)
    if slots * full * (full + 1) > MAX_BLOCK:
        return [
            (
                block(draw, (n_out, n_in), (n_out, n_in), elements),
                block(draw, (n_out, 1), (n_out, 1), elements),
            )
            for n_in, n_out in itertools.pairwise(sizes)
        ]
    # Layer l's slot holds W_l in its first `full` columns and b_l in its last.
    slot = block(draw, (slots, full, full + 1), (slots, full, full + 1), elements)
    return [
        (layer[:n_out, :n_in].copy(), layer[:n_out, full:].copy())
        for (n_in, n_out), layer in zip(itertools.pairwise(sizes), slot, strict=False)
    ]


@st.composite
def one_hot_labels(draw: st.DrawFn, n_L: int, m: int) -> FloatArray:
    if m >= n_L:
        extra = [draw(st.integers(0, n_L - 1)) for _ in range(m - n_L)]
        order = draw(st.permutations(range(m)))
        classes = np.array([*range(n_L), *extra])[order]
    else:
        classes = np.array(draw(st.permutations(range(n_L)))[:m])
    return np.eye(n_L)[:, classes]


@st.composite
def points(
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
    if loss not in bounds.KINDS:
        raise bounds.BadBound(f"`kind` must draw one of {bounds.KINDS}, drew {loss!r}")
    widths, m = draw(shape)
    point = _points.build_point(
        np.random.default_rng(seed), widths, m, loss, margin=margin, min_probability=min_probability
    )
    if point is None:
        reject()  # measured rate: see tests/strategies; construction almost never fails
    return point


@st.composite
def with_zeros(
    draw: st.DrawFn, rows: tuple[int, int], ms: tuple[int, int], max_abs: float
) -> FloatArray:
    shape = (draw(st.integers(*rows)), draw(st.integers(*ms)))
    z = block(draw, shape, (rows[1], ms[1]), floats(max_abs))
    size = z.size
    spots = distinct_spots(draw, 3, size, rows[1] * ms[1])
    magnitude = st.floats(max_abs / 8, max_abs)
    up, down = draw(magnitude), draw(magnitude)
    flat = z.reshape(-1)
    flat[spots[0]] = 0.0
    if size >= 3:
        flat[spots[1]], flat[spots[2]] = up, -down
    return z


@st.composite
def large_logits(
    draw: st.DrawFn, classes: tuple[int, int], ms: tuple[int, int], max_abs: float, spread: float
) -> FloatArray:
    n, m = draw(st.integers(*classes)), draw(st.integers(*ms))
    low, high = EXP_OVERFLOW + spread + 1, max_abs - spread
    # One block of u in [-1, 1]: row 0 gives each column's offset, low + (high - low)|u|,
    # negative where u < 0; the others, the deviations spread u. Shrinks to low, +, 0.
    u = block(draw, (n + 1, m), (classes[1] + 1, ms[1]), st.floats(-1, 1))
    offsets = low + (high - low) * np.abs(u[0])
    offsets[1:] *= np.where(u[0, 1:] < 0, -1, 1)  # the first column overflows exp
    logits: FloatArray = offsets + spread * u[1:]
    return logits


@st.composite
def columns_with_ties(
    draw: st.DrawFn, rows: tuple[int, int], ms: tuple[int, int], max_abs: float
) -> FloatArray:
    n, m = draw(st.integers(*rows)), draw(st.integers(*ms))
    a = block(draw, (n, m), (rows[1], ms[1]), floats(max_abs))
    spots = [distinct_spots(draw, 2, n, rows[1]) for _ in range(ms[1])]
    for j, (first, second) in enumerate(spots[:m]):
        a[first, j] = a[second, j] = a[:, j].max()
    return a
