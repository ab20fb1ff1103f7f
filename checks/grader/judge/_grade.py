"""Grade one submission: every function of the contract, from positive evidence only.

The submission runs in a `Sandbox` (another process, limited); the verdicts are
computed here from the plain arrays it returns. The same submission, configuration and
seed give the same verdicts: the test points are drawn by Hypothesis from the seed, and
the shrinking of a failure is seeded too.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import NoSuchExample

from backprop import CONTRACT
from backprop.catalog import FORMULAS, Point
from checks.grader.config import Config
from checks.grader.judge._consistency import consistency
from checks.grader.judge._diagnose import diagnose
from checks.grader.judge._judge import Case, FunctionGrade, judge_function, special_cases
from checks.grader.judge._message import failure_message
from checks.grader.report import FunctionResult, Report
from checks.grader.sandbox import Sandbox
from checks.grader.sandbox._sandbox import Isolation
from checks.strategies import test_points

__all__ = ["draw_points", "grade_submission"]

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


# The arguments that are a test point's intermediates (what the reference computes on the
# way: z, a, ŷ, ∂L/∂a, ∂L/∂z), by function. `y` (labels) and the raw inputs (`params`,
# `X`, `W_next`) are left as they are.
_INTERMEDIATES = ("z", "a", "y_hat", "dL_da", "dL_dz", "dL_dz_next", "a_prev")
_PERTURBATION = (0.05, 0.2)  # the relative change of every entry: at least 5 %, at most 20 %


def _perturber(fid: str, seed: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The arguments of `fid`'s cases, their intermediates perturbed.

    Notes
    -----
    Without it, a function is handed the reference's exact intermediates of the same test
    points the other functions are graded at (the true ∂L/∂a_L into `dL_dz`, say): a
    submission could record them and replay them in `backward`, and pass it without a
    right `dL_daL`. So every entry of an intermediate is multiplied by ``1 ± u``, u drawn
    from the seed (hidden) in [5 %, 20 %]: never the exact value another function needs
    (a replay is off by 5 % at least, far past any tolerance), while signs and exact
    zeros (the ReLU kinks) are kept, and ŷ's columns still sum to 1. The reference is
    computed on the perturbed arguments, so an honest function is judged as before, and
    nothing is restarted (a fresh worker per function would cost one numpy import per
    function: about 13 × 0.15 s per submission, measured in docs/grading.md).
    """
    rng = np.random.default_rng([seed, *fid.encode()])

    def prepare(args: dict[str, Any]) -> dict[str, Any]:
        out = dict(args)
        for name in _INTERMEDIATES:
            value = out.get(name)
            if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
                continue
            size = rng.uniform(*_PERTURBATION, size=value.shape)
            changed = value * (1 + size * rng.choice([-1.0, 1.0], size=value.shape))
            if name == "y_hat":  # still a probability vector per column
                changed = changed / changed.sum(axis=0, keepdims=True)
            out[name] = changed
        return out

    return prepare


def grade_submission(
    path: str | Path,
    config: Config,
    *,
    seed: int = 0,
    display_name: str | None = None,
    isolation: Isolation = "auto",
) -> Report:
    """Grade one submission file against the contract; never raises for the submission.

    Raises `IsolationUnavailable` (a problem of the machine) when `isolation` is
    "auto" and no sandbox can be made: the submission is then not run at all.
    """
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
        isolation=isolation,
    ) as box:
        loaded = box.load()
        for fid in CONTRACT:
            alias = config.name_of(fid)
            if loaded.error is not None:
                grade = FunctionGrade("error", f"the submission did not load: {loaded.error}")
            elif alias not in loaded.names:
                grade = FunctionGrade("missing", f"`{alias}` is not defined at module level")
            else:
                prepare = _perturber(fid, seed)
                cases = [Case(prepare(a), p) for p in points for a in FORMULAS[fid].sample(p)]
                cases += special_cases(fid, rng)
                grade = judge_function(
                    fid, alias, box, cases, kind, shrink=_shrinker(kind, seed), prepare=prepare
                )
            grades[fid] = grade
            functions[fid] = _result(fid, grade, config, box, grades, kind, seed, module)
        output = _output(box.stdout, box.stderr)
    score = sum(r["points"] for r in functions.values())
    report: Report = {
        "submission": name,
        "score": score,
        "max_score": sum(r["max_points"] for r in functions.values()),
        "functions": functions,
        "output": output,
        "isolation": box.isolation,
    }
    return report


def _result(
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
