"""The strategies reach the properties they promise, check their bounds, and shrink.

Every property is asserted on every drawn example, with numpy written here (not the
strategies' own gate, `checks.strategies._points.defects`); `hypothesis.find` shows that the far
ends of the bounds and the special values are reached, and that the minimal example is
the smallest network.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from random import Random
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import Phase, find, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import backprop
from backprop.catalog import Point
from checks.strategies import (
    EXP_OVERFLOW,
    EXP_UNDERFLOW,
    _points,
    columns_with_ties,
    inputs,
    large_logits,
    layer_widths,
    networks,
    one_hot_labels,
    pre_activations_with_zeros,
    test_points,
)

Array = npt.NDArray[np.float64]
MARGIN = 1e-2  # the default `margin` of `test_points`
P_MIN = 1e-2  # the default `min_probability`
STEP = np.finfo(np.float64).eps ** (1 / 3)  # the engine's central step, per unit of max(1, |θ|)


def widths_of(point: Point) -> list[int]:
    return [point.params[0][0].shape[1]] + [W.shape[0] for W, _ in point.params]


def search(strategy: st.SearchStrategy[Any], condition: Callable[[Any], bool]) -> Any:
    """The minimal example meeting `condition`, reproducibly."""
    quick = settings(database=None, max_examples=400, phases=[Phase.generate, Phase.shrink])
    return find(strategy, condition, settings=quick, random=Random(0))


def reach(strategy: st.SearchStrategy[Any], condition: Callable[[Any], bool]) -> Any:
    """An example meeting `condition`, reproducibly, not shrunk (faster)."""
    quick = settings(database=None, max_examples=400, phases=[Phase.generate])
    return find(strategy, condition, settings=quick, random=Random(0))


# --- test points: every guarantee, on every example ------------------------------------


def typical_factors(n_0: int, n_L: int, m: int) -> list[Fraction]:
    """The factors of docs/diagnoses.md's signatures (and 1): each must name one mistake."""
    base = [Fraction(m), Fraction(m * m), Fraction(n_L), Fraction(m, n_0), Fraction(2)]
    return [Fraction(1), Fraction(-1), *base, *(1 / x for x in base)]


@given(test_points())
def test_points_have_telling_shapes(point: Point) -> None:
    widths, m = widths_of(point), point.X.shape[1]
    assert 1 <= len(point.params) <= 3
    assert all(2 <= n <= 8 for n in widths) and 3 <= m <= 8
    assert len(set(widths)) == len(widths), "widths must differ from each other"
    assert m not in widths, "m must differ from every width"
    assert m > widths[-1] != 2
    factors = typical_factors(widths[0], widths[-1], m)
    assert len(set(factors)) == len(factors)
    assert point.kind in ("notes", "categorical")
    for (W, b), n_prev, n in zip(point.params, widths, widths[1:], strict=False):
        assert W.dtype == b.dtype == np.float64
        assert W.shape == (n, n_prev) and b.shape == (n, 1)
    assert point.X.dtype == point.Y.dtype == np.float64 and point.X.shape == (widths[0], m)


@given(test_points(max_layers=4))
def test_points_mix_active_and_inactive_units_away_from_zero(point: Point) -> None:
    for z in point.cache().z:  # every layer, the last too: ReLU precedes the softmax
        assert np.abs(z).min() > MARGIN
        assert np.all((z > 0).any(axis=1)), "a unit inactive on every example"
        assert np.all((z < 0).any(axis=1)), "a unit active on every example"
        assert np.all((z > 0).any(axis=0)), "an example inactive in every unit"


@given(test_points(max_layers=4))
def test_points_keep_the_softmax_unsaturated_and_every_class(point: Point) -> None:
    y_hat = point.cache().y_hat
    assert y_hat.min() >= P_MIN and y_hat.max() <= 1 - P_MIN
    Y = point.Y
    assert np.all(np.isin(Y, (0.0, 1.0))) and np.all(Y.sum(axis=0) == 1)
    assert np.all(Y.sum(axis=1) >= 1), "every class present"


def pre_activations(params: list[tuple[Array, Array]], X: Array) -> Array:
    zs, a = [], X
    for W, b in params:
        z = W @ a + b
        zs.append(z.ravel())
        a = np.maximum(z, 0)
    return np.concatenate(zs)


