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
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Flaky, NoSuchExample
from hypothesis.strategies import SearchStrategy

from backprop import CONTRACT
from backprop.catalog import FORMULAS, Point
from checks.grader.config import Config
from checks.grader.judge._cascade import cascade
from checks.grader.judge._consistency import consistency
from checks.grader.judge._course import (
    course_cases,
    course_special,
    diagnose_course,
    is_notes_network,
)
from checks.grader.judge._diagnose import Diagnosis, diagnose
from checks.grader.judge._judge import (
    Caller,
    Case,
    FunctionGrade,
    judge_function,
    special_cases,
)
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
from checks.grader.report import NOT_LOADED, FunctionResult, Report
from checks.grader.sandbox import Isolation, Sandbox, read_source
from checks.strategies import fixed_points, test_points

__all__ = ["draw_points", "grade_function", "grade_submission", "grading_points"]

_QUIET = settings(
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.generate],
)
_SHRINK_EXAMPLES = 40  # points tried before shrinking starts; shrinking then runs to its end


def _points(
    kind: str, depths: Sequence[int], layers: tuple[int, ...] | None = None
) -> SearchStrategy[Point]:
    """Test points of the numbers of layers `depths`, or of the fixed architecture `layers`."""
    if layers is not None:
        return fixed_points(layers, kind=kind)
    allowed = frozenset(depths)
    strategy = test_points(kind=kind, min_layers=min(allowed), max_layers=max(allowed))
    if allowed == frozenset(range(min(allowed), max(allowed) + 1)):
        return strategy
    return strategy.filter(lambda p: len(p.params) in allowed)


def draw_points(
    kind: str,
    count: int,
    seed: int,
    layers: tuple[int, ...] | None = None,
    *,
    depths: Sequence[int] = (1, 2, 3),
) -> list[Point]:
    """`count` test points from `checks.strategies.test_points`, drawn from `seed`.

    `depths` are the numbers of layers allowed (the configuration's ``depths``); with
    `layers`, a fixed architecture, every point has it (`fixed_points`).
    """
    drawn: list[Point] = []

    @settings(_QUIET, max_examples=count)
    @hypothesis_seed(seed)
    @given(_points(kind, depths, layers))
    def collect(point: Point) -> None:
        drawn.append(point)

    collect()
    return drawn


def _shrinker(
    kind: str,
    seed: int,
    depths: Sequence[int] = (1, 2, 3),
    layers: tuple[int, ...] | None = None,
    loss: str | None = None,
) -> Callable[[Callable[[Point], bool]], Point | None]:
    """Shrinking to the smallest failing point; `loss` names a course's loss in its points."""

    def shrink(fails: Callable[[Point], bool]) -> Point | None:
        search = settings(
            _QUIET, max_examples=_SHRINK_EXAMPLES, phases=[Phase.generate, Phase.shrink]
        )
        strategy = _points(kind, depths, layers)
        try:
            found = find(strategy, fails, settings=search, random=random.Random(seed))
        except NoSuchExample:
            return None
        except Flaky:
            # A submission whose failure does not come back when its point is tried again
            # (state kept between calls, or a limit it reaches at one call and not the
            # next): no smaller case, the failure already seen stands. It once made the
            # whole grading fail ("the checker failed") for every function.
            return None
        return found if loss is None else replace(found, kind=loss)

    return shrink


def grading_points(config: Config, seed: int) -> list[Point]:
    """The test points of a grading under `config`: drawn from `seed`, one set for all.

    For the configured network: its fixed `layers` if it has them (else the configured
    `depths`), and for another course than the notes', points whose `kind` names that
    course's loss (a failure's message quotes it).
    """
    course = config.network
    notes = is_notes_network(course)
    points = draw_points(_kind(config), config.examples, seed, course.layers, depths=config.depths)
    if not notes:
        points = [replace(p, kind=course.loss) for p in points]
    return points


