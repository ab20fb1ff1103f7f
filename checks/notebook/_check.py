"""`check` and `check_all`: the grader's judgement of functions defined in a notebook.

The verdicts, points, diagnoses and messages are the grader's own
(`checks.grader.judge.grade_function`, the body of `grade_submission`), on the same test
points from the same seed; only the caller differs: the functions run here, in the
student's kernel (`InProcessCaller`), not in a sandbox.
"""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from backprop import CONTRACT
from backprop.catalog import Point
from backprop.course import Course
from checks.grader.config import Config, ConfigError, load_config
from checks.grader.judge import FunctionGrade, grade_function, grading_points, snippet
from checks.grader.report import FunctionResult
from checks.notebook._caller import InProcessCaller
from checks.notebook._result import Result, Results

__all__ = ["check", "check_all", "configuration", "configure", "points"]

ConfigLike = Config | str | Path | Mapping[str, Any] | None

_settings: dict[str, Config] = {"config": Config()}
# numpy's defaults, for the judge's own arithmetic whatever the student set.
_NUMPY_DEFAULTS: dict[str, Any] = {
    "divide": "warn",
    "over": "warn",
    "under": "ignore",
    "invalid": "warn",
}


@cache
def _drawn(loss: str, examples: int, seed: int, network: Course) -> tuple[Point, ...]:
    config = Config(loss=loss, examples=examples, network=network)
    return tuple(grading_points(config, seed))


def points(config: Config, seed: int) -> tuple[Point, ...]:
    """The test points of `config` and `seed`: drawn once per kernel, then reused.

    Notes
    -----
    Drawing them runs Hypothesis and the reference network, most of a first check's
    time. They are never handed to a student's function (it gets copies), so they
    stay as drawn.
    """
    return _drawn(config.loss, config.examples, seed, config.network)


def _settings_config(settings: Mapping[str, Any], base: Config, source: str) -> Config:
    if not settings:
        return base
    given = Config.from_mapping(settings, source=source)
    unknown = sorted(set(settings) - {"loss", "examples", "seed", "hidden", "names", "points"})
    if unknown:
        raise ConfigError(f"{source}: `{unknown[0]}` does not apply to a notebook's checks")
    return replace(base, **{key: getattr(given, key) for key in settings})


def configure(path: str | Path | None = None, **settings: Any) -> Config:
    """Set how this kernel's checks grade: the instructor's TOML, or settings, or both.

    Parameters
    ----------
    path : str or Path, optional
        The grading configuration the course hands out (`grading.toml`); None: the
        grader's defaults.
    **settings
        Keys of that file, overriding it: `loss`, `examples`, `seed`, `hidden`,
        `names` (a dict), `points` (a dict).

    Returns
    -------
    Config
        The configuration now in force.

    Raises
    ------
    ConfigError
        If the file cannot be read or a key is wrong; the message names it.
    """
    base = load_config(path) if path is not None else Config()
    _settings["config"] = _settings_config(settings, base, "configure()")
    return _settings["config"]


def configuration(config: ConfigLike = None) -> Config:
    """The configuration a check uses: `config` as given, else the kernel's (`configure`)."""
    if config is None:
        return _settings["config"]
    if isinstance(config, Config):
        return config
    if isinstance(config, str | Path):
        return load_config(config)
    if isinstance(config, Mapping):
        return _settings_config(config, Config(), "`config`")
    raise TypeError(
        "`config` must be a Config, the path of a TOML file or a mapping of its keys, "
        f"got {type(config).__name__}"
    )


def _seed(config: Config) -> int:
    return config.seed if config.seed is not None else 0


