"""Verdicts on formulas: does a formula hold, or is it an erratum? Proven by computation.

`check_formula` checks one candidate implementation of a formula of the catalog (by
default, the notes' form as written) against its numerical truth on Hypothesis test
points, and shrinks a failure to the smallest counterexample. `check_notes` does so for
every formula of the notes: it is what `backprop-check` prints with no argument.

A formula is marked as an erratum because its check failed, never from a list: the
catalog's errata only *name* a failure, when the failing result is exactly what the
erratum predicts (the notes' form as written, within rounding). A failure that no
known erratum predicts (one beyond it, say a factor 2 on top of the notes' form) is
reported as such: it is a new erratum.

Examples
--------
Check a candidate for one formula id, e.g. a proposed correction of the notes:

>>> from checks.errata import check_formula
>>> verdict = check_formula("dL_db", lambda dL_dz: dL_dz.sum(axis=1, keepdims=True))
>>> verdict.holds
True
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from backprop import as_written
from backprop.catalog import FORMULAS, Formula, Point, Truth, param_blocks

__all__ = [
    "Counterexample",
    "Judgement",
    "Verdict",
    "check_formula",
    "check_notes",
    "iter_notes",
    "judge",
]

Args = dict[str, Any]

# Forward formulas have no derivative to check: the candidate is compared with the
# reference (itself proven against hand-computed cases). Both evaluate the same
# expression in float64 a different way; a few hundred ulps of the result's scale
# bound their difference on the test points' unsaturated values.
_FORWARD_RTOL = 256 * np.finfo(np.float64).eps

# The search's phases: every one but `explain`, which, after the shrink, varies parts
# of the counterexample to say which of them matter. The verdict and the shrunk
# counterexample do not depend on it, and it cost 90 % of the notes' verdict (about
# 100 more judged points per erratum).
_PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)

# The deepest network of a search's test points (`check_formula`'s default).
_MAX_LAYERS = 3


@dataclass(frozen=True)
class Judgement:
    """One candidate on one test point: ok, or why not (`"values"`, `"shape"`, `"error"`)."""

    ok: bool
    reason: str = ""
    max_abs_error: float = 0.0
    args: Args = field(default_factory=dict)
    got: Any = None
    detail: str = ""
    method: str = ""
    unchecked: int = 0  # entries that no difference could reach (kinks): not a pass


@dataclass(frozen=True)
class Counterexample:
    """The smallest failing test point found, and what the candidate did there."""

    point: Point
    args: Args
    expected: Any
    got: Any
    reason: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "point": {
                "params": [[_plain(W), _plain(b)] for W, b in self.point.params],
                "X": _plain(self.point.X),
                "Y": _plain(self.point.Y),
            },
            "args": {name: _plain(value) for name, value in self.args.items()},
            "expected": _plain(self.expected),
            "got": _plain(self.got),
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Verdict:
    """The verdict on one formula: `holds`, or `erratum` with the errata that name it."""

    formula: str
    holds: bool
    errata: tuple[str, ...]
    max_abs_error: float
    method: str
    examples: int
    counterexample: Counterexample | None = None
    unchecked: int = 0  # test points where some entries could not be checked

    @property
    def verdict(self) -> str:
        return "holds" if self.holds else "erratum"

    @property
    def new(self) -> bool:
        """A failure that no erratum of the catalog names."""
        return not self.holds and not self.errata

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "errata": list(self.errata),
            "new_erratum": self.new,
            "max_abs_error": self.max_abs_error,
            "method": self.method,
            "examples": self.examples,
            "unchecked_points": self.unchecked,
            "counterexample": self.counterexample.to_json() if self.counterexample else None,
        }


def judge(formula: Formula, candidate: Callable[..., Any], point: Point) -> Judgement:
    """Check `candidate` for `formula` at every set of arguments the point gives it."""
    worst = Judgement(ok=True)
    for args in formula.sample(point):
        try:
            got = candidate(**args)
        except Exception as exc:  # the candidate is under test: any exception is a failure
            return Judgement(False, "error", np.inf, args, None, f"{type(exc).__name__}: {exc}")
        judgement = _judge_result(formula, args, got, point.kind)
        if not judgement.ok:
            return judgement
        if judgement.max_abs_error >= worst.max_abs_error:
            worst = replace(judgement, unchecked=max(worst.unchecked, judgement.unchecked))
        elif judgement.unchecked:
            worst = replace(worst, unchecked=judgement.unchecked)
    return worst


def _judge_result(formula: Formula, args: Args, got: Any, kind: str) -> Judgement:
    if formula.truth is None:
        expected = np.asarray(formula.reference(args, kind))
        got_arr = np.asarray(got, dtype=float)
        if got_arr.shape != expected.shape:
            return _shape_failure("result", got_arr, expected, args, got)
        error = float(np.max(np.abs(got_arr - expected), initial=0.0))
        tolerance = _FORWARD_RTOL * max(1.0, float(np.max(np.abs(expected), initial=0.0)))
        ok = bool(np.all(np.isfinite(got_arr)) and error <= tolerance)
        return Judgement(
            ok,
            "" if ok else "values",
            error,
            args,
            got,
            f"max |got - reference| = {error:.3g} > {tolerance:.3g}" if not ok else "",
            "reference",
        )
    got_blocks, expected_shapes = _as_blocks(formula, args, got)
    for name, shape in expected_shapes.items():
        block = np.asarray(got_blocks.get(name))
        if block.shape != shape:
            truth = np.asarray(_numerical(formula, args, kind)[name])
            return _shape_failure(name, block, truth, args, got)
    return _check_numerically(formula, args, got, got_blocks, kind)


def _shape_failure(name: str, block: Any, expected: Any, args: Args, got: Any) -> Judgement:
    """A result of the wrong shape, with how far its values are once laid out right."""
    error, how = _aligned_error(block, expected)
    detail = f"`{name}` has shape {np.shape(block)}, expected {np.shape(expected)}"
    if how:
        detail += f"; once {how}, its values differ from the numerical truth by {error:.2g}"
    return Judgement(False, "shape", error, args, got, detail, "shape contract")


def _as_blocks(
    formula: Formula, args: Args, got: Any
) -> tuple[dict[str, Any], dict[str, tuple[int, ...]]]:
    """The candidate's result as named blocks, and the shape each block must have."""
    if formula.id == "backward" or formula.out_shape is None:
        try:
            blocks = param_blocks([(np.asarray(dW), np.asarray(db)) for dW, db in got])
        except (TypeError, ValueError):
            blocks = {}
        shapes = {name: np.shape(value) for name, value in param_blocks(args["params"]).items()}
        return blocks, shapes
    return {"result": np.asarray(got)}, {"result": tuple(formula.out_shape(args))}