def _kind(config: Config) -> str:
    """The loss the notes' catalog judges with: the configured one, for the notes' network.

    Any other course is judged by its own reference; its points' kind is then only a
    label, and the notes' stands in for it.
    """
    return config.loss if is_notes_network(config.network) else "notes"


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
    points = grading_points(config, seed)
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
        first = True
        costs: dict[str, Any] = {}
        if loaded.cell_errors:
            missing = [config.name_of(f) for f in CONTRACT if config.name_of(f) not in loaded.names]
            costs = cell_costs(loaded.cell_errors, read_source(path).cells, missing)
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
                module=module,
                path=path,
                first=first,
                costs=costs,
            )
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
        "isolation": box.isolation,
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
    path: str | Path | None = None,
    first: bool = True,
    costs: Mapping[str, Any] | None = None,
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
        The grading configuration: loss, network, names, points, hidden checks.
    defined : collection of str
        The names the submission defines; `fid`'s name missing from it is `missing`.
    points : sequence of Point
        The test points (`grading_points`), the same for every function.
    seed : int
        Seeds the shrinking of a failure and the consistency check.
    grades : mapping of str to FunctionGrade
        The grades of the submission's other functions, by contract name; a failed
        gradient is traced to a failing component it calls (a cascade), or checked
        against its own `loss`, `softmax` and `forward`, when their grades are there.
    load_error : object or None
        Why the submission did not load, if it did not: every function is `error`.
    rng : numpy.random.Generator or None
        Draws the special inputs; None: a generator seeded with `seed` and `fid`.
    module : str or None
        The module name a reproduction snippet imports from; None: a comment instead.
    path : str or Path or None
        The submission's file, whose source names the line to change; None: no line.
    first : bool
        Whether `fid` is the first function reported: a load error is said there in
        full, and the others refer to it.
    costs : mapping, optional
        The notebook cells that failed, by the names they would have defined.

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
    notes = is_notes_network(course)
    kind = _kind(config)
    costs = costs or {}
    cases: list[Case] = []
    grade: FunctionGrade | None = None
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    if load_error is not None:
        # said once, in full, with the first function; the others refer to it
        text = load_error_message(load_error, path) if first else NOT_LOADED
        grade = FunctionGrade("error", text)
    elif alias in costs:
        grade = FunctionGrade("missing", cost_message(alias, costs[alias]))
    elif alias not in defined:
        grade = FunctionGrade("missing", missing_message(fid, alias, sorted(defined)))
    else:
        # one generator per function, from the seed and its name: a function's special
        # inputs do not depend on which others were graded before it (the notebook's)
        rng = rng if rng is not None else np.random.default_rng([seed, 2, *fid.encode()])
        if notes:
            prepare = _perturber(fid, seed)
            cases = [Case(prepare(a), p) for p in points for a in FORMULAS[fid].sample(p)]
            if not cases:  # e.g. dL_da, which a one-layer point gives no arguments
                extra = _deeper_points(config, seed)
                cases = [Case(prepare(a), p) for p in extra for a in FORMULAS[fid].sample(p)]
            cases += special_cases(fid, rng)
        else:
            cases = [Case(args, p) for p in points for args in course_cases(course, fid, p)]
            cases += [
                Case(course_special(course, fid, c.args), label=c.label)
                for c in special_cases(fid, rng)
            ]
    if grade is None and not cases:  # never a pass without evidence
        grade = FunctionGrade(
            "error",
            f"not graded: no test point of this configuration reaches `{alias}` (the "
            "configured network is too shallow for it); tell your instructor",
        )
    elif grade is None:
        grade = judge_function(
            fid,
            alias,
            caller,
            cases,
            kind,
            shrink=_shrinker(
                kind, seed, config.depths, course.layers, None if notes else course.loss
            ),
            course=None if notes else course,
            epsilon=config.log_epsilon,
            prepare=prepare,
        )
    result = _result(path, fid, grade, config, caller, grades, kind, seed, module)
    if notes and grade.failure is not None and grade.verdict in ("fail", "error"):
        _beyond(fid, grade, result, cases, config, caller, seed, module)
    return grade, result


def _deeper_points(config: Config, seed: int) -> list[Point]:
    """Points of two layers or more, for a function no drawn point reaches.

    `dL_da` takes the weights of the layer above: a one-layer point gives it no
    arguments, and with few test points (``examples = 1``) every point may be one layer
    deep. It is then graded on these, never passed on no evidence. None where the
    configuration fixes the architecture.
    """
    deeper = [d for d in config.depths if d >= 2]
    if not deeper or config.network.layers is not None:
        return []
    return draw_points(_kind(config), max(1, config.examples // 2), seed + 1, depths=deeper)


def _beyond(
    fid: str,
    grade: FunctionGrade,
    result: FunctionResult,
    cases: list[Case],
    config: Config,
    box: Caller,
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
    path: str | Path | None,
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
        elif failure.guard is not None:
            found = [Diagnosis("log-epsilon", failure.guard.sentence(f"your `{fid}`"))]
            diagnosis.append("log-epsilon")
        elif failure.expected is not None and is_notes_network(config.network):
            found = diagnose(fid, failure.case.args, failure.expected, failure.got, kind=kind)
            diagnosis.extend(d.id for d in found)
        elif failure.expected is not None:
            found = diagnose_course(
                config.network, fid, failure.case.args, failure.expected, failure.got
            )
            diagnosis.extend(d.id for d in found)
        message = failure_message(fid, config.name_of(fid), failure, found, module=module)
        blamed = None
        if not failure.mutated and failure.guard is None and is_notes_network(config.network):
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
    if grade.verdict == "fail" and "cascade" not in diagnosis and is_notes_network(config.network):
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
