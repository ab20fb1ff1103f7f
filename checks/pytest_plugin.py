"""The pytest plugin: `pytest --submission FILE`, one test per contract function.

Each test fails with the checker's verdict and feedback as its failure message. The
submission is graded once per session, on the first test that runs, exactly as
``backprop-check FILE`` grades it (`checks.grader.batch`: in a grading process of its own,
whose sandbox runs the submission; nothing of the submission is imported into pytest's
process). The options are the command's, prefixed (`--backprop-config`,
`--backprop-seed`, `checks.cli.options`), and the seed is shown in the header.

Registered as a `pytest11` entry point, so importing it must stay cheap: the grader is
imported inside the hooks, and only when `--submission` is given.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from checks.cli import options
from checks.grader import SUBMISSION_SUFFIXES

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, TerminalRepr
    from _pytest.terminal import TerminalReporter

    from checks.formats import FunctionResult, Report
    from checks.grader.config import Config

__all__ = [
    "SubmissionFile",
    "SubmissionFunction",
    "pytest_addoption",
    "pytest_collect_file",
    "pytest_configure",
    "pytest_pycollect_makemodule",
    "pytest_report_header",
    "pytest_terminal_summary",
]


class _Grading:
    """One submission, graded once (`report`), with the configuration and seed in force."""

    def __init__(
        self,
        path: Path,
        name: str,
        config: Config,
        seed: int,
        seed_from: str,
        isolation: str = "auto",
    ) -> None:
        self.path, self.name, self.config = path, name, config
        self.seed, self.seed_from, self.isolation = seed, seed_from, isolation
        self._report: Report | None = None

    @property
    def graded(self) -> Report | None:
        return self._report

    def report(self) -> Report:
        if self._report is None:
            from checks.grader.batch import Submission, grade_all

            submission = Submission(self.path, self.name, self.path.name)
            graded = grade_all(
                [submission], self.config, seed=self.seed, jobs=1, isolation=self.isolation
            )
            self._report = graded[submission.key]
        return self._report


_GRADING = pytest.StashKey[_Grading]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        options.PLUGIN_GROUP, "backprop-check: grade a submission, one test per function"
    )
    options.add_to_pytest(group, (options.SUBMISSION, *options.SHARED, options.ISOLATION))


def pytest_configure(config: pytest.Config) -> None:
    given = config.getoption(options.SUBMISSION.dest)
    if given is None:
        return
    path = Path(given)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "no such file"
        raise pytest.UsageError(
            f"`--submission` must be a student's .py file or .ipynb notebook, got {what}: "
            f"`{given}` (grade a folder of them with `backprop-check FOLDER`)"
        )
    if path.suffix not in SUBMISSION_SUFFIXES:
        raise pytest.UsageError(
            f"`--submission` must be a .py file or an .ipynb notebook, got `{given}`"
        )
    from checks.grader.config import Config, ConfigError, load_config

    config_file = config.getoption(options.CONFIG.dest)
    try:
        grading_config = load_config(config_file) if config_file else Config()
    except ConfigError as exc:
        raise pytest.UsageError(f"`{options.CONFIG.flag}`: {exc}") from exc
    examples = config.getoption(options.EXAMPLES.dest)
    if examples is not None:
        grading_config = replace(grading_config, examples=examples)
    seed_given = config.getoption(options.SEED.dest)
    seed = options.resolve_seed(seed_given, grading_config.seed)
    seed_from = (
        options.SEED.flag
        if seed_given is not None
        else "the configuration"
        if grading_config.seed is not None
        else "the default"
    )
    isolation = config.getoption(options.ISOLATION.dest) or "auto"
    config.stash[_GRADING] = _Grading(path, given, grading_config, seed, seed_from, isolation)
    _collect_the_submission(config, path)


def _collect_the_submission(config: pytest.Config, path: Path) -> None:
    """Make the submission a path of the run, so that pytest collects it like a file.

    Its tests then have ordinary node ids (`my_backprop.py::relu`), which `-k` and node
    ids on the command line select. Without paths on the command line, the submission is
    the only one: `pytest --submission FILE` runs the submission's tests alone, even
    inside a project with a suite of its own (whose `testpaths` would otherwise be
    collected too); with paths, it is added to them.
    """
    base = config.invocation_params.dir
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(path)]
        return
    named = {(base / arg.split("::", 1)[0]).resolve() for arg in config.args}
    if path.resolve() not in named:
        config.args.append(str(path))


def pytest_report_header(config: pytest.Config) -> list[str]:
    grading = config.stash.get(_GRADING, None)
    if grading is None:
        return []
    settings = config.getoption(options.CONFIG.dest) or "the defaults"
    return [
        f"backprop-check: grading {grading.name} with seed {grading.seed} "
        f"(from {grading.seed_from}), configuration: {settings}"
    ]


def _submission_file(path: Path, parent: pytest.Collector) -> SubmissionFile | None:
    grading = parent.config.stash.get(_GRADING, None)
    if grading is None or path.resolve() != grading.path.resolve():
        return None
    return SubmissionFile.from_parent(parent, path=path, grading=grading)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> Any:
    """The submission, a `.py` file, is never imported by pytest: it is graded instead."""
    return _submission_file(module_path, parent)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> SubmissionFile | None:
    """A notebook submission (a `.py` one comes through `pytest_pycollect_makemodule`)."""
    if file_path.suffix != ".ipynb":
        return None
    return _submission_file(file_path, parent)


def pytest_terminal_summary(
    terminalreporter: TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    grading = config.stash.get(_GRADING, None)
    report = grading.graded if grading is not None else None
    if grading is None or report is None:
        return
    from checks.formats import number, printable

    terminalreporter.write_sep("-", "backprop-check")
    score = f"{number(report['score'])} / {number(report['max_score'])}"
    terminalreporter.write_line(f"{printable(grading.name)}: {score} points (seed {grading.seed})")
    if report.get("error"):
        terminalreporter.write_line(f"grading failed: {printable(str(report['error']))}")


class SubmissionFile(pytest.File):
    """The submission, as pytest shows it: it holds one test per contract function."""

    def __init__(self, *, grading: _Grading, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.grading = grading

    def collect(self) -> list[SubmissionFunction]:
        from backprop import CONTRACT

        return [
            SubmissionFunction.from_parent(self, name=fid, grading=self.grading) for fid in CONTRACT
        ]


class SubmissionFunction(pytest.Item):
    """The test of one contract function of the submission: passes on a `pass` verdict."""

    def __init__(self, *, grading: _Grading, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.grading = grading

    def runtest(self) -> None:
        report = self.grading.report()
        result = report["functions"].get(self.name)
        if result is None:
            raise _Verdict(f"no verdict came back for `{self.name}`")
        self.user_properties += [("verdict", result["verdict"]), ("points", result["points"])]
        if result["verdict"] != "pass":
            raise _Verdict(_failure_text(self.name, result))

    def repr_failure(
        self, excinfo: ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, _Verdict):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.grading.path, None, self.nodeid


class _Verdict(Exception):
    """A verdict other than `pass`; its text is the failure message."""


def _failure_text(name: str, result: FunctionResult) -> str:
    from checks.formats import number, printable

    points = f"{number(result['points'])} / {number(result['max_points'])} points"
    head = f"{result['verdict'].upper()} {name} ({points})"
    if result["diagnosis"]:
        head += ": " + ", ".join(printable(d) for d in result["diagnosis"])
    message = printable(result["message"])
    return head + ("\n\n" + message if message else "")
