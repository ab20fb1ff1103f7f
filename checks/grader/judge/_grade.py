"""Grade one submission: every function of the contract, from positive evidence only.

The submission runs in a `Sandbox` (another process, limited); the verdicts are
computed here from the plain arrays it returns. The same submission, configuration and
seed give the same verdicts: the test points are drawn by Hypothesis from the seed, and
the shrinking of a failure is seeded too.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from backprop import CONTRACT
from backprop.catalog import FORMULAS, Point
from checks.grader.config import Config
from checks.grader.judge._consistency import consistency
from checks.grader.judge._course import (
    course_cases,
    course_special,
    diagnose_course,
    is_notes_network,
)
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
from checks.strategies import fixed_points, test_points

__all__ = ["draw_points", "grade_function", "grade_submission", "grading_points"]

_QUIET = settings(
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.generate],
)
_SHRINK_EXAMPLES = 40  # points tried before shrinking starts; shrinking then runs to its end


def _points(kind: str, layers: tuple[int, ...] | None) -> st.SearchStrategy[Point]:
    return test_points(kind=kind) if layers is None else fixed_points(layers, kind=kind)


def draw_points(
    kind: str, count: int, seed: int, layers: tuple[int, ...] | None = None
) -> list[Point]:
    """`count` test points from `checks.strategies.test_points`, drawn from `seed`.

    With `layers`, a fixed architecture, every point has it (`fixed_points`).
    """
    drawn: list[Point] = []

    @settings(_QUIET, max_examples=count)
    @hypothesis_seed(seed)
    @given(_points(kind, layers))
    def collect(point: Point) -> None:
        drawn.append(point)

    collect()
    return drawn


def _shrinker(
    kind: str, seed: int, layers: tuple[int, ...] | None = None, loss: str | None = None
) -> Callable[[Callable[[Point], bool]], Point | None]:
    """Shrinking to the smallest failing point; `loss` names a course's loss in its points."""

    def shrink(fails: Callable[[Point], bool]) -> Point | None:
        search = settings(
            _QUIET, max_examples=_SHRINK_EXAMPLES, phases=[Phase.generate, Phase.shrink]
        )
        try:
            found = find(_points(kind, layers), fails, settings=search, random=random.Random(seed))
        except NoSuchExample:
            return None
        return found if loss is None else replace(found, kind=loss)

    return shrink


def grading_points(config: Config, seed: int) -> list[Point]:
    """The test points of a grading under `config`: drawn from `seed`, one set for all.

    For the configured network: its fixed `layers` if it has them, and for another
    course than the notes', points whose `kind` names that course's loss (a failure's
    message quotes it).
    """
    course = config.network
    notes = is_notes_network(course)
    kind = config.loss if notes else "notes"  # the points' kind: only the notes' use it
    points = draw_points(kind, config.examples, seed, course.layers)
    if not notes:
        points = [replace(p, kind=course.loss) for p in points]
    return points


def grade_submission(
    path: str | Path, config: Config, *, seed: int = 0, display_name: str | None = None
) -> Report:
    """Grade one submission file against the contract; never raises for the submission."""
    name = display_name if display_name is not None else str(path)
    points = grading_points(config, seed)
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
    course = config.network
    # The notes' network keeps the notes' catalog, templates and errata; any other
    # course is judged by its own reference (checks.grader.judge._course).
    notes = is_notes_network(course)
    kind = config.loss if notes else "notes"  # the points' kind: only the notes' use it
    if load_error is not None:
        grade = FunctionGrade("error", f"the submission did not load: {load_error}")
    elif alias not in defined:
        grade = FunctionGrade("missing", f"`{alias}` is not defined at module level")
    else:
        rng = rng if rng is not None else np.random.default_rng(seed)
        if notes:
            cases = [Case(args, p) for p in points for args in FORMULAS[fid].sample(p)]
            cases += special_cases(fid, rng)
        else:
            cases = [Case(args, p) for p in points for args in course_cases(course, fid, p)]
            cases += [
                Case(course_special(course, fid, c.args), label=c.label)
                for c in special_cases(fid, rng)
            ]
        grade = judge_function(
            fid,
            alias,
            caller,
            cases,
            kind,
            shrink=_shrinker(kind, seed, course.layers, None if notes else course.loss),
            course=None if notes else course,
        )
    return grade, _result(fid, grade, config, caller, grades, kind, seed, module)


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
            if is_notes_network(config.network):
                found = diagnose(fid, failure.case.args, failure.expected, failure.got, kind=kind)
            else:
                found = diagnose_course(
                    config.network, fid, failure.case.args, failure.expected, failure.got
                )
            diagnosis.extend(d.id for d in found)
        message = failure_message(fid, config.name_of(fid), failure, found, module=module)
    if grade.low_precision:
        message = (message + "\n\n" if message else "") + (
            "Your results are in a precision lower than float64; they were graded with "
            "that precision's tolerances."
        )
    if grade.verdict == "fail" and is_notes_network(config.network):
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
