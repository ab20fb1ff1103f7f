"""The pytest plugin, run by `pytester`: one test per contract function, the verdict as failure.

The plugin is loaded with ``-p checks.pytest_plugin`` and plugin autoloading off, so the
tests do not depend on how (or whether) the package is installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import checks.grader.batch._run
from backprop import CONTRACT
from checks.cli import main

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).parents[2] / "examples"
PLUGIN = ("-p", "checks.pytest_plugin", "-p", "no:cacheprovider")


@pytest.fixture(autouse=True)
def _no_autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def test_each_function_is_a_test_that_fails_with_the_checkers_verdict(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    submission = pytester.path / "student_4f2a.py"
    shutil.copy(EXAMPLES / "buggy.py", submission)
    result = pytester.runpytest(*PLUGIN, "--submission", str(submission), "-rf")
    capsys.readouterr()  # the inner run's output, already in `result`
    assert main([str(submission), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    failing = [name for name, r in report["functions"].items() if r["verdict"] != "pass"]
    assert len(failing) == 7
    result.assert_outcomes(passed=14 - len(failing), failed=len(failing))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "backprop-check: grading *student_4f2a.py with seed 0 (from the default), "
            "configuration: the defaults",
            "collected 14 items",
            "*_ student_4f2a.py::dL_db _*",
            "FAIL dL_db (0 / 1 points): bias-shape",
            "",
            "`dL_db` is wrong on the smallest case found*",
            "*Reproduce it*",
            "*student_4f2a.py: 7 / 14 points (seed 0)",
        ]
    )
    failed = {r.nodeid.rpartition("::")[2] for r in result.reprec.getreports() if r.failed}  # type: ignore[attr-defined]
    assert failed == set(failing)
    for name in failing:  # the failure text is the checker's message, whole
        assert report["functions"][name]["message"].splitlines()[0] in result.stdout.str()
    # Graded in the grader's processes: the submission never ran in pytest's.
    assert not [
        m for m in list(sys.modules.values()) if "student_4f2a" in str(getattr(m, "__file__", ""))
    ]


def test_a_correct_submission_passes_every_test(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        *PLUGIN, "--submission", str(EXAMPLES / "solution.py"), "--junitxml=junit.xml"
    )
    result.assert_outcomes(passed=14)
    assert result.ret == pytest.ExitCode.OK
    cases = ET.parse(pytester.path / "junit.xml").getroot().iter("testcase")
    properties = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in cases
    }
    assert properties == {name: {"verdict": "pass", "points": "1.0"} for name in CONTRACT}


def test_collects_one_item_per_contract_function_and_k_selects(pytester: pytest.Pytester) -> None:
    solution = pytester.path / "solution.py"
    shutil.copy(EXAMPLES / "solution.py", solution)
    result = pytester.runpytest(*PLUGIN, "--submission", str(solution), "--collect-only", "-q")
    assert [line for line in result.stdout.lines if "::" in line] == [
        f"solution.py::{name}" for name in CONTRACT
    ]
    chosen = pytester.runpytest(
        *PLUGIN, "--submission", str(solution), "--collect-only", "-q", "-k", "dL_db or dL_dW"
    )
    assert [line for line in chosen.stdout.lines if "::" in line] == [
        "solution.py::dL_dW",
        "solution.py::dL_db",
    ]


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        ([], "seed 3 (from the configuration), configuration: *grading.toml"),
        (["--backprop-seed", "5"], "seed 5 (from --backprop-seed), configuration: *grading.toml"),
    ],
    ids=["configuration", "option"],
)
def test_the_header_shows_the_seed_and_where_it_comes_from(
    pytester: pytest.Pytester, options: list[str], shown: str
) -> None:
    config = pytester.makefile(".toml", grading='seed = 3\nloss = "categorical"\n')
    result = pytester.runpytest(
        *PLUGIN,
        "--submission",
        str(EXAMPLES / "solution.py"),
        "--backprop-config",
        str(config),
        *options,
        "--collect-only",
    )
    result.stdout.fnmatch_lines([f"backprop-check: grading *solution.py with {shown}"])


@pytest.mark.parametrize(
    ("argument", "config", "message"),
    [
        ("missing.py", None, "*`--submission` must be a student's .py file*no such file*"),
        (".", None, "*`--submission` must be*got a folder*backprop-check FOLDER*"),
        ("notes.txt", None, "*`--submission` must be a .py file or an .ipynb notebook*"),
        ("solution.py", "loss = 'mse'\n", "*`--backprop-config`*`loss` must be*got 'mse'*"),
    ],
    ids=["missing", "folder", "not python", "bad configuration"],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, argument: str, config: str | None, message: str
) -> None:
    pytester.makefile(".txt", notes="")
    shutil.copy(EXAMPLES / "solution.py", pytester.path / "solution.py")
    extra = []
    if config is not None:
        extra = ["--backprop-config", str(pytester.makefile(".toml", grading=config))]
    result = pytester.runpytest(*PLUGIN, "--submission", argument, *extra)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_without_a_submission_the_plugin_stays_out_of_the_way(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mine="def test_mine():\n    assert True\n")
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1)
    # No header line and no test of its own (pytest may list the installed distribution
    # among its plugins: that line is pytest's, not ours).
    assert "backprop-check: grading" not in result.stdout.str()
    options = pytester.runpytest(*PLUGIN, "--help")
    options.stdout.fnmatch_lines(
        [
            "backprop-check: grade a submission, one test per function:",
            "  --backprop-submission=FILE, --submission=FILE",
            "  --backprop-config=FILE",
            "  --backprop-seed=N*",
        ]
    )


def test_importing_the_plugin_imports_no_grader() -> None:
    code = (
        "import sys, checks.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith("
        # the grader's face is lazy (its names load on first use): nothing below it loads
        "('checks.grader.', 'checks.formats', 'hypothesis', 'numpy'))))"
    )
    imported = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert imported.stdout.strip() == "[]"


def test_graded_once_per_session_and_hostile_text_is_made_inert(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def fake_grade_all(submissions: Any, config: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append([s.key for s in submissions])
        functions = {
            name: {
                "verdict": "pass",
                "points": 1.0,
                "max_points": 1.0,
                "diagnosis": [],
                "message": "",
            }
            for name in CONTRACT
        }
        functions["relu"] = {
            "verdict": "error",
            "points": 0.0,
            "max_points": 2.0,
            "diagnosis": [],
            "message": "boom \x1b[2J\u202eevil",
        }
        report = {
            "submission": "solution.py",
            "score": 13.0,
            "max_score": 15.0,
            "functions": functions,
            "output": "",
        }
        return {submissions[0].key: report}

    monkeypatch.setattr(checks.grader.batch, "grade_all", fake_grade_all)
    result = pytester.runpytest(*PLUGIN, "--submission", str(EXAMPLES / "solution.py"))
    result.assert_outcomes(passed=13, failed=1)
    assert calls == [["solution.py"]]
    result.stdout.fnmatch_lines(["ERROR relu (0 / 2 points)", "", "boom \\x1b[2J\\u202eevil"])
    assert "\x1b[2J" not in result.stdout.str() and "\u202e" not in result.stdout.str()


def test_node_ids_are_the_files_and_select_like_any_test(pytester: pytest.Pytester) -> None:
    solution = pytester.path / "hw.py"
    shutil.copy(EXAMPLES / "solution.py", solution)
    listed = pytester.runpytest(*PLUGIN, "--submission", "hw.py", "--collect-only", "-q")
    ids = [line for line in listed.outlines if "::" in line]
    assert ids == [f"hw.py::{fid}" for fid in CONTRACT]
    # A node id on the command line selects, as for any test file: `hw.py` is graded, never
    # imported by pytest (it is not a test module).
    result = pytester.runpytest(*PLUGIN, "--submission", "hw.py", "hw.py::dL_db", "-q")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest(*PLUGIN, "--submission", "hw.py", "-k", "relu and not mask")
    result.assert_outcomes(passed=1, deselected=13)


def test_inside_a_project_only_the_submissions_tests_run_unless_paths_are_given(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\ntestpaths = tests\n")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_project.py").write_text(
        "def test_project():\n    assert True\n", encoding="utf-8"
    )
    shutil.copy(EXAMPLES / "solution.py", pytester.path / "hw.py")
    alone = pytester.runpytest(*PLUGIN, "--submission", "hw.py", "--collect-only", "-q")
    alone.stdout.fnmatch_lines(["14 tests collected*"])
    both = pytester.runpytest(*PLUGIN, "--submission", "hw.py", "tests", "--collect-only", "-q")
    both.stdout.fnmatch_lines(["15 tests collected*"])


def test_examples_is_the_commands_option_and_sets_the_test_points(
    pytester: pytest.Pytester,
) -> None:
    import checks.pytest_plugin as plugin

    shutil.copy(EXAMPLES / "solution.py", pytester.path / "hw.py")
    config = pytester.parseconfigure(*PLUGIN, "--submission", "hw.py", "--backprop-examples", "2")
    assert config.stash[plugin._GRADING].config.examples == 2
    result = pytester.runpytest(*PLUGIN, "--submission", "hw.py", "--backprop-examples", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--backprop-examples*must be an integer ≥ 1*"])


def test_the_isolation_can_be_chosen_and_a_wrong_one_is_refused(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    grade_all = checks.grader.batch._run.grade_all

    def spy(*args: Any, **options: Any) -> Any:
        seen.append(options["isolation"])
        return grade_all(*args, **options)

    monkeypatch.setattr(checks.grader.batch, "grade_all", spy)
    solution = str(EXAMPLES / "solution.py")
    result = pytester.runpytest_inprocess(
        *PLUGIN, "--submission", solution, "--backprop-isolation", "none", "-k", "relu"
    )
    assert result.ret == pytest.ExitCode.OK and seen == ["none"]
    wrong = pytester.runpytest_inprocess(
        *PLUGIN, "--submission", solution, "--backprop-isolation", "chroot"
    )
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    assert "the isolation is auto or none, got `chroot`" in wrong.stderr.str()
