"""The command as a user meets it: `--help`, exit statuses, usage errors, clean stdout."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from checks.cli import _main
from checks.cli._main import build_parser, main
from tests.cli._class import HOSTILE

HELP = """\
usage: backprop-check [-h] [--version] COMMAND ...

Check the backpropagation formulas of the course's notes, and grade students'
implementations of them against the submission contract (docs/contract.md).

options:
  -h, --help          show this help message and exit
  --version           print the version

commands:
  COMMAND
    grade             grade a submission (.py, .ipynb) or a folder of them (a
                      class)
    errata            check every formula of the notes as written: which hold,
                      which are errata
    classroom-workflow
                      print the GitHub Classroom workflow, its points from the
                      configuration's [points]

`backprop-check` alone is `backprop-check errata`; `backprop-check FILE ...` is
`backprop-check grade FILE ...`. `backprop-check COMMAND --help` lists a
command's options.

exit status:
  0    every graded function of every submission passes
  1    some function of some submission does not pass
  2    usage or configuration error (an unknown option, no such file, a bad
       configuration, an output folder that cannot be used): nothing was graded
  3    no sandbox can be made on this machine (the message says how to get one):
       nothing was run
  130  interrupted (with --output, the reports graded so far are kept)
  (errata: 0 when the verdicts agree with the catalog of errata, 1 when not)
"""

GRADE_HELP = """\
usage: backprop-check grade [-h] [--config FILE] [--seed N]
                            [--format {csv,gradescope,html,json,junit,markdown,text}]
                            [--examples N] [--title TITLE] [--isolation MODE]
                            [--file NAME] [--roster CSV]
                            [--lms {canvas,gradescope,moodle}] [--jobs N]
                            [--output DIR] [--resume]
                            submission

Grade a submission against the submission contract (docs/contract.md): a
verdict and points per function. A folder of submissions is a class, graded
several at once.

positional arguments:
  submission            a student's .py file, .ipynb notebook, or a folder of
                        them

