"""Grade one submission: every function of the contract, from positive evidence only.

The submission runs in a `Sandbox` (another process, limited); the verdicts are
computed here from the plain arrays it returns. The same submission, configuration and
seed give the same verdicts: the test points are drawn by Hypothesis from the seed, and
the shrinking of a failure is seeded too.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import NoSuchExample

from backprop import CONTRACT
from backprop.catalog import FORMULAS, Point
from checks.grader.config import Config
from checks.grader.judge._consistency import consistency
from checks.grader.judge._diagnose import diagnose
from checks.grader.judge._judge import (
    Caller,
    Case,
    FunctionGrade,
    judge_function,
    special_cases,
)
from checks.grader.judge._message import failure_message
from checks.grader.report import FunctionResult, Report
from checks.grader.sandbox import Sandbox
from checks.strategies import test_points

__all__ = ["draw_points", "grade_function", "grade_submission"]

_QUIET = settings(
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.generate],
)
_SHRINK_EXAMPLES = 40  # points tried before shrinking starts; shrinking then runs to its end


def draw_points(kind: str, count: int, seed: int) -> list[Point]:
    """`count` test points from `checks.strategies.test_points`, drawn from `seed`."""
    drawn: list[Point] = []

    @settings(_QUIET, max_examples=count)
    @hypothesis_seed(seed)
    @given(test_points(kind=kind))
    def collect(point: Point) -> None:
        drawn.append(point)

    collect()
    return drawn


def _shrinker(kind: str, seed: int) -> Callable[[Callable[[Point], bool]], Point | None]:
    def shrink(fails: Callable[[Point], bool]) -> Point | None:
        search = settings(
            _QUIET, max_examples=_SHRINK_EXAMPLES, phases=[Phase.generate, Phase.shrink]
        )
        try:
            return find(test_points(kind=kind), fails, settings=search, random=random.Random(seed))
        except NoSuchExample:
            return None

    return shrink


def grade_submission(
    path: str | Path, config: Config, *, seed: int = 0, display_name: str | None = None
) -> Report:
    """Grade one submission file against the contract; never raises for the submission."""
    name = display_name if display_name is not None else str(path)
    kind = config.loss
    points = draw_points(kind, config.examples, seed)
    rng = np.random.default_rng(seed)
    module = (
        Path(path).stem if Path(path).suffix == ".py" and Path(path).stem.isidentifier() else None
    )
    functions: dict[str, FunctionResult] = {}
    grades: dict[str, FunctionGrade] = {}
    with Sandbox(
        path,
        call_timeout=config.call_timeout,
        total_timeout=config.total_timeout,
        memory_mb=config.memory_mb,
        hide=[config.path] if config.path is not None else [],
    ) as box:
        loaded = box.load()
        for fid in CONTRACT:
            grades[fid], functions[fid] = grade_function(
                fid,
                box,
                config,
                defined=loaded.names,
                load_error=loaded.error,
                points=points,
                seed=seed,
                grades=grades,
                rng=rng,
                module=module,
            )
        output = _output(box.stdout, box.stderr)
    score = sum(r["points"] for r in functions.values())
    report: Report = {
        "submission": name,
        "score": score,
        "max_score": sum(r["max_points"] for r in functions.values()),
        "functions": functions,
        "output": output,
    }
    return report


def grade_function(
    fid: str,
    caller: Caller,
    config: Config,
    *,
    defined: Collection[str],
    points: Sequence[Point],
    seed: int,
    grades: Mapping[str, FunctionGrade],
    load_error: object | None = None,
    rng: np.random.Generator | None = None,
    module: str | None = None,
) -> tuple[FunctionGrade, FunctionResult]:
    """Grade one contract function of a submission whose functions `caller` calls.

    Parameters
    ----------
    fid : str
        The contract name of the function.
    caller : Caller
        Calls the submission's functions by name: a `Sandbox`, or anything that
        returns the same `Outcome`s (the notebook's in-process caller).
    config : Config
        The grading configuration: loss, names, points, hidden checks.
    defined : collection of str
        The names the submission defines; `fid`'s name missing from it is `missing`.
    points : sequence of Point
        The test points (`draw_points`), the same for every function.
    seed : int
        Seeds the shrinking of a failure and the consistency check.
    grades : mapping of str to FunctionGrade
        The grades of the submission's other functions, by contract name; a failed
        gradient is checked against its own `loss`, `softmax` and `forward` when their
        grades are there.
    load_error : object or None
        Why the submission did not load, if it did not: every function is `error`.
    rng : numpy.random.Generator or None
        Draws the special inputs; None: a generator seeded with `seed`.
    module : str or None
        The module name a reproduction snippet imports from; None: a comment instead.

    Returns
    -------
    tuple of FunctionGrade and FunctionResult
        The judge's grade (with the failing case, expected and got) and the report's
        entry for the function.

    Notes
    -----
    One function at a time, so that the notebook's checks (`checks.notebook`) give the
    same verdicts, points, diagnoses and messages as the grader, from the same code.
    """
    alias = config.name_of(fid)
    if load_error is not None:
        grade = FunctionGrade("error", f"the submission did not load: {load_error}")
    elif alias not in defined:
        grade = FunctionGrade("missing", f"`{alias}` is not defined at module level")
    else:
        kind = config.loss
        rng = rng if rng is not None else np.random.default_rng(seed)
        cases = [Case(args, p) for p in points for args in FORMULAS[fid].sample(p)]
        cases += special_cases(fid, rng)
        grade = judge_function(fid, alias, caller, cases, kind, shrink=_shrinker(kind, seed))
    return grade, _result(fid, grade, config, caller, grades, config.loss, seed, module)


def _result(
    fid: str,
    grade: FunctionGrade,
    config: Config,
    box: Caller,
    grades: Mapping[str, FunctionGrade],
    kind: str,
    seed: int,
    module: str | None,
) -> FunctionResult:
    max_points = config.points_of(fid)
    diagnosis: list[str] = []
    message = grade.message
    if grade.verdict == "fail" and grade.failure is not None:
        failure = grade.failure
        found = []
        if failure.mutated:
            diagnosis.append("mutates-input")
        elif failure.expected is not None:
            found = diagnose(fid, failure.case.args, failure.expected, failure.got, kind=kind)
            diagnosis.extend(d.id for d in found)
        message = failure_message(fid, config.name_of(fid), failure, found, module=module)
    if grade.low_precision:
        message = (message + "\n\n" if message else "") + (
            "Your results are in a precision lower than float64; they were graded with "
            "that precision's tolerances."
        )
    if grade.verdict == "fail":
        note = consistency(fid, box, config, grades, grade, seed)
        if note:
            message = (message + "\n\n" if message else "") + note
    result: FunctionResult = {
        "verdict": grade.verdict,  # type: ignore[typeddict-item]
        "points": max_points if grade.verdict == "pass" else 0.0,
        "max_points": max_points,
        "diagnosis": list(dict.fromkeys(diagnosis)),
        "message": message,
    }
    if fid in config.hidden:
        result["hidden"] = True
    return result


def _output(stdout: str, stderr: str) -> str:
    parts = []
    if stdout:
        parts.append("stdout:\n" + stdout)
    if stderr:
        parts.append("stderr:\n" + stderr)
    return "\n".join(parts)
