"""Grade one submission: every function of the contract, from positive evidence only.

The submission runs in a `Sandbox` (another process, limited); the verdicts are
computed here from the plain arrays it returns. The same submission, configuration and
seed give the same verdicts: the test points are drawn by Hypothesis from the seed, and
the shrinking of a failure is seeded too.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import NoSuchExample
from hypothesis.strategies import SearchStrategy

from backprop import CONTRACT
from backprop.catalog import FORMULAS, Point
from checks.grader.config import Config
from checks.grader.judge._cascade import cascade
from checks.grader.judge._consistency import consistency
from checks.grader.judge._diagnose import Diagnosis, diagnose
from checks.grader.judge._judge import Case, FunctionGrade, judge_function, special_cases
from checks.grader.judge._lines import line_hint
from checks.grader.judge._message import error_message, failure_message
from checks.grader.judge._more import depths_note, second_failure
from checks.grader.judge._notices import (
    cell_costs,
    cells_summary,
    cost_message,
    load_error_message,
    missing_message,
)
from checks.grader.report import FunctionResult, Report
from checks.grader.sandbox import Sandbox, read_source
from checks.strategies import test_points

__all__ = ["draw_points", "grade_submission"]

_QUIET = settings(
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.generate],
)
_SHRINK_EXAMPLES = 40  # points tried before shrinking starts; shrinking then runs to its end


def _points(kind: str, depths: Sequence[int]) -> SearchStrategy[Point]:
    """Test points of the numbers of layers `depths` (a course's fixed architecture)."""
    allowed = frozenset(depths)
    strategy = test_points(kind=kind, min_layers=min(allowed), max_layers=max(allowed))
    if allowed == frozenset(range(min(allowed), max(allowed) + 1)):
        return strategy
    return strategy.filter(lambda p: len(p.params) in allowed)


def draw_points(
    kind: str, count: int, seed: int, *, depths: Sequence[int] = (1, 2, 3)
) -> list[Point]:
    """`count` test points from `checks.strategies.test_points`, drawn from `seed`.

    `depths` are the numbers of layers allowed (the configuration's ``depths``).
    """
    drawn: list[Point] = []

    @settings(_QUIET, max_examples=count)
    @hypothesis_seed(seed)
    @given(_points(kind, depths))
    def collect(point: Point) -> None:
        drawn.append(point)

    collect()
    return drawn


def _shrinker(
    kind: str, seed: int, depths: Sequence[int] = (1, 2, 3)
) -> Callable[[Callable[[Point], bool]], Point | None]:
    def shrink(fails: Callable[[Point], bool]) -> Point | None:
        search = settings(
            _QUIET, max_examples=_SHRINK_EXAMPLES, phases=[Phase.generate, Phase.shrink]
        )
        try:
            return find(_points(kind, depths), fails, settings=search, random=random.Random(seed))
        except NoSuchExample:
            return None

    return shrink


def grade_submission(
    path: str | Path, config: Config, *, seed: int = 0, display_name: str | None = None
) -> Report:
    """Grade one submission file against the contract; never raises for the submission."""
    name = display_name if display_name is not None else str(path)
    kind = config.loss
    points = draw_points(kind, config.examples, seed, depths=config.depths)
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
        first = True
        costs: dict[str, Any] = {}
        if loaded.cell_errors:
            missing = [config.name_of(f) for f in CONTRACT if config.name_of(f) not in loaded.names]
            costs = cell_costs(loaded.cell_errors, read_source(path).cells, missing)
        for fid in CONTRACT:
            alias = config.name_of(fid)
            cases: list[Case] = []
            if loaded.error is not None:
                if first:  # said once, in full; the other functions refer to it
                    text = load_error_message(loaded.error, path)
                else:
                    text = "not graded: the submission did not load (see the first function)"
                grade = FunctionGrade("error", text)
            elif alias in costs:
                grade = FunctionGrade("missing", cost_message(alias, costs[alias]))
            elif alias not in loaded.names:
                grade = FunctionGrade("missing", missing_message(fid, alias, loaded.names))
            else:
                cases = [Case(args, p) for p in points for args in FORMULAS[fid].sample(p)]
                cases += special_cases(fid, rng)
                grade = judge_function(
                    fid,
                    alias,
                    box,
                    cases,
                    kind,
                    shrink=_shrinker(kind, seed, config.depths),
                    epsilon=config.log_epsilon,
                )
            grades[fid] = grade
            functions[fid] = _result(path, fid, grade, config, box, grades, kind, seed, module)
            if grade.failure is not None and grade.verdict in ("fail", "error"):
                _beyond(fid, grade, functions[fid], cases, config, box, seed, module)
            if first and loaded.cell_errors:  # said once, with the first function
                summary = cells_summary(loaded.cell_errors, costs)
                old = functions[fid]["message"]
                functions[fid]["message"] = summary + ("\n\n" + old if old else "")
            first = False
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


def _beyond(
    fid: str,
    grade: FunctionGrade,
    result: FunctionResult,
    cases: list[Case],
    config: Config,
    box: Sandbox,
    seed: int,
    module: str | None,
) -> None:
    """A second failure that needs depth ≥ 2; for an error, the depths that did run."""
    alias, failure = config.name_of(fid), grade.failure
    assert failure is not None
    kind = config.loss

    def cases_at(depths: Sequence[int], count: int) -> list[Case]:
        drawn = draw_points(kind, count, seed + 1, depths=depths)
        return [*cases, *(Case(args, p) for p in drawn for args in FORMULAS[fid].sample(p))]

    if grade.verdict == "error":
        per_depth = [c for d in config.depths for c in cases_at((d,), 1)]
        note = depths_note(fid, alias, box, per_depth, kind, config.depths)
        if note:
            result["message"] = note + "\n\n" + result["message"]
        return
    if "cascade" in result["diagnosis"] or failure.guard is not None:
        return
    deeper = [d for d in config.depths if d >= 2]
    second = second_failure(
        fid,
        alias,
        box,
        cases_at(deeper, max(2, config.examples // 2)) if deeper else [],
        kind,
        failure,
        result["diagnosis"],
        shrink=_shrinker(kind, seed, deeper) if deeper else None,
        epsilon=config.log_epsilon,
        module=module,
    )
    if second is not None:
        ids, message = second
        result["diagnosis"] = list(dict.fromkeys([*result["diagnosis"], *ids]))
        result["message"] += "\n\n" + message


def _before_snippet(message: str, text: str) -> str:
    """`text` as a paragraph just before the reproduction, or at the end."""
    marker = "\n\nReproduce it ("
    if marker in message:
        head, tail = message.split(marker, 1)
        return f"{head}\n\n{text}{marker}{tail}"
    return f"{message}\n\n{text}"


def _result(
    path: str | Path,
    fid: str,
    grade: FunctionGrade,
    config: Config,
    box: Sandbox,
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
        elif failure.guard is not None:
            found = [Diagnosis("log-epsilon", failure.guard.sentence(f"your `{fid}`"))]
            diagnosis.append("log-epsilon")
        elif failure.expected is not None:
            found = diagnose(fid, failure.case.args, failure.expected, failure.got, kind=kind)
            diagnosis.extend(d.id for d in found)
        message = failure_message(fid, config.name_of(fid), failure, found, module=module)
        blamed = None
        if not failure.mutated and failure.guard is None:
            blamed = cascade(fid, failure, grades, box, config.name_of, kind)
        if blamed is not None:
            diagnosis.insert(0, "cascade")
            message = blamed.sentence(config.name_of) + "\n\n" + message
        hint = line_hint(
            path,
            config.name_of(fid),
            diagnosis,
            epsilon=failure.guard.epsilon if failure.guard is not None else None,
            components=[config.name_of(c) for c in blamed.components] if blamed else (),
            also=[config.name_of(c) for c, g in grades.items() if g.verdict == "fail" and c != fid],
        )
        if hint:
            message = _before_snippet(message, hint)
    if grade.verdict == "error" and grade.failure is not None and grade.failure.case.args:
        message = error_message(fid, config.name_of(fid), grade.failure, module=module)
    if grade.verdict == "pass" and grade.guard is not None:
        hint = line_hint(path, config.name_of(fid), ["log-epsilon"], epsilon=grade.guard.epsilon)
        message = ("\n\n" + hint if hint else "") + message
        message = (
            grade.guard.sentence(f"Your `{config.name_of(fid)}`")
            + ". It passes with this note; the exact formula needs no guard at the course's "
            "test points (log1p(-ŷ) and a zero weight for a zero label avoid log(0))."
        ) + message
    if grade.low_precision:
        message = (message + "\n\n" if message else "") + (
            "Your results are in a precision lower than float64; they were graded with "
            "that precision's tolerances."
        )
    if grade.verdict == "fail" and "cascade" not in diagnosis:
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