options:
  -h, --help            show this help message and exit
  --config FILE, --backprop-config FILE
                        the grading configuration (TOML)
  --seed N, --backprop-seed N
                        the seed of every random choice (default: the
                        configuration's, else 0)
  --format {csv,gradescope,html,json,junit,markdown,text}
                        the report's format (default: text)
  --examples N, --backprop-examples N
                        random test points per function (default: the
                        configuration's `examples`, else 12)
  --title TITLE         the HTML report's title (default: `backprop-check:
                        class report`)
  --isolation MODE, --backprop-isolation MODE
                        auto (default): run the submission in a bubblewrap
                        sandbox, or refuse when none can be made; none:
                        WITHOUT isolation, as you, for your own code only

grading a folder (a class):
  --file NAME           in each student folder, grade the file NAME (e.g.
                        backprop_hw.py), whatever else the folder holds
                        (default: its one .py or .ipynb file)
  --roster CSV          the class list (columns student_id, name, email,
                        submission): the csv format is then one row per
                        student (with --output: DIR/gradebook.csv too)
  --lms {canvas,gradescope,moodle}
                        with --roster: the gradebook's columns for that LMS's
                        grade import
  --jobs N, -j N        grade N submissions at once (default: the machine's
                        cores)
  --output DIR, -o DIR  write each submission's JSON report to DIR/reports/ as
                        soon as it is graded, then DIR/summary.json and the
                        chosen format's file (grades.csv, report.html, ...);
                        stdout then gets the class summary only (as JSON with
                        --format json)
  --resume              with --output: grade only the submissions without a
                        report in DIR, then write the output of all of them

exit status:
  0    every graded function of every submission passes
  1    some function of some submission does not pass
  2    usage or configuration error (an unknown option, no such file, a bad
       configuration, an output folder that cannot be used): nothing was graded
  3    no sandbox can be made on this machine (the message says how to get one):
       nothing was run
  130  interrupted (with --output, the reports graded so far are kept)
"""


@pytest.mark.skipif(
    sys.version_info >= (3, 13), reason="argparse lays out options differently from 3.13 on"
)
@pytest.mark.parametrize(
    ("argv", "expected"), [(["--help"], HELP), (["grade", "--help"], GRADE_HELP)]
)
def test_help_is_pinned(
    argv: list[str],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert main(argv) == 0
    assert capsys.readouterr().out == expected


def test_help_documents_the_exit_statuses_of_each_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (["--help"], ["grade", "--help"], ["errata", "--help"]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "exit status:" in out
        for status in ("0", "1", "2"):
            assert f"\n  {status}    " in out, (argv, status)


def test_version_is_the_installed_packages(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"backprop-check {version('backprop-check')}\n"


@pytest.mark.parametrize(("name", "status"), [("solution.py", 0), ("buggy.py", 1)])
def test_exit_status_is_0_only_when_every_function_passes(
    examples: Path, name: str, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(examples / name), "--format", "json"]) == status
    (report,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    verdicts = {r["verdict"] for r in report["functions"].values()}
    assert (verdicts == {"pass"}) == (status == 0)


def test_json_output_is_json_only_whatever_the_submissions_print(
    examples: Path, fast_config: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    talker = HOSTILE["output-flood"] + (
        "\nimport os\nos.write(1, b'{not json\\n')\nos.write(2, b'noise\\n')\n"
    )
    (examples / "talker.py").write_text(talker, encoding="utf-8")
    assert main([str(examples), "--format", "json", "--config", str(fast_config)]) == 1
    lines = capfd.readouterr().out.splitlines()
    reports = [json.loads(line) for line in lines]  # every line is JSON
    assert [Path(r["submission"]).name for r in reports] == ["buggy.py", "solution.py", "talker.py"]
    assert "x" * 1000 in reports[2]["output"]  # what it printed is in its report, capped


def _usage(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    folder, empty, two = tmp_path / "class", tmp_path / "empty", tmp_path / "two"
    for path in (folder, empty, two / "student"):
        path.mkdir(parents=True)
    for name in ("a.py", "b.py"):
        shutil.copy(Path(__file__).parents[2] / "examples" / "solution.py", folder / name)
        (two / "student" / name).write_text("", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("", encoding="utf-8")
    (tmp_path / "bad.toml").write_text("loss = 'mse'\n", encoding="utf-8")
    return {
        "no such path": ([str(tmp_path / "nope.py")], "no such file or folder"),
        "not python": ([str(tmp_path / "notes.txt")], "a .py file or an .ipynb notebook"),
        "empty folder": ([str(empty)], "no .py or .ipynb submission"),
        "resume without output": ([str(folder), "--resume"], "`--resume` needs `--output DIR`"),
        "gradescope of a class": ([str(folder), "--format", "gradescope"], "exactly one"),
        "bad configuration": ([str(folder), "--config", str(tmp_path / "bad.toml")], "`loss`"),
        "missing configuration": ([str(folder), "--config", str(tmp_path / "no.toml")], "no.toml"),
        "jobs 0": ([str(folder), "--jobs", "0"], "--jobs"),
        "jobs not a number": ([str(folder), "--jobs", "many"], "--jobs"),
        "examples 0": (["grade", str(folder), "--examples", "0"], "--examples"),
        "seed not a number": ([str(folder), "--seed", "x"], "a seed is an integer"),
        "unknown command or option": (["grade", str(folder), "--colour"], "--colour"),
        "jobs without a submission": (["--jobs", "2"], "--jobs"),
        "output without a submission": (["--output", str(tmp_path / "o")], "--output"),
        "resume without a submission": (["--resume"], "--resume"),
        "a grading format for the errata": (["errata", "--format", "csv"], "--format"),
        "grade without a submission": (["grade"], "submission"),
        "errata examples 0": (["--examples", "0"], "`--examples` must be at least 1"),
        "lms without a roster": ([str(folder), "--lms", "canvas"], "`--lms` needs `--roster"),
        "roster for html on stdout": (
            [str(folder), "--roster", str(tmp_path / "notes.txt"), "--format", "html"],
            "add `--output DIR`",
        ),
        "roster without its columns": (
            [str(folder), "--roster", str(tmp_path / "notes.txt"), "--format", "csv"],
            "no column `student_id`",
        ),
        "roster missing": (
            [str(folder), "--roster", str(tmp_path / "no.csv"), "--format", "csv"],
            "cannot read the roster",
        ),
    }


_CASES = [
    "no such path",
    "not python",
    "empty folder",
    "resume without output",
    "gradescope of a class",
    "bad configuration",
    "missing configuration",
    "jobs 0",
    "jobs not a number",
    "examples 0",
    "seed not a number",
    "unknown command or option",
    "jobs without a submission",
    "output without a submission",
    "resume without a submission",
    "a grading format for the errata",
    "grade without a submission",
    "errata examples 0",
    "lms without a roster",
    "roster for html on stdout",
    "roster without its columns",
    "roster missing",
]


@pytest.mark.parametrize("case", _CASES)
def test_usage_errors_are_status_2_with_one_line_saying_what_is_wrong(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = _usage(tmp_path)
    assert sorted(cases) == sorted(_CASES)
    argv, expected = cases[case]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    first = err.splitlines()[0]
    assert first.startswith("backprop-check") and ": error: " in first
    assert expected in first
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        ([], "errata"),
        (["--seed", "3", "--format", "json"], "errata"),
        (["--examples", "5"], "errata"),
        (["x.py"], "grade"),
        (["--seed", "3", "x.py", "--format", "json"], "grade"),
        (["--config", "c.toml", "x.py"], "grade"),
        (["--", "-x.py"], "grade"),
        (["grade", "x.py"], "grade"),
        (["errata"], "errata"),
    ],
)
def test_the_bare_forms_of_earlier_versions_choose_their_command(
    argv: list[str], command: str
) -> None:
    parser = build_parser()
    explicit, implied = _main._with_command(argv, parser)
    assert explicit[0] == command
    assert implied == (not argv or argv[0] not in ("grade", "errata"))


