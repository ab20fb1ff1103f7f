"""Judging one contract function of a submission from the plain results of its calls.

The submission runs elsewhere (`checks.grader.sandbox._sandbox`); this module only sees a
`Caller` that sends arguments and gets back plain data. Each function gets one verdict:
`pass`, `fail`, `error`, `timeout` or `missing`, from positive evidence only: it passes
when every one of its results came back and was judged right.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from backprop.catalog import FORMULAS, Formula, Point
from backprop.course import Course
from checks.grader.judge._compare import (
    Comparison,
    compare,
    compare_pairs,
    n_terms,
    same_result,
)
from checks.grader.judge._course import course_cases, course_reference
from checks.grader.judge._epsilon import EPSILON_FUNCTIONS, Guard, find_guard

__all__ = ["Caller", "Case", "FunctionGrade", "Outcome", "judge_function", "special_cases"]


class Outcome(Protocol):
    """What one call of the submission did (`checks.grader.Outcome`)."""

    @property
    def status(self) -> str: ...
    @property
    def value(self) -> Any: ...
    @property
    def message(self) -> str: ...
    @property
    def traceback(self) -> str | None: ...
    @property
    def mutated(self) -> list[int]: ...


class Caller(Protocol):
    def call(self, name: str, args: Sequence[Any]) -> Outcome: ...


@dataclass(frozen=True)
class Case:
    """Arguments for one call, and the test point they come from (None: a special input)."""

    args: dict[str, Any]
    point: Point | None = None
    label: str = ""


@dataclass
class CaseResult:
    status: str  # "ok" | "fail" | "error" | "timeout"
    case: Case
    got: Any = None
    expected: Any = None
    comparison: Comparison | None = None
    block: str = ""
    message: str = ""
    mutated: list[str] = field(default_factory=list)
    guard: Guard | None = None


@dataclass
class FunctionGrade:
    verdict: str
    message: str = ""
    failure: CaseResult | None = None
    diagnosis: list[str] = field(default_factory=list)
    low_precision: bool = False
    calls: int = 0
    guard: Guard | None = None  # a log guard found (passed with a note, or failed when strict)
    noise: float = 0.0  # the largest relative error of a result judged right


def run_case(
    entry: Formula,
    name: str,
    caller: Caller,
    case: Case,
    kind: str,
    course: Course | None = None,
    *,
    epsilon: str = "note",
) -> CaseResult:
    """Call the submission once on `case` and judge the plain result it returned.

    `course`, when given, is the course whose reference judges it (else the notes').
    A result off only by a log guard (`checks.grader.judge._epsilon`) is ``ok`` with
    `guard` set when `epsilon` is ``"note"``, and a ``fail`` with `guard` set when it is
    ``"strict"``.
    """
    positional = [case.args[a] for a in entry.args]
    outcome = caller.call(name, positional)
    if outcome.status == "timeout":
        return CaseResult("timeout", case, message=outcome.message)
    if outcome.status != "ok":
        text = outcome.message
        if outcome.traceback:
            text += "\n" + outcome.traceback
        return CaseResult("error", case, message=text)
    if course is not None:
        expected = course_reference(course, entry.id, case.args)
    else:
        expected = entry.reference(case.args, kind)
    if outcome.mutated:
        names = [entry.args[i] for i in outcome.mutated if i < len(entry.args)]
        return CaseResult(
            "fail",
            case,
            outcome.value,
            expected,
            mutated=names,
            message=f"changed its argument(s) {', '.join(f'`{n}`' for n in names)} in place",
        )
    if entry.id == "backward":
        comparison, block = compare_pairs(expected, outcome.value, n_terms=n_terms(case.args))
    else:
        comparison, block = compare(expected, outcome.value, n_terms=n_terms(case.args)), ""
    status = "ok" if comparison.ok else "fail"
    guard = None
    guardable = course is None and entry.id in EPSILON_FUNCTIONS  # the notes' losses
    if status == "fail" and comparison.problem == "values" and guardable:
        guard = find_guard(entry.id, case.args, outcome.value, kind, n_terms(case.args))
        if guard is not None and epsilon != "strict":
            status = "ok"
    return CaseResult(
        status, case, outcome.value, expected, comparison, block, comparison.detail, guard=guard
    )


def judge_function(
    fid: str,
    name: str,
    caller: Caller,
    cases: Sequence[Case],
    kind: str,
    *,
    shrink: Callable[[Callable[[Point], bool]], Point | None] | None = None,
    course: Course | None = None,
    epsilon: str = "note",
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> FunctionGrade:
    """Run every case; at the first failure, shrink it to the smallest failing point.

    `shrink(fails)` searches test points for the smallest one where `fails` holds;
    `epsilon` (``"note"`` or ``"strict"``) says what a log guard costs (`run_case`).
    `prepare(args)` makes the arguments of a point's call (as the cases' were made).
    """
    entry = FORMULAS[fid]
    calls = 0
    low_precision = False
    repeated = False
    guard: Guard | None = None
    noise = 0.0
    for case in cases:
        result = run_case(entry, name, caller, case, kind, course, epsilon=epsilon)
        calls += 1
        if result.status in ("error", "timeout"):
            return FunctionGrade(result.status, result.message, result, calls=calls)
        if result.status == "fail":
            failure = result
            if case.point is not None and shrink is not None and not result.mutated:
                failure = _shrunk(
                    entry, name, caller, kind, shrink, result, course, epsilon, prepare
                )
            return FunctionGrade(
                "fail",
                failure.message,
                failure,
                calls=calls,
                low_precision=low_precision or _low(failure),
                guard=failure.guard,
                noise=noise,
            )
        low_precision = low_precision or _low(result)
        guard = guard or result.guard
        noise = max(noise, _relative_error(result))
        if not repeated:
            repeated = True
            again = caller.call(name, [case.args[a] for a in entry.args])
            calls += 1
            if again.status != "ok" or not same_result(result.got, again.value):
                message = "answers differently when called again with the same arguments"
                return FunctionGrade(
                    "fail",
                    message,
                    CaseResult("fail", case, again.value, result.expected, message=message),
                    calls=calls,
                )
    return FunctionGrade(
        "pass", "", None, calls=calls, low_precision=low_precision, guard=guard, noise=noise
    )


def _low(result: CaseResult) -> bool:
    return result.comparison is not None and result.comparison.low_precision


def _relative_error(result: CaseResult) -> float:
    """The largest error of a result judged right, relative to the expected's largest entry."""
    c = result.comparison
    if c is None or not np.isfinite(c.max_abs_error):
        return 0.0
    expected = result.expected
    if isinstance(expected, list | tuple):
        scale = max((float(np.max(np.abs(x), initial=0.0)) for p in expected for x in p), default=0)
    else:
        scale = float(np.max(np.abs(np.asarray(expected, dtype=float)), initial=0.0))
    return c.max_abs_error / scale if scale > 0 else 0.0