def _truth(formula: Formula, args: Args, kind: str) -> Truth:
    """The formula's truth at `args`, the notes' network loss on its fast path."""
    assert formula.truth is not None
    truth = formula.truth(args, kind)
    if truth.network is None:
        return truth
    from checks.network import NetworkLoss

    X, Y, loss_kind = truth.network
    return replace(truth, f=NetworkLoss(X, Y, kind=loss_kind))


def _numerical(formula: Formula, args: Args, kind: str) -> dict[str, Any]:
    """The numerical truth itself, as named blocks (for a counterexample's `expected`)."""
    from checks import numerical_gradient, numerical_jacobian

    truth = _truth(formula, args, kind)
    if truth.jacobian:
        value = numerical_jacobian(truth.f, truth.x)
    else:
        value = numerical_gradient(truth.f, truth.x)
    if isinstance(value, Mapping):
        return dict(value)
    return {"result": value}


def _check_numerically(
    formula: Formula, args: Args, got: Any, got_blocks: dict[str, Any], kind: str
) -> Judgement:
    from checks import check_gradient

    truth = _truth(formula, args, kind)
    if truth.jacobian:
        rows = np.asarray(got_blocks["result"])
        reports = [
            check_gradient(lambda x, k=k: truth.f(x)[k], rows[k], truth.x, kinks=truth.kinks)
            for k in range(rows.shape[0])
        ]
    elif truth.batch is not None:  # the same values, many points a call
        grad = got_blocks.get("result", got_blocks)
        reports = [check_gradient(truth.batch, grad, truth.x, kinks=truth.kinks, batched=True)]
    else:
        grad = got_blocks.get("result", got_blocks)
        reports = [check_gradient(truth.f, grad, truth.x, kinks=truth.kinks)]
    error = max(r.max_abs_error for r in reports)
    failed = [(k, r) for k, r in enumerate(reports) if r.status == "failed"]
    unchecked = sum(len(r.skipped) for r in reports if r.status == "unchecked")
    method = reports[0].method
    if failed:
        row, worst = failed[0]
        where = f"row {row}, column {worst.where_abs}" if truth.jacobian else worst.where_abs
        summary = (
            f"values differ from the numerical truth by up to {worst.max_abs_error:.3g} "
            f"at {where} (tolerance {worst.tolerance:.2g})"
        )
        return Judgement(False, "values", error, args, got, f"{summary}\n{worst}", method)
    return Judgement(True, "", error, args, got, "", method, unchecked)


