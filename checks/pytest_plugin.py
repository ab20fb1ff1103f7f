"""The pytest plugin: `pytest --submission FILE`, one test per contract function.

Each test fails with the checker's verdict and feedback as its failure message. The
submission is graded once per session, on the first test that runs, exactly as
``backprop-check FILE`` grades it (`checks.grader.batch`: in a grading process of its own,
whose sandbox runs the submission; nothing of the submission is imported into pytest's
process). The options are the command's, prefixed (`--backprop-config`,
`--backprop-seed`, `checks.cli._options`), and the seed is shown in the header.

Registered as a `pytest11` entry point, so importing it must stay cheap: the grader is
imported inside the hooks, and only when `--submission` is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from checks.cli import _options

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, TerminalRepr
    from _pytest.terminal import TerminalReporter

    from checks.formats import FunctionResult, Report
    from checks.grader.config import Config

__all__ = [
    "SubmissionFile",
    "SubmissionFunction",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
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
        _options.PLUGIN_GROUP, "backprop-check: grade a submission, one test per function"
    )
    _options.add_to_pytest(group, (_options.SUBMISSION, *_options.SHARED, _options.ISOLATION))


def pytest_configure(config: pytest.Config) -> None:
    given = config.getoption(_options.SUBMISSION.dest)
    if given is None:
        return
    path = Path(given)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "no such file"
        raise pytest.UsageError(
            f"`--submission` must be a student's .py file or .ipynb notebook, got {what}: "
            f"`{given}` (grade a folder of them with `backprop-check FOLDER`)"
        )
    if path.suffix not in (".py", ".ipynb"):
        raise pytest.UsageError(
            f"`--submission` must be a .py file or an .ipynb notebook, got `{given}`"
        )
    from checks.grader.config import Config, ConfigError, load_config

    config_file = config.getoption(_options.CONFIG.dest)
    try:
        grading_config = load_config(config_file) if config_file else Config()
    except ConfigError as exc:
        raise pytest.UsageError(f"`{_options.CONFIG.flag}`: {exc}") from exc
    seed_given = config.getoption(_options.SEED.dest)
    seed = _options.resolve_seed(seed_given, grading_config.seed)
    seed_from = (
        _options.SEED.flag
        if seed_given is not None
        else "the configuration"
        if grading_config.seed is not None
        else "the default"
    )
    isolation = config.getoption(_options.ISOLATION.dest) or "auto"
    config.stash[_GRADING] = _Grading(path, given, grading_config, seed, seed_from, isolation)


def pytest_report_header(config: pytest.Config) -> list[str]:
    grading = config.stash.get(_GRADING, None)
    if grading is None:
        return []
    settings = config.getoption(_options.CONFIG.dest) or "the defaults"
    return [
        f"backprop-check: grading {grading.name} with seed {grading.seed} "
        f"(from {grading.seed_from}), configuration: {settings}"
    ]


@pytest.hookimpl(tryfirst=True)  # before `-k` and `-m` deselect, so that they apply
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    grading = config.stash.get(_GRADING, None)
    if grading is None:
        return
    submission = SubmissionFile.from_parent(session, path=grading.path, grading=grading)
    functions = submission.collect()
    collected: list[pytest.Item | pytest.Collector] = list(functions)
    # Reported like any collection, so that "collected N items" and --collect-only count them.
    config.hook.pytest_collectreport(
        report=pytest.CollectReport(submission.nodeid, "passed", None, collected)
    )
    items.extend(functions)


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
