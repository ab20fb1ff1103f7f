"""The command as a user meets it: `--help`, exit statuses, usage errors, clean stdout."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from checks.cli._main import build_parser, main
from tests.cli._class import HOSTILE

HELP = """\
usage: backprop-check [-h] [--seed N]
                      [--format {csv,gradescope,html,json,junit,markdown,text}]
                      [--config FILE] [--jobs N] [--output DIR] [--resume]
                      [--isolation {auto,none}] [--examples N]
                      [submission]

Check the backpropagation formulas of the course's notes. With no SUBMISSION,
check every formula as the notes write it and report which are errata (exit
status 1 when the computed verdicts disagree with the catalog of errata). With
a SUBMISSION, grade it against the submission contract (exit status 0 only
when every function passes); a folder of submissions is a class, graded in
parallel.

positional arguments:
  submission            a student's .py file, .ipynb notebook, or a folder of
                        them

options:
  -h, --help            show this help message and exit
  --seed N, --backprop-seed N
                        the seed of every random choice (default: the
                        configuration's, else 0)
  --format {csv,gradescope,html,json,junit,markdown,text}
                        the report's format (default: text); the errata report
                        takes text or json
  --config FILE, --backprop-config FILE
                        the grading configuration (TOML)
  --isolation {auto,none}
                        how submissions run: auto (default) in a bubblewrap
                        sandbox, or refuse with exit status 3 when none can be
                        made; none runs them WITHOUT isolation, as you, for
                        checking your own code only
  --examples N          test points per formula before it is said to hold
                        (default: 60)

grading a folder (a class):
  --jobs N, -j N        grade N submissions at once (default: the machine's
                        cores)
  --output DIR, -o DIR  write each submission's JSON report to DIR/reports/ as
                        soon as it is graded, then DIR/summary.json and the
                        chosen format's file (grades.csv, report.html, ...);
                        stdout then gets the class summary only (as JSON with
                        --format json)
  --resume              with --output: grade only the submissions without a
                        report in DIR, then write the output of all of them
"""


@pytest.mark.skipif(
    sys.version_info >= (3, 13), reason="argparse lays out options differently from 3.13 on"
)
def test_help_is_pinned(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == HELP


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


def _usage(tmp_path: Path) -> dict[str, tuple[list[str], int | str]]:
    folder, empty, two = tmp_path / "class", tmp_path / "empty", tmp_path / "two"
    for path in (folder, empty, two / "student"):
        path.mkdir(parents=True)
    for name in ("a.py", "b.py"):
        shutil.copy(Path(__file__).parents[2] / "examples" / "solution.py", folder / name)
        (two / "student" / name).write_text("", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("", encoding="utf-8")
    return {
        "no such path": ([str(tmp_path / "nope.py")], "no such file or folder"),
        "not python": ([str(tmp_path / "notes.txt")], "a .py file or an .ipynb notebook"),
        "empty folder": ([str(empty)], "no .py or .ipynb submission"),
        "resume without output": ([str(folder), "--resume"], "`--resume` needs `--output DIR`"),
        "gradescope of a class": ([str(folder), "--format", "gradescope"], "exactly one"),
        "jobs 0": ([str(folder), "--jobs", "0"], 2),
        "jobs not a number": ([str(folder), "--jobs", "many"], 2),
        "seed not a number": ([str(folder), "--seed", "x"], 2),
        "jobs without a submission": (["--jobs", "2"], 2),
        "output without a submission": (["--output", str(tmp_path / "o")], 2),
        "resume without a submission": (["--resume"], 2),
    }


@pytest.mark.parametrize(
    "case",
    [
        "no such path",
        "not python",
        "empty folder",
        "resume without output",
        "gradescope of a class",
        "jobs 0",
        "jobs not a number",
        "seed not a number",
        "jobs without a submission",
        "output without a submission",
        "resume without a submission",
    ],
)
def test_usage_errors_say_what_is_wrong(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, expected = _usage(tmp_path)[case]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    if isinstance(expected, int):  # argparse's own: status 2, the message on stderr
        assert exit_.value.code == expected
        assert "backprop-check: error:" in capsys.readouterr().err
    else:
        assert expected in str(exit_.value.code)
    assert capsys.readouterr().out == ""


def test_the_shared_options_take_the_plugins_spelling_too() -> None:
    parser = build_parser()
    short = parser.parse_args(["x.py", "--seed", "3", "--config", "c.toml"])
    prefixed = parser.parse_args(["x.py", "--backprop-seed", "3", "--backprop-config", "c.toml"])
    assert (short.seed, short.config) == (prefixed.seed, prefixed.config) == (3, "c.toml")


def test_the_parser_offers_exactly_the_formats_the_grader_writes() -> None:
    # checks.cli names them without importing the grader (kept out of start-up): the two
    # lists must not drift apart.
    from checks.cli import _grade as _cli_grade
    from checks.cli import _main as cli

    assert set(cli.FORMATS) == set(_cli_grade.FORMATS) == set(_cli_grade.FILES)