def _aligned_error(got: Any, expected: Any) -> tuple[float, str]:
    """The largest error once a wrong shape is forgiven (same values, other layout)."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if got.size != expected.size:
        return float("inf"), ""
    candidates = [(got.reshape(expected.shape), "reshaped")]
    if got.ndim == 2 and got.T.shape == expected.shape:
        candidates.insert(0, (got.T, "transposed"))
    return min((float(np.max(np.abs(c - expected), initial=0.0)), how) for c, how in candidates)


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        return repr(value)
    return arr.tolist()


def _resolve(formula: str | Formula) -> Formula:
    if isinstance(formula, Formula):
        return formula
    if formula not in FORMULAS:
        raise ValueError(
            f"`formula` must be a formula id of the catalog {sorted(FORMULAS)}, got {formula!r}"
        )
    return FORMULAS[formula]


def check_formula(
    formula: str | Formula,
    candidate: Callable[..., Any] | None = None,
    *,
    kind: str = "notes",
    seed: int = 0,
    max_examples: int = 60,
    max_layers: int = _MAX_LAYERS,
) -> Verdict:
    """Check a candidate for one formula on Hypothesis test points; shrink any failure.

    Parameters
    ----------
    formula
        A formula id of `backprop.catalog.FORMULAS`, or a new `Formula` with its own
        `sample` and `truth`.
    candidate
        The implementation to check, called with the formula's arguments by name. By
        default, the formula as the notes write it (`backprop.as_written`).
    kind
        The loss, ``"notes"`` or ``"categorical"``.
    seed
        The seed of the search: the same seed gives the same verdict and counterexample.
    max_examples
        How many test points to try before saying the formula holds.

    Returns
    -------
    Verdict
        `holds`, or `erratum` with the smallest counterexample found and the errata of
        the catalog that name the failure (empty: a new erratum).
    """
    entry = _resolve(formula)
    if candidate is None:
        candidate = entry.as_written
    if not callable(candidate):
        raise TypeError(f"`candidate` must be callable, got {type(candidate).__name__}")
    return _search(entry, candidate, kind, seed, max_examples, max_layers)


def _search(
    entry: Formula,
    candidate: Callable[..., Any],
    kind: str,
    seed: int,
    max_examples: int,
    max_layers: int,
    tried: list[Point] | None = None,
    judged: dict[bytes, Judgement] | None = None,
) -> Verdict:
    """`check_formula`'s search; a copy of each point tried is appended to `tried`.

    `judged`, for a deterministic candidate only, keeps its judgements by point
    (`_identity`): a point judged before, in this search or outside it, is not judged
    again (shrinking tries the same point under other choices).
    """
    from checks.strategies import test_points

    seen: list[Judgement] = []

    def fails(point: Point) -> bool:
        if tried is not None:
            tried.append(_copy(point))  # before the candidate may write into it
        judgement = _judge_once(entry, candidate, point, judged)
        seen.append(judgement)
        return not judgement.ok

    strategy = test_points(kind=kind, max_layers=max_layers)
    search = settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=_PHASES,
    )
    try:
        point = find(strategy, fails, settings=search, random=random.Random(seed))
    except NoSuchExample:
        return _holds(entry, seen)
    final = _judge_once(entry, candidate, point, judged)
    expected: Any
    if entry.truth is None:
        expected = entry.reference(final.args, kind)
    else:
        expected = _numerical(entry, final.args, kind)
        expected = expected.get("result", expected)
    example = Counterexample(point, final.args, expected, final.got, final.reason, final.detail)
    errata = _name_errata(entry, final, point, kind)
    return Verdict(
        entry.id,
        False,
        errata,
        final.max_abs_error,
        final.method or "reference",
        len(seen),
        example,
        sum(j.unchecked > 0 for j in seen),
    )


def _judge_once(
    entry: Formula,
    candidate: Callable[..., Any],
    point: Point,
    judged: dict[bytes, Judgement] | None,
) -> Judgement:
    """`judge`, or its judgement of the same point kept in `judged` (see `_search`)."""
    if judged is None:
        return judge(entry, candidate, point)
    key = _identity(point)  # before the candidate may write into the point
    if key not in judged:
        judged[key] = judge(entry, candidate, point)
    return judged[key]


def _holds(entry: Formula, seen: list[Judgement]) -> Verdict:
    """The verdict of a search that found no failure among the judgements `seen`."""
    worst = max(seen, key=lambda j: j.max_abs_error, default=Judgement(True))
    return Verdict(
        entry.id,
        True,
        (),
        worst.max_abs_error,
        worst.method or "reference",
        len(seen),
        unchecked=sum(j.unchecked > 0 for j in seen),
    )


def _copy(point: Point) -> Point:
    """A copy of `point` whose arrays are its own: a candidate may write into them."""
    return Point(
        [(W.copy(), b.copy()) for W, b in point.params], point.X.copy(), point.Y.copy(), point.kind
    )


def _name_errata(entry: Formula, failure: Judgement, point: Point, kind: str) -> tuple[str, ...]:
    """The catalog's errata that this failure is exactly an instance of, by computation.

    An erratum names a failure only when the candidate's result is what the erratum
    predicts: the formula as the notes write it, `backprop.as_written` (for an erratum
    of the formula itself),
    or the correct pass with the erratum's components as the notes write them (for
    `backward`, the smallest set of component errata that reproduces the result). The
    result must equal that prediction in shape and, within `_FORWARD_RTOL` of its
    scale, in value, at the failing arguments. Anything beyond it (a factor 2, a sign
    flip on top of the notes' form) matches no prediction: the failure is new.
    """
    if failure.got is None:
        return ()
    own = [e for e in entry.errata if e.formula == entry.id]
    if own:
        return tuple(e.id for e in own if _predicts(getattr(as_written, e.formula), failure))
    components = [e for e in entry.errata if e.formula != entry.id]
    if entry.compose is None or not components:
        return ()
    for size in range(1, len(components) + 1):
        for subset in itertools.combinations(components, size):
            using = {e.formula: getattr(as_written, e.formula) for e in subset}
            if _predicts(partial(entry.compose(using), kind=kind), failure):
                return tuple(e.id for e in subset)
    return ()


def _predicts(prediction: Callable[..., Any], failure: Judgement) -> bool:
    """Whether `prediction` at the failing arguments gives the failing result."""
    try:
        expected = prediction(**failure.args)
    except Exception:  # the prediction cannot even be computed: it predicts nothing here
        return False
    return _same(expected, failure.got)


def _same(expected: Any, got: Any) -> bool:
    """Same nesting, shapes and values (within `_FORWARD_RTOL` of their scale)."""
    if isinstance(expected, list | tuple):
        return (
            isinstance(got, list | tuple)
            and len(got) == len(expected)
            and all(_same(e, g) for e, g in zip(expected, got, strict=True))
        )
    try:
        e, g = np.asarray(expected, dtype=float), np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return False
    if e.shape != g.shape:
        return False
    if not (
        np.array_equal(np.isfinite(e), np.isfinite(g))
        and np.all(e[~np.isfinite(e)] == g[~np.isfinite(g)])
    ):
        return False
    finite = np.isfinite(e)
    scale = float(np.max(np.abs(e[finite]), initial=0.0) + np.max(np.abs(g[finite]), initial=0.0))
    return bool(np.all(np.abs(e[finite] - g[finite]) <= _FORWARD_RTOL * scale))


def check_notes(*, seed: int = 0, max_examples: int = 60) -> dict[str, Verdict]:
    """Every formula of the notes, as written, under the notes' loss: `{id: Verdict}`."""
    return {v.formula: v for v in iter_notes(seed=seed, max_examples=max_examples)}


def iter_notes(*, seed: int = 0, max_examples: int = 60) -> Iterator[Verdict]:
    """The verdicts of `check_notes`, one by one in the catalog's order, as each is known.

    Each formula's search has its own seed-determined random stream, so a verdict does
    not depend on whether the others were computed first.

    Notes
    -----
    Every formula's search starts from the same seed, and Hypothesis's choices depend
    only on its seed and on which tests fail (the test draws nothing): every search
    that finds no failure tries the same points, in the same order. So the points of
    the first formula that holds are kept (copies, made before any candidate saw
    them), and each later formula is first judged on fresh copies of them: if it
    passes them all, its search would have tried exactly those and found nothing, and
    the verdict is the same as `check_formula`'s (tests/errata pins it). If it fails
    one, its own search runs, which tries the same points up to that one and then
    shrinks. The points are built, and Hypothesis runs, once instead of once per
    formula that holds: they were over half of the notes' verdict's time. The points are
    kept here, never in the strategies, which grading shares.
    """
    tried: list[_Kept] | None = None
    for entry in list(FORMULAS.values()):
        judged: dict[bytes, Judgement] = {}
        if tried is not None:
            verdict = _replay(entry, tried, judged)
            if verdict is not None:
                yield verdict
                continue
        record: list[Point] | None = [] if tried is None else None
        verdict = _search(
            entry, entry.as_written, "notes", seed, max_examples, _MAX_LAYERS, record, judged
        )
        if verdict.holds and record is not None:
            tried = [_Kept(point, _identity(point)) for point in record]
        yield verdict


def _replay(entry: Formula, tried: list[_Kept], judged: dict[bytes, Judgement]) -> Verdict | None:
    """`entry`'s verdict if the notes' form passes on every point of `tried`, else None.

    A search may try the same point twice (choices that differ only where the point
    does not use them: 10 of the notes' 60): the notes' forms and the truths are
    deterministic, so a point is judged once, its judgement kept in `judged`, and
    counted as often as it was tried, as the search counts it. After a failure, the
    formula's own search tries the same points up to the failing one: it finds their
    judgements kept.
    """
    seen: list[Judgement] = []
    for kept in tried:
        judgement = judged.get(kept.key)
        if judgement is None:
            judgement = judged[kept.key] = judge(entry, entry.as_written, kept.fresh())
        if not judgement.ok:
            return None
        seen.append(judgement)
    return _holds(entry, seen)


@dataclass(frozen=True)
class _Kept:
    """A point kept from a search, its identity, and what every formula's arguments
    are made of, computed once: its forward pass and its gradients."""

    point: Point
    key: bytes
    computed: dict[str, Any] = field(default_factory=dict)

    def fresh(self) -> Point:
        """A copy of the point for one formula, arrays and all (see `_Fresh`)."""
        p = _copy(self.point)
        return _Fresh(p.params, p.X, p.Y, p.kind, self.computed, self.point)


@dataclass(frozen=True)
class _Fresh(Point):
    """A copy of a kept point whose `cache` and `gradients` are those of the kept
    point, computed on the first call and copied on each: the same arrays as computed
    from the copy, without computing them again for each formula."""

    computed: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    kept: Point | None = field(default=None, compare=False, repr=False)

    def cache(self) -> Any:
        return _copied(self._once("cache"))

    def gradients(self) -> Any:
        return _copied(self._once("gradients"))

    def _once(self, what: str) -> Any:
        if what not in self.computed:
            assert self.kept is not None
            self.computed[what] = getattr(self.kept, what)()
        return self.computed[what]


def _copied(value: Any) -> Any:
    """A `Cache` or `Gradients` whose arrays are its own: a candidate may write into them."""

    def own(item: Any) -> Any:
        if isinstance(item, np.ndarray):
            return item.copy()
        return [own(x) for x in item] if isinstance(item, list) else item

    return type(value)(**{name: own(item) for name, item in vars(value).items()})


def _identity(point: Point) -> bytes:
    """The point's loss, shapes, dtypes and values, as bytes: equal for equal points."""
    arrays = [point.X, point.Y, *(a for layer in point.params for a in layer)]
    shapes = repr([(a.shape, a.dtype.str) for a in arrays]).encode()
    return b"|".join([point.kind.encode(), shapes, *(a.tobytes() for a in arrays)])
