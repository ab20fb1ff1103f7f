"""Grading a class: parallel and deterministic, reports kept as they come, resumable, guarded."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import checks.grader.batch._run
import checks.grader.judge
from checks.cli import main
from checks.formats import summarize, to_csv
from tests.cli._class import SOLUTION

REPO = Path(__file__).parents[2]


def _reports(folder: Path) -> dict[str, Any]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}


# Grading the examples costs seconds (buggy.py's failures are shrunk and diagnosed), and
# several tests start from the same grading: it is done once per module, in a folder of
# its own that no test writes to, and each test that goes on from it works on a copy.


@dataclass(frozen=True)
class _Run:
    status: int
    out: str
    err: str


def _main(argv: list[str]) -> _Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return _Run(status, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def shared_examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two examples, for the module's tests that only read them."""
    folder = tmp_path_factory.mktemp("shared") / "examples"
    folder.mkdir()
    for name in ("buggy.py", "solution.py"):
        shutil.copy(REPO / "examples" / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def as_json_one_job(shared_examples: Path) -> _Run:
    """`shared_examples` graded with `--format json --jobs 1`."""
    return _main([str(shared_examples), "--format", "json", "--jobs", "1"])


@pytest.fixture(scope="module")
def into_output(shared_examples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`shared_examples` graded with `--format csv --output OUT`: OUT, with `printed.txt`.

    Tests copy OUT (timestamps kept) before they grade into it again.
    """
    out = tmp_path_factory.mktemp("graded") / "out"
    run = _main([str(shared_examples), "--format", "csv", "--output", str(out)])
    assert run.status == 1, run.err
    (out.parent / "printed.txt").write_text(run.out, encoding="utf-8")
    return out


def _copy(out: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(out, tmp_path / "out"))  # copy2: modification times kept


def test_reports_do_not_depend_on_jobs(
    shared_examples: Path, as_json_one_job: _Run, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = shared_examples
    assert as_json_one_job.status == 1
    assert main([str(examples), "--format", "json", "--jobs", "2"]) == 1
    outputs = [as_json_one_job.out, capsys.readouterr().out]
    assert outputs[0] == outputs[1]  # byte for byte
    names = [json.loads(line)["submission"] for line in outputs[1].splitlines()]
    assert names == sorted(names) == [str(examples / "buggy.py"), str(examples / "solution.py")]


def test_output_holds_each_report_the_summary_and_the_format(
    shared_examples: Path, into_output: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = shared_examples
    printed = (into_output.parent / "printed.txt").read_text(encoding="utf-8")
    assert str(into_output / "grades.csv") in printed
    out = _copy(into_output, tmp_path)
    reports = _reports(out / "reports")
    assert sorted(reports) == ["buggy.py.json", "solution.py.json"]
    in_order = [reports["buggy.py.json"], reports["solution.py.json"]]
    assert reports["solution.py.json"]["score"] == 14.0
    assert json.loads((out / "summary.json").read_text(encoding="utf-8")) == summarize(in_order)
    assert (out / "grades.csv").read_bytes().decode() == to_csv(in_order)
    assert "per function: pass rate" in printed
    assert not list(out.rglob("*.part"))
    # With --format json, stdout stays JSON: the summary.
    assert main([str(examples), "--format", "json", "--output", str(out)]) == 1
    assert json.loads(capsys.readouterr().out) == summarize(in_order)
    assert _reports(out / "reports") == reports


def _count_gradings(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Log each submission graded (in the grading process, which inherits the patch)."""
    grade = checks.grader.batch._run.grade_guarded

    def logged(path: Path, config: Any, *, seed: int, name: str, **options: Any) -> Any:
        with log.open("a", encoding="utf-8") as stream:
            stream.write(Path(name).name + "\n")
        return grade(path, config, seed=seed, name=name, **options)

    monkeypatch.setattr(checks.grader.batch._run, "grade_guarded", logged)


def test_resume_grades_only_the_submissions_without_a_report(
    shared_examples: Path,
    into_output: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out, log = _copy(into_output, tmp_path), tmp_path / "graded.log"
    argv = [str(shared_examples), "--format", "csv", "--output", str(out)]
    first = _reports(out / "reports")
    kept = (out / "reports" / "buggy.py.json").stat().st_mtime_ns
    (out / "reports" / "solution.py.json").unlink()
    _count_gradings(monkeypatch, log)
    assert main([*argv, "--resume"]) == 1
    assert log.read_text(encoding="utf-8").split() == ["solution.py"]
    assert (out / "reports" / "buggy.py.json").stat().st_mtime_ns == kept
    assert _reports(out / "reports") == first
    assert (out / "grades.csv").read_text(encoding="utf-8").count("\n") == 3
    # Nothing missing: nothing graded, the output written again from the reports; a
    # report of a submission no longer in the folder is left out, and said so.
    log.unlink()
    (out / "reports" / "gone.py.json").write_bytes((out / "reports" / "buggy.py.json").read_bytes())
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 1
    assert not log.exists()
    assert "1 report(s)" in capsys.readouterr().err
    assert (out / "grades.csv").read_text(encoding="utf-8").count("\n") == 3


def test_resume_refuses_reports_of_another_seed(
    examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main([str(examples / "solution.py"), "--output", str(out)]) == 0
    capsys.readouterr()
    argv = [str(examples / "solution.py"), "--output", str(out), "--resume", "--seed", "1"]
    assert main(argv) == 2  # a refused --resume is a usage error
    assert "graded with another seed" in capsys.readouterr().err


def test_an_output_folder_of_someone_else_is_never_emptied(
    examples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = tmp_path / "theirs" / "reports" / "precious.json"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("{}", encoding="utf-8")
    assert main([str(examples), "--output", str(tmp_path / "theirs")]) == 2
    assert "did not write them" in capsys.readouterr().err
    assert theirs.read_text(encoding="utf-8") == "{}"


def _break_grading(monkeypatch: pytest.MonkeyPatch, how: Callable[[], None]) -> None:
    """Grading `buggy.py` does `how()`; the others are graded as usual."""
    grade = checks.grader.judge.grade_submission

    def broken(path: Any, config: Any, **kwargs: Any) -> Any:
        if Path(path).name == "buggy.py":
            how()
        return grade(path, config, **kwargs)

    monkeypatch.setattr(checks.grader.judge, "grade_submission", broken)


def _raise() -> None:
    raise RuntimeError("the checker tripped")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize(
    ("how", "why"),
    [
        (_raise, "RuntimeError: the checker tripped"),
        (_die, "the grading process ended without a report (killed by SIGKILL)"),
    ],
    ids=["exception", "killed"],
)
def test_a_grading_that_breaks_is_that_submissions_error_only(
    examples: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    how: Callable[[], None],
    why: str,
) -> None:
    _break_grading(monkeypatch, how)
    assert main([str(examples), "--format", "json", "--jobs", "2"]) == 1
    captured = capfd.readouterr()
    broken, fine = (json.loads(line) for line in captured.out.splitlines())
    assert broken["error"] == why
    assert broken["score"] == 0.0 and broken["max_score"] == 14.0
    assert {r["verdict"] for r in broken["functions"].values()} == {"error"}
    assert fine["score"] == 14.0 and "error" not in fine
    if how is _raise:  # the traceback is for whoever runs the checker
        assert "RuntimeError: the checker tripped" in captured.err


def test_a_grading_that_never_ends_is_stopped(
    examples: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "quick.toml"
    config.write_text("[limits]\ntotal_timeout = 0.25\n", encoding="utf-8")
    monkeypatch.setattr(checks.grader.batch._run, "_GRACE_SECONDS", 0.5)  # guard: 2 × 0.25 + 0.5 s
    _break_grading(monkeypatch, lambda: time.sleep(60))
    started = time.monotonic()
    assert main([str(examples / "buggy.py"), "--format", "json", "--config", str(config)]) == 1
    assert time.monotonic() - started < 15
    report = json.loads(capsys.readouterr().out)
    assert report["error"] == "grading did not end within 1 s; it was stopped"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_only(
    examples: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main([str(examples), "--format", "csv"]) == 1
    assert capfd.readouterr().err == ""  # not a terminal: quiet
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main([str(examples), "--format", "csv"]) == 1
    shown = terminal.getvalue()
    assert "\r\x1b[K[" in shown and "] 2/2 " in shown and shown.endswith("\r\x1b[K")
    assert capfd.readouterr().out.startswith("submission,score,max_score")


def test_a_batch_killed_midway_loses_nothing_after_resume(
    small_class: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the runs' reports are compared byte for byte: no call may be near its time limit,
    # or a loaded machine (the suite on every core) turns the memory bomb's error into a
    # timeout in one run only; it exhausts its 512 MiB in well under a second
    config = tmp_path / "roomy.toml"
    config.write_text(
        "[limits]\ncall_timeout = 15.0\ntotal_timeout = 120.0\nmemory_mb = 512\n",
        encoding="utf-8",
    )
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    common = [str(small_class), "--config", str(config), "--format", "csv"]
    assert main([*common, "--output", str(clean), "--jobs", "2"]) == 1
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    batch = subprocess.Popen(
        [sys.executable, "-m", "checks", *common, "--output", str(killed), "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while len(list((killed / "reports").glob("*.json"))) < 2:
            assert batch.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        os.killpg(batch.pid, signal.SIGKILL)  # the batch and its grading processes
        batch.wait()
    assert 2 <= len(list((killed / "reports").glob("*.json"))) < 7
    assert main([*common, "--output", str(killed), "--resume", "--jobs", "1"]) == 1
    expected = _reports(clean / "reports")
    assert sorted(expected) == [
        "ada.py.json",
        "bob.json",
        "cy.py.json",
        "dee.py.json",
        "eve.py.json",
        "fay.py.json",
        "gus.py.json",
    ]
    assert _reports(killed / "reports") == expected
    assert sorted(p.name for p in (killed / "reports").iterdir()) == sorted(expected)
    assert (killed / "grades.csv").read_bytes() == (clean / "grades.csv").read_bytes()
    capsys.readouterr()


def test_a_process_with_threads_grades_through_a_fork_server(
    shared_examples: Path, as_json_one_job: _Run, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = shared_examples
    assert as_json_one_job.status == 1
    forked = as_json_one_job.out  # graded before this test started a thread
    stop = threading.Event()
    waiter = threading.Thread(target=stop.wait)
    waiter.start()  # forking a threaded process is unsafe: the batch must not
    try:
        assert checks.grader.batch._run._context().get_start_method() == "forkserver"
        assert main([str(examples), "--format", "json"]) == 1
    finally:
        stop.set()
        waiter.join()
    served = capsys.readouterr().out
    assert _by_name(served) == _by_name(forked)


def _by_name(jsonl: str) -> dict[str, Any]:
    return {r["submission"]: r for r in map(json.loads, jsonl.splitlines())}


def test_ctrl_c_stops_a_batch_cleanly_and_says_how_to_resume(
    small_class: Path, fast_config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    batch = subprocess.Popen(
        [sys.executable, "-m", "checks", str(small_class), "--output", str(out), "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not list((out / "reports").glob("*.json")):
        assert batch.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(batch.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    stdout, stderr = batch.communicate(timeout=60)
    assert batch.returncode == 130
    assert stdout == ""
    assert stderr.endswith("backprop-check: run it again with --resume to finish\n")
    assert "Traceback" not in stderr
    assert 1 <= len(list((out / "reports").glob("*.json"))) < 7
    assert not list(out.rglob("*.part"))


def test_hostile_inputs_in_a_class_folder_cost_only_their_own_submission(
    tmp_path: Path, fast_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each is that student's `error`, with the reason; the class goes on, Bob keeps his
    # marks, and `--resume` finds every report again.
    folder = tmp_path / "class"
    for student in ("alice", "bob", "carol"):
        (folder / student).mkdir(parents=True)
    (folder / "bob" / "hw.py").write_text(SOLUTION, encoding="utf-8")
    (folder / "alice" / "hw.py").symlink_to("../bob/hw.py")  # Bob's marks, not hers
    (folder / "carol" / "a.py").write_text(SOLUTION, encoding="utf-8")
    (folder / "carol" / "b.py").write_text(SOLUTION, encoding="utf-8")
    (folder / "dave.py").symlink_to("/etc/shadow")
    os.mkfifo(folder / "eve.py")  # opened plainly, it would block the checker
    long = "x" * 251 + ".py"  # 254 bytes: `.json` does not fit in a file name
    (folder / long).write_text(SOLUTION, encoding="utf-8")
    out = tmp_path / "out"
    argv = [str(folder), "--config", str(fast_config), "--output", str(out), "--format", "json"]
    for again in ([], ["--resume"]):
        assert main([*argv, *again]) == 1
        capsys.readouterr()
        reports = {
            Path(r["submission"]).name: r
            for r in map(json.loads, (out / "reports.jsonl").read_text().splitlines())
        }
        assert set(reports) == {"alice", "bob", "carol", "dave.py", "eve.py", long}
        assert reports["bob"]["score"] == reports[long]["score"] == reports["bob"]["max_score"]
        for name, why in [
            ("alice", "is a symbolic link"),
            ("carol", "is a folder holding 2 submissions (a.py, b.py)"),
            ("dave.py", "is a symbolic link"),
            ("eve.py", "is not a regular file"),
        ]:
            report = reports[name]
            assert report["score"] == 0 and "error" not in report, name
            assert all(r["verdict"] == "error" for r in report["functions"].values())
            assert why in report["functions"]["relu"]["message"], name
            assert "root:" not in json.dumps(report)  # nothing of /etc/shadow