@given(test_points(max_layers=4))
def test_ten_central_difference_steps_in_one_parameter_move_no_z_by_the_margin(
    point: Point,
) -> None:
    # The engine's step is `ε^(1/3) max(1, |θ|)`; with |z| > margin, no step crosses a kink.
    params = [(W.copy(), b.copy()) for W, b in point.params]
    before = pre_activations(params, point.X)
    for array in (x for pair in params for x in pair):
        for i in np.ndindex(array.shape):
            old = float(array[i])
            h = 10 * STEP * max(1.0, abs(old))
            for step in (h, -h):
                array[i] = old + step
                moved = np.abs(pre_activations(params, point.X) - before).max()
                assert moved < MARGIN, (array.shape, i, moved)
            array[i] = old


@given(test_points(kind="categorical", min_layers=2, max_layers=2, min_m=5, max_m=6))
def test_points_honour_fixed_kind_and_bounds(point: Point) -> None:
    assert point.kind == "categorical" and len(point.params) == 2
    assert 5 <= point.X.shape[1] <= 6


@st.composite
def point_bounds(draw: st.DrawFn) -> dict[str, Any]:
    """Bounds for `test_points`, some far from the defaults; invalid ones are skipped."""
    min_layers, min_width, min_m = (
        draw(st.integers(1, 3)),
        draw(st.integers(2, 5)),
        draw(st.integers(2, 6)),
    )
    return {
        "min_layers": min_layers,
        "max_layers": min_layers + draw(st.integers(0, 1)),
        "min_width": min_width,
        "max_width": min_width + draw(st.integers(0, 5)),
        "min_m": min_m,
        "max_m": min_m + draw(st.integers(0, 6)),
        "margin": draw(st.sampled_from([1e-3, 1e-2, 2e-2])),
        "min_probability": draw(st.sampled_from([1e-3, 1e-2, 5e-2])),
    }


@given(point_bounds(), st.data())
def test_points_meet_the_guarantees_under_any_bounds_they_accept(
    bounds: dict[str, Any], data: st.DataObject
) -> None:
    try:
        strategy = test_points(**bounds)
    except InvalidArgument:
        reject()
    point = data.draw(strategy)
    widths, m = widths_of(point), point.X.shape[1]
    assert bounds["min_layers"] <= len(point.params) <= bounds["max_layers"]
    assert all(bounds["min_width"] <= n <= bounds["max_width"] for n in widths)
    assert bounds["min_m"] <= m <= bounds["max_m"]
    for z in point.cache().z:
        assert np.abs(z).min() > bounds["margin"]
        assert np.all((z > 0).any(axis=1) & (z < 0).any(axis=1))
        assert np.all((z > 0).any(axis=0))
    y_hat, p = point.cache().y_hat, bounds["min_probability"]
    assert y_hat.min() >= p and y_hat.max() <= 1 - p
    if m >= widths[-1]:
        assert np.all(point.Y.sum(axis=1) >= 1)


def test_points_construction_almost_never_fails() -> None:
    # The gate `defects` rejects a construction that missed a guarantee; Hypothesis
    # then discards the example. Measured: 0 failures in 3000 (depths 1-4).
    rng = np.random.default_rng(7)
    failures = 0
    for seed in range(300):
        L = int(rng.integers(1, 5))
        widths = [int(n) for n in rng.choice(np.arange(2, 9), L + 1, replace=False)]
        point = _points.build_point(
            np.random.default_rng(seed),
            widths,
            int(rng.integers(3, 9)),
            "notes",
            margin=MARGIN,
            min_probability=P_MIN,
        )
        failures += point is None
    assert failures <= 3  # 1%


# --- test points: the far ends are reached, and shrinking goes to the smallest ----------


def ties(a: Array) -> int:
    return int((a == a.max(axis=0)).sum(axis=0).max())