class _LazyGrades(Mapping[str, FunctionGrade]):
    """The grades of the student's other functions, each judged when first asked for.

    A failed gradient is checked against the student's own `loss`, `softmax` and
    `forward` only when their grades are known: `check(dL_dyhat)` judges `loss` then,
    and only then, as the grader does.
    """

    def __init__(
        self, grade: Callable[[str], FunctionGrade], known: Mapping[str, FunctionGrade]
    ) -> None:
        self._grade = grade
        self._known = dict(known)

    def __getitem__(self, fid: str) -> FunctionGrade:
        if fid not in CONTRACT:
            raise KeyError(fid)
        if fid not in self._known:
            self._known[fid] = self._grade(fid)
        return self._known[fid]

    def __iter__(self) -> Iterator[str]:
        # Only the grades known so far, as the grader's dictionary holds only the
        # functions graded before: iterating must not judge (and recurse into) them all.
        return iter(list(self._known))

    def __len__(self) -> int:
        return len(self._known)

    def remember(self, fid: str, grade: FunctionGrade) -> None:
        """Keep a grade already computed, so that it is not judged again."""
        self._known[fid] = grade


def _defined(caller: InProcessCaller) -> set[str]:
    names = {k for k, v in list(caller.namespace.items()) if isinstance(k, str) and callable(v)}
    return names | set(caller.bound)


class _Grading:
    """One check's state: the configuration, the caller, the test points, the grades."""

    def __init__(self, config: Config, caller: InProcessCaller) -> None:
        self.config, self.caller, self.seed = config, caller, _seed(config)
        self.points = points(config, self.seed)
        self.defined = _defined(caller)
        self.grades = _LazyGrades(lambda fid: self.grade(fid)[0], {})

    def grade(self, fid: str) -> tuple[FunctionGrade, FunctionResult]:
        with np.errstate(**_NUMPY_DEFAULTS):
            return grade_function(
                fid,
                self.caller,
                self.config,
                defined=self.defined,
                points=self.points,
                seed=self.seed,
                grades=self.grades,
                path=self.source_file(fid),
            )

    def source_file(self, fid: str) -> Path | None:
        """The file that defines the student's `fid` (a module, or the kernel's cell
        file): the grader's messages then name the line to change, as for a file."""
        alias = self.config.name_of(fid)
        function = self.caller.bound.get(alias, self.caller.namespace.get(alias))
        try:
            name = inspect.getsourcefile(function)  # type: ignore[arg-type]
        except TypeError:  # a builtin, or not a function at all
            return None
        return Path(name) if name is not None and Path(name).is_file() else None

    def result(self, fid: str, seconds_from: float) -> Result:
        grade, entry = self.grade(fid)
        self.grades.remember(fid, grade)
        return _result(fid, self.config, grade, entry, time.perf_counter() - seconds_from)


def _result(
    fid: str, config: Config, grade: FunctionGrade, entry: FunctionResult, seconds: float
) -> Result:
    hidden = bool(entry.get("hidden", False))
    failure = grade.failure if grade.verdict == "fail" else None
    alias = config.name_of(fid)
    shown = failure is not None and not hidden and not failure.mutated
    return Result(
        function=fid,
        name=alias,
        verdict=entry["verdict"],
        points=entry["points"],
        max_points=entry["max_points"],
        diagnoses=() if hidden else tuple(entry["diagnosis"]),
        message="" if hidden else entry["message"],
        expected=failure.expected if shown and failure is not None else None,
        got=failure.got if shown and failure is not None else None,
        reproduction=(
            snippet(fid, alias, None, failure)
            if shown and failure is not None and failure.comparison is not None
            else ""
        ),
        hidden=hidden,
        seconds=seconds,
    )