def _shrunk(
    entry: Formula,
    name: str,
    caller: Caller,
    kind: str,
    shrink: Callable[[Callable[[Point], bool]], Point | None],
    first: CaseResult,
    course: Course | None = None,
    epsilon: str = "note",
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> CaseResult:
    """The first failure, replaced by the same kind of failure on the smallest point found."""
    problem = first.comparison.problem if first.comparison is not None else ""

    def failure_at(point: Point) -> CaseResult | None:
        samples = entry.sample(point) if course is None else course_cases(course, entry.id, point)
        for args in samples:
            args = prepare(args) if prepare is not None else args
            result = run_case(entry, name, caller, Case(args, point), kind, course, epsilon=epsilon)
            comparison = result.comparison
            if result.status == "fail" and comparison is not None and comparison.problem == problem:
                return result
        return None

    smallest = shrink(lambda point: failure_at(point) is not None)
    if smallest is None:
        return first
    return failure_at(smallest) or first


def special_cases(fid: str, rng: np.random.Generator) -> list[Case]:
    """The special inputs of docs/contract.md for one function, beside the random test points.

    Exact zeros in `z` (the notes' mask is 0 there), large `|a|` (a softmax that does not
    subtract the maximum overflows), and ties (every maximum gets 1 in the decision).

    Notes
    -----
    Drawn from `rng` (from the grading's seed, which the instructor may keep hidden):
    shapes, values and where the zeros, overflows and ties fall change with the seed. Fixed,
    public inputs could be recognised, and answered right by code that is wrong elsewhere.
    """
    n, m = int(rng.integers(2, 6)), int(rng.integers(3, 7))
    if fid in ("relu_mask", "relu", "dL_dz"):
        z = rng.normal(scale=2.0, size=(n, m))
        z[rng.random((n, m)) < 0.3] = 0.0
        z[rng.integers(n), rng.integers(m)] = 0.0  # at least one exact zero
        if fid != "dL_dz":
            return [Case({"z": z}, label="z with exact zeros")]
        dL_da = rng.normal(size=z.shape)
        return [Case({"dL_da": dL_da, "z": z}, label="z with exact zeros")]
    if fid == "softmax":
        large = rng.uniform(-1000.0, 1000.0, size=(n, m))
        large[rng.integers(n, size=m), np.arange(m)] = rng.uniform(710.0, 1000.0, size=m)
        return [Case({"a": large}, label="large |a|")]  # e^710 overflows float64
    if fid == "decide":
        ties = rng.normal(size=(n, m))
        top = ties.argmax(axis=0)
        other = (top + rng.integers(1, n, size=m)) % n
        ties[other, np.arange(m)] = ties[top, np.arange(m)]  # two maxima in every column
        return [Case({"a": ties}, label="ties")]
    return []