# fmt: off
REACHED = [
    pytest.param(test_points(), lambda p: len(p.params) == 3 and 8 in widths_of(p),
                 id="depth-3-and-width-8"),
    pytest.param(test_points(max_layers=4), lambda p: len(p.params) == 4, id="depth-4"),
    pytest.param(test_points(), lambda p: p.X.shape[1] == 8, id="m-8"),
    pytest.param(test_points(), lambda p: p.Y.shape[0] == 7, id="n_L-7"),
    pytest.param(test_points(), lambda p: p.kind == "categorical", id="categorical"),
    pytest.param(test_points(), lambda p: (p.cache().z[0] > 0).sum(1).min() == 1,
                 id="unit-on-one-example"),
    pytest.param(test_points(), lambda p: (p.cache().z[0] < 0).sum(1).min() == 1,
                 id="unit-off-one-example"),
    pytest.param(test_points(), lambda p: p.cache().y_hat.min() < 0.05, id="y_hat-below-0.05"),
    pytest.param(layer_widths(), lambda w: len(w) == 4 and 8 in w, id="widths-depth-3-width-8"),
    pytest.param(pre_activations_with_zeros(), lambda z: np.any((z == 0) & np.signbit(z)),
                 id="negative-zero"),
    pytest.param(pre_activations_with_zeros(), lambda z: np.count_nonzero(z == 0) >= 5,
                 id="five-zeros"),
    pytest.param(large_logits(), lambda a: np.any(np.all(a < EXP_UNDERFLOW, axis=0)),
                 id="underflow-column"),
    pytest.param(large_logits(), lambda a: np.abs(a).max() > 990, id="logits-near-1e3"),
    pytest.param(columns_with_ties(), lambda a: ties(a) >= 3, id="three-way-tie"),
]
# fmt: on


@pytest.mark.parametrize(("strategy", "reached"), REACHED)
def test_strategies_reach_the_far_ends_of_their_bounds_and_their_special_values(
    strategy: st.SearchStrategy[Any], reached: Callable[[Any], Any]
) -> None:
    assert reached(reach(strategy, lambda x: bool(reached(x))))


SHRUNK: list[tuple[str, Callable[[Point], bool], list[int], int]] = [
    # n_L = 2 would make n_L the factor 2; m = 4 would make m/n_0 = 2.
    ("anything", lambda p: True, [2, 3], 5),
    ("two-layers", lambda p: len(p.params) >= 2, [2, 4, 3], 5),
    ("seven-examples", lambda p: p.X.shape[1] >= 7, [2, 3], 7),
]


@pytest.mark.parametrize(
    ("condition", "widths", "m"), [s[1:] for s in SHRUNK], ids=[s[0] for s in SHRUNK]
)
def test_points_shrink_to_the_smallest_network(
    condition: Callable[[Point], bool], widths: list[int], m: int
) -> None:
    point = search(test_points(), condition)
    assert (widths_of(point), point.X.shape[1], point.kind) == (widths, m, "notes")


# --- building blocks ------------------------------------------------------------------


@given(layer_widths(m=5))
def test_layer_widths_differ_from_each_other_and_from_m(widths: list[int]) -> None:
    assert 2 <= len(widths) <= 4 and all(2 <= n <= 8 for n in widths)
    assert len(set(widths)) == len(widths) and 5 not in widths


@given(layer_widths(min_layers=3, max_layers=3, max_width=3))
def test_layer_widths_repeat_only_when_the_bounds_force_it(widths: list[int]) -> None:
    assert len(widths) == 4 and set(widths) == {2, 3}


def test_layer_widths_shrink_to_two_and_three() -> None:
    assert search(layer_widths(), lambda w: True) == [2, 3]


@given(networks(max_abs=0.5))
def test_networks_chain_their_shapes(params: list[tuple[Array, Array]]) -> None:
    for (W, b), (W_next, _) in zip(params, [*params[1:], (None, None)], strict=True):
        assert W.dtype == b.dtype == np.float64 and b.shape == (W.shape[0], 1)
        assert np.abs(W).max() <= 0.5 and np.abs(b).max() <= 0.5
        if W_next is not None:
            assert W_next.shape[1] == W.shape[0]


def test_networks_shrink_to_one_layer_of_zeros() -> None:
    [(W, b)] = search(networks(max_layers=2, max_width=3), lambda params: True)
    assert W.shape == (3, 2) and not W.any() and b.shape == (3, 1) and not b.any()
    assert [W.shape for W, _ in reach(networks(widths=[4, 6, 5]), lambda p: True)] == [
        (6, 4),
        (5, 6),
    ]