def _identify(
    function: Callable[..., Any] | str,
    name: str | None,
    config: Config,
    cell: Mapping[str, Any],
) -> tuple[str, Callable[..., Any] | None, Mapping[str, Any]]:
    """The contract name being checked, the function, and the namespace it lives in."""
    by_alias = {config.name_of(fid): fid for fid in CONTRACT}

    def contract_name(text: str) -> str | None:
        return by_alias.get(text) or (text if text in CONTRACT else None)

    def unknown(what: str) -> ValueError:
        return ValueError(
            f"{what} is not a function of the contract (nor a name the configuration "
            f"gives one); the contract's names: {', '.join(CONTRACT)}"
        )

    if name is not None and (not isinstance(name, str) or contract_name(name) is None):
        raise unknown(f"`name` {name!r}")
    if isinstance(function, str):
        fid = contract_name(name or function)
        if fid is None:
            raise unknown(f"`{function}`")
        return fid, None, cell
    if not callable(function):
        raise TypeError(
            f"`function` must be a function (or its name as a str), got "
            f"{type(function).__name__} `{function!r:.60}`"
        )
    namespace = getattr(function, "__globals__", {})
    if name is not None:
        return contract_name(name), function, namespace  # type: ignore[return-value]
    own = getattr(function, "__name__", None)
    fid = contract_name(own) if isinstance(own, str) else None
    if fid is None:  # a lambda, or a function bound to a contract name under another
        bound = [a for a, f in by_alias.items() if namespace.get(a) is function]
        fid = by_alias[bound[0]] if bound else None
    if fid is None:
        raise unknown(f"`{own}`")
    return fid, function, namespace


def check(
    function: Callable[..., Any] | str, *, name: str | None = None, config: ConfigLike = None
) -> Result:
    """Check one function of the assignment, as the grader would grade it.

    Parameters
    ----------
    function : callable or str
        The function (`check(dL_dW)`), known by its name or, through the configuration's
        `[names]`, the name the assignment gives it; or that name as a string
        (`check("dL_dW")`), looked up among the calling cell's globals, so that a
        function not defined yet is `missing` rather than a `NameError`.
    name : str, optional
        The contract name (or the assignment's) to check `function` as, when its own
        name is another.
    config : Config, str, Path or mapping, optional
        The grading configuration: a `Config`, the instructor's TOML file, or a mapping
        of its keys; None: the kernel's (`configure`).

    Returns
    -------
    Result
        The verdict, points, diagnoses, message, expected and got values and a
        reproduction; shown as HTML in Jupyter. A wrong, raising or missing function is
        a result, never an exception.

    Raises
    ------
    TypeError, ValueError
        When `function` is neither a callable nor a string, or names no contract
        function; `ConfigError` for a configuration that cannot be used.

    Notes
    -----
    The function runs in this kernel, on copies of the grader's test points (drawn
    once per kernel, then reused); the other functions it needs for a diagnosis (its
    own `loss` for a gradient) are found among its globals. There is no time limit:
    interrupt the kernel to stop a function that does not return.
    """
    started = time.perf_counter()
    cfg = configuration(config)
    fid, found, namespace = _identify(function, name, cfg, sys._getframe(1).f_globals)
    alias = cfg.name_of(fid)
    bound = {alias: found} if found is not None else {}
    caller = InProcessCaller(namespace, bound, errstate=np.geterr())
    result = _Grading(cfg, caller).result(fid, started)
    return replace(result, output=caller.output)


def check_all(namespace: Mapping[str, Any] | None = None, *, config: ConfigLike = None) -> Results:
    """Check every function of the contract defined in `namespace`, as the grader would.

    Parameters
    ----------
    namespace : mapping, optional
        Where the functions are: `globals()` in a notebook; None: the calling cell's
        globals.
    config : Config, str, Path or mapping, optional
        As for `check`.

    Returns
    -------
    Results
        A `Result` per contract function, in the contract's order (`missing` for those
        not defined yet), the score, and the grader's report (`Results.report()`).
    """
    started = time.perf_counter()
    cfg = configuration(config)
    if namespace is None:
        namespace = sys._getframe(1).f_globals
    if not isinstance(namespace, Mapping):
        raise TypeError(
            f"`namespace` must be a mapping such as `globals()`, got {type(namespace).__name__}"
        )
    caller = InProcessCaller(namespace, errstate=np.geterr())
    grading = _Grading(cfg, caller)
    results = {}
    for fid in CONTRACT:
        results[fid] = grading.result(fid, time.perf_counter())
    return Results(results, output=caller.output, seconds=time.perf_counter() - started)
