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
from checks.grader.judge._compare import Comparison, compare, compare_pairs, same_result

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


@dataclass
class FunctionGrade:
    verdict: str
    message: str = ""
    failure: CaseResult | None = None
    diagnosis: list[str] = field(default_factory=list)
    low_precision: bool = False
    calls: int = 0


def n_terms(args: dict[str, Any]) -> int:
    """A bound on how many rounded terms add up in one entry of the result."""
    total = 0
    for value in args.values():
        if isinstance(value, list):  # params: a whole forward and backward pass
            total += sum(sum(np.shape(W)) for W, _ in value)
        else:
            total += max(np.shape(value), default=1)
    return max(total, 1)


def run_case(entry: Formula, name: str, caller: Caller, case: Case, kind: str) -> CaseResult:
    """Call the submission once on `case` and judge the plain result it returned."""
    positional = [case.args[a] for a in entry.args]
    outcome = caller.call(name, positional)
    if outcome.status == "timeout":
        return CaseResult("timeout", case, message=outcome.message)
    if outcome.status != "ok":
        text = outcome.message
        if outcome.traceback:
            text += "\n" + outcome.traceback
        return CaseResult("error", case, message=text)
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
    return CaseResult(status, case, outcome.value, expected, comparison, block, comparison.detail)


def judge_function(
    fid: str,
    name: str,
    caller: Caller,
    cases: Sequence[Case],
    kind: str,
    *,
    shrink: Callable[[Callable[[Point], bool]], Point | None] | None = None,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> FunctionGrade:
    """Run every case; at the first failure, shrink it to the smallest failing point.

    `shrink(fails)` searches test points for the smallest one where `fails` holds;
    `prepare(args)` makes the arguments of a point's call (as the cases' were made).
    """
    entry = FORMULAS[fid]
    calls = 0
    low_precision = False
    repeated = False
    for case in cases:
        result = run_case(entry, name, caller, case, kind)
        calls += 1
        if result.status in ("error", "timeout"):
            return FunctionGrade(result.status, result.message, result, calls=calls)
        if result.status == "fail":
            failure = result
            if case.point is not None and shrink is not None and not result.mutated:
                failure = _shrunk(entry, name, caller, kind, shrink, result, prepare)
            return FunctionGrade(
                "fail",
                failure.message,
                failure,
                calls=calls,
                low_precision=low_precision or _low(failure),
            )
        low_precision = low_precision or _low(result)
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
    return FunctionGrade("pass", "", None, calls=calls, low_precision=low_precision)


def _low(result: CaseResult) -> bool:
    return result.comparison is not None and result.comparison.low_precision


def _shrunk(
    entry: Formula,
    name: str,
    caller: Caller,
    kind: str,
    shrink: Callable[[Callable[[Point], bool]], Point | None],
    first: CaseResult,
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> CaseResult:
    """The first failure, replaced by the same kind of failure on the smallest point found."""
    problem = first.comparison.problem if first.comparison is not None else ""

    def failure_at(point: Point) -> CaseResult | None:
        for args in entry.sample(point):
            args = prepare(args) if prepare is not None else args
            result = run_case(entry, name, caller, Case(args, point), kind)
            comparison = result.comparison
            if result.status == "fail" and comparison is not None and comparison.problem == problem:
                return result
        return None

    smallest = shrink(lambda point: failure_at(point) is not None)
    if smallest is None:
        return first
    return failure_at(smallest) or first


def special_cases(fid: str, rng: np.random.Generator) -> list[Case]:
    """The special inputs of MISTAKES.md for one function, beside the random test points.

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