@settings(max_examples=5)
@given(networks(max_layers=4, max_width=16), pre_activations_with_zeros(max_rows=32, max_m=32))
def test_large_bounds_pass_hypothesis_health_checks(
    params: list[tuple[Array, Array]], z: Array
) -> None:
    assert len(params) <= 4 and np.any(z == 0)


@given(inputs(4, 3, max_abs=1.5))
def test_inputs_have_their_shape_and_bound(X: Array) -> None:
    assert X.shape == (4, 3) and X.dtype == np.float64 and np.abs(X).max() <= 1.5


@pytest.mark.parametrize(("n_L", "m"), [(3, 3), (3, 8), (5, 3)])
@given(data=st.data())
def test_one_hot_labels_have_every_class_when_m_allows(
    n_L: int, m: int, data: st.DataObject
) -> None:
    Y = data.draw(one_hot_labels(n_L, m))
    assert Y.shape == (n_L, m) and np.all(Y.sum(axis=0) == 1)
    counts = Y.sum(axis=1)
    assert np.all(counts >= 1) if m >= n_L else np.all(counts <= 1)


# --- special inputs: they really are special ------------------------------------------


@given(pre_activations_with_zeros())
def test_pre_activations_with_zeros_have_exact_zeros(z: Array) -> None:
    assert z.dtype == np.float64 and np.any(z == 0.0)
    if z.size >= 3:
        assert np.any(z > 0) and np.any(z < 0)
    assert np.all(backprop.relu_mask(z)[z == 0] == 0.0)  # the notes' convention


def test_exp_overflows_above_EXP_OVERFLOW_and_underflows_below_EXP_UNDERFLOW() -> None:
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(np.nextafter(EXP_OVERFLOW, np.inf)))
    assert np.isfinite(np.exp(EXP_OVERFLOW))
    assert np.exp(EXP_UNDERFLOW) == 0.0 and np.exp(EXP_UNDERFLOW + 0.01) > 0.0


@given(large_logits())
def test_large_logits_overflow_a_naive_softmax(a: Array) -> None:
    assert np.abs(a).max() <= 1e3 and a.max() > EXP_OVERFLOW
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(a) / np.exp(a).sum(axis=0)
    assert np.isnan(naive).any()
    y_hat = backprop.softmax(a)
    assert np.all(np.isfinite(y_hat)) and np.allclose(y_hat.sum(axis=0), 1.0, atol=1e-15)


@given(columns_with_ties())
def test_columns_with_ties_tie_at_every_maximum(a: Array) -> None:
    assert a.shape[0] >= 2
    assert np.all((a == a.max(axis=0)).sum(axis=0) >= 2)
    assert np.all(backprop.decide(a).sum(axis=0) >= 2)  # every maximum gets 1


# --- bad bounds: one table ------------------------------------------------------------


def case(name: str, make: Callable[[], object], message: str, error: type = ValueError) -> Any:
    return pytest.param(make, error, message, id=name)


# fmt: off
BAD = [
    case("layers-zero", lambda: test_points(min_layers=0), "`min_layers` must be at least 1"),
    case("layers-swapped", lambda: layer_widths(min_layers=3, max_layers=2),
         "`min_layers` must be at most `max_layers`, got 3 > 2"),
    case("width-one", lambda: test_points(min_width=1), "`min_width` must be at least 2"),
    case("width-zero", lambda: layer_widths(min_width=0), "`min_width` must be at least 1"),
    case("width-float", lambda: networks(max_width=8.0),  # type: ignore[arg-type]
         "`max_width` must be an int, got 8.0", TypeError),
    case("width-bool", lambda: layer_widths(max_layers=True),
         "`max_layers` must be an int, got True", TypeError),
    case("m-one", lambda: test_points(min_m=1), "`min_m` must be at least 2"),
    case("m-swapped", lambda: test_points(min_m=6, max_m=4), "`min_m` must be at most `max_m`"),
    case("avoid-m-zero", lambda: layer_widths(m=0), "`m` must be at least 1"),
    case("kind-unknown", lambda: test_points(kind="mse"), "`kind` must be one of"),
    case("margin-zero", lambda: test_points(margin=0.0), "`margin` must be in (0, 0.05]"),
    case("margin-large", lambda: test_points(margin=0.1), "`margin` must be in (0, 0.05]"),
    case("margin-string", lambda: test_points(margin="1e-2"),  # type: ignore[arg-type]
         "`margin` must be a real number", TypeError),
    case("probability-high", lambda: test_points(min_probability=0.2),
         "`min_probability` must be in (0, 0.125)"),
    case("widths-one", lambda: networks(widths=[3]), "`widths` must have at least 2 entries"),
    case("widths-zero", lambda: networks(widths=[3, 0]), "`widths[1]` must be at least 1"),
    case("max-abs-negative", lambda: networks(max_abs=-1.0), "`max_abs` must be in (0, inf)"),
    case("inputs-n0", lambda: inputs(0, 3), "`n_0` must be at least 1"),
    case("labels-classes", lambda: one_hot_labels(0, 3), "`n_L` must be at least 1"),
    case("zeros-rows", lambda: pre_activations_with_zeros(min_rows=0),
         "`min_rows` must be at least 1"),
    case("logits-no-overflow", lambda: large_logits(max_abs=500.0), "`max_abs` must be in (730"),
    case("logits-spread", lambda: large_logits(spread=0.0), "`spread` must be in (0, inf)"),
    case("ties-one-row", lambda: columns_with_ties(min_rows=1), "`min_rows` must be at least 2"),
]
# fmt: on