def test_an_option_is_accepted_only_by_the_command_it_means_something_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser()
    grade = {f for a in parser.commands["grade"]._actions for f in a.option_strings}
    errata = {f for a in parser.commands["errata"]._actions for f in a.option_strings}
    assert {"--jobs", "--output", "--resume", "--config", "--title"} <= grade - errata
    assert {"--examples", "--seed", "--format"} <= grade & errata
    assert main(["--jobs", "2"]) == 2
    assert "`backprop-check` without a submission is `backprop-check errata`" in (
        capsys.readouterr().err
    )


def test_examples_sets_the_test_points_of_grading(
    examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["grade", str(examples / "solution.py"), "--examples", "2", "-o", str(out)]) == 0
    assert json.loads((out / "batch.json").read_text(encoding="utf-8"))["config"]["examples"] == 2
    capsys.readouterr()


def test_output_files_follow_the_umask(
    examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        assert main([str(examples / "solution.py"), "--examples", "1", "-o", str(out)]) == 0
    finally:
        os.umask(old)
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o644}
    capsys.readouterr()


@pytest.mark.parametrize(
    ("tty", "no_color", "wanted"),
    [(True, None, True), (True, "1", False), (False, None, False), (True, "", True)],
)
def test_color_only_on_a_terminal_and_never_under_NO_COLOR(
    tty: bool, no_color: str | None, wanted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from checks.cli._grade import color_wanted

    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    stream = io.StringIO()
    monkeypatch.setattr(stream, "isatty", lambda: tty)
    assert color_wanted(stream) is wanted


def test_the_shared_options_take_the_plugins_spelling_too() -> None:
    grade = build_parser().commands["grade"]
    short = grade.parse_args(["x.py", "--seed", "3", "--config", "c.toml", "--examples", "4"])
    prefixed = grade.parse_args(
        ["x.py", "--backprop-seed", "3", "--backprop-config", "c.toml", "--backprop-examples", "4"]
    )
    assert (short.seed, short.config, short.examples) == (3, "c.toml", 4)
    assert (prefixed.seed, prefixed.config, prefixed.examples) == (3, "c.toml", 4)


def test_the_parser_offers_exactly_the_formats_the_grader_writes() -> None:
    # checks.cli names them without importing the grader (kept out of start-up): the
    # names, the writers and the output files must not drift apart.
    from checks import formats
    from checks.cli import _grade as _cli_grade

    assert set(_main.FORMATS) == set(_cli_grade.FILES)
    for form in _main.FORMATS:
        assert hasattr(formats, "to_" + form)


def test_a_student_folder_without_the_file_to_grade_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "class"
    for student in ("ada", "bob"):
        (folder / student).mkdir(parents=True)
        (folder / student / "README.md").write_text("# hw\n", encoding="utf-8")
    shutil.copy(Path(__file__).parents[2] / "examples" / "solution.py", folder / "ada" / "hw.py")
    (folder / "bob" / "other.py").write_text("x = 1\n", encoding="utf-8")
    argv = ["grade", str(folder), "--file", "hw.py", "--examples", "1", "--format", "json"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["submission"] for line in out.splitlines()] == [str(folder / "ada")]
    assert "1 folder(s) in" in err and "hold no submission to grade" in err and ": bob" in err