@pytest.mark.parametrize(("make", "error", "message"), BAD)
def test_a_bad_bound_is_refused_when_the_strategy_is_made(
    make: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)) as raised:
        make()  # no draw: the bound is checked eagerly
    assert isinstance(raised.value, InvalidArgument)


def test_a_kind_strategy_drawing_an_unknown_loss_is_refused_at_draw_time() -> None:
    @settings(database=None, phases=[Phase.generate])
    @given(test_points(kind=st.just("mse")))
    def draw(point: Point) -> None:
        raise AssertionError("unreachable: the draw fails")

    with pytest.raises(InvalidArgument, match=re.escape("`kind` must draw one of")):
        draw()


# --- edge_points ------------------------------------------------------------------------


def edge_points_kinks() -> st.SearchStrategy[Point]:
    from checks.strategies import edge_points

    return edge_points(regions=("kink",))


def _edge_facts(point: Point) -> set[str]:
    """The regions a point is in, measured on the point itself."""
    from backprop.network import forward_cache

    cache = forward_cache(point.params, point.X)
    a_L = cache.a[-1]
    facts = set()
    if all(np.any(z == 0) for z in cache.z):
        facts.add("kink")
    if np.any(np.ptp(a_L, axis=0) >= 37.0):
        facts.add("saturated")
    top = a_L == a_L.max(axis=0, keepdims=True)
    if a_L.shape[0] > 1 and np.any(top.sum(axis=0) > 1):
        facts.add("ties")
    if a_L.shape[0] == 1:
        facts.add("one-class")
    if point.X.dtype == np.float32 and point.params[0][0].dtype == np.float32:
        facts.add("float32")
    return facts


def test_edge_points_reach_every_region() -> None:
    from checks.strategies import EDGE_REGIONS, edge_points

    quick = settings(database=None, max_examples=50, phases=[Phase.generate])
    for region in EDGE_REGIONS:
        point = find(
            edge_points(regions=(region,)),
            lambda p, r=region: r in _edge_facts(p),
            settings=quick,
            random=Random(0),
        )
        assert region in _edge_facts(point)
    # the saturated region overflows exp, where a softmax needs its max shift
    big = find(
        edge_points(regions=("saturated",)),
        lambda p: float(np.max(p.cache().a[-1])) > EXP_OVERFLOW,
        settings=quick,
        random=Random(0),
    )
    assert np.isfinite(big.cache().y_hat).all()


@given(edge_points_kinks())
def test_edge_points_plant_exact_zeros_and_near_zeros(point: Point) -> None:
    from checks.strategies._edges import NEAR

    for z in point.cache().z:
        assert np.any(z == 0)
        assert z.shape[0] == 1 or np.any(np.abs(z) == NEAR)  # 2^-30: exact, not rounded


def test_edge_points_refuse_an_unknown_region() -> None:
    from checks.strategies import edge_points

    with pytest.raises(InvalidArgument, match="`regions` must be drawn from"):
        edge_points(regions=("middle",))
