"""Every command of the README and docs/, run exactly as written.

The commands are the lines of the pages' fenced `sh` blocks. Each is run with bash in a
workspace that holds what the docs assume (the examples, a student's file, a class
folder, a GitHub Classroom-shaped folder, a roster, a grading configuration), with this
environment's `python` and `backprop-check` first on the PATH. A command that cannot
run here is listed in `ELSEWHERE` with the reason, and where it is run instead; the test
fails on a command that is neither run nor listed, so a new command in the docs is
either tested or its exemption written down.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs._commands import sh_blocks
from tests.docs._files import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

ELSEWHERE = {
    "python -m pip install . && backprop-check": (
        "installs into the environment: .ci/run runs the README's quick start, both lines, "
        "in a fresh virtual environment"
    ),
    "python -m pip install '.[test]' && python -m pytest -n auto": (
        "the suite itself: run by .ci/run"
    ),
    "python -m pip install build": (
        "installs into the environment (build is a test dependency, so it is there)"
    ),
    "python -m build --wheel": "tests/docs/test_install.py, in a copy of the clone",
    "python -m pip install backprop_check-0.1.0-py3-none-any.whl": (
        "tests/docs/test_install.py, in a fresh virtual environment"
    ),
    'python -m pip install "backprop-check @ git+https://github.com/YOUR-COURSE/backprop-check@v0.1.0"': (  # noqa: E501
        "needs the network and the course's real repository"
    ),
    "gh classroom clone student-repos -a ASSIGNMENT_ID": "needs GitHub and the gh CLI",
    "for repo in ASSIGNMENT-submissions/*/; do": "needs the students' git repositories",
    'git -C "$repo" diff --quiet TEMPLATE_SHA HEAD -- .github || echo "edited: $repo"': (
        "needs the students' git repositories and the template's commit"
    ),
    "done": "the end of the loop above",
    "zip -j autograder.zip docs/gradescope/setup.sh docs/gradescope/run_autograder "
    "dist/backprop_check-*.whl grading.toml": (
        "packs the upload for Gradescope: needs the zip tool and a built wheel "
        "(tests/docs/test_install.py builds one)"
    ),
    "python bench/mutation.py --profile ci                   # the property suite alone": (
        "a benchmark of many minutes (one suite run per mutant): run by hand"
    ),
    "python bench/mutation.py --profile ci --suite whole     # the whole suite": (
        "a benchmark of many minutes (one suite run per mutant): run by hand"
    ),
    "python bench/sweep.py                               # 10,000 correct, 1,000 corrupted per row": (  # noqa: E501
        "a benchmark of over an hour on 2 cores: run by hand (docs/benchmarks.md says so)"
    ),
    "python bench/sweep.py --cases 1000 --corrupted 100  # a shorter run": (
        "a benchmark of minutes: run by hand, its figures in docs/benchmarks.md"
    ),
    "python bench/notebook.py            # the figures above: medians of 5, about a minute": (
        "the same script as the one-run form, which tests/notebook/test_docs.py runs and whose "
        "every figure it checks; five runs of each only take longer"
    ),
    "python bench/notebook.py --runs 1   # one run of each, a quick look": (
        "tests/notebook/test_docs.py runs it and checks each figure"
    ),
    "python bench/verdict.py --runs 1 --against .            # a quick look: this checkout, twice": (  # noqa: E501
        "needs the checkout (bench/ and its checks/): tests/bench/test_verdict_bench.py runs it "
        "there and checks what it prints"
    ),
    "python bench/verdict.py --runs 7 --against /tmp/before  # the figures below": (
        "needs a second checkout of an earlier commit; the same script as the quick look, "
        "which tests/bench/test_verdict_bench.py runs"
    ),
}

SOLUTION = ROOT / "examples" / "solution.py"
BUGGY = ROOT / "examples" / "buggy.py"
ROSTER = """student_id,name,email,submission
s01,Alice Liddell,alice@example.edu,hw3-alice
s02,Bob Stone,bob@example.edu,hw3-bob
s03,Cy Young,cy@example.edu,hw3-cy
"""


def _commands() -> list[tuple[str, str]]:
    """(page, command) for every command of the docs, each once, in reading order."""
    seen: dict[str, str] = {}
    for page in PAGES:
        for block in sh_blocks(page):
            for command in block:
                seen.setdefault(command, str(page.relative_to(ROOT)))
    return [(page, command) for command, page in seen.items()]


def _workspace(root: Path) -> Path:
    shutil.copytree(ROOT / "examples", root / "examples")
    shutil.copytree(ROOT / "docs" / "gradescope", root / "docs" / "gradescope")
    # Correct where a wrong file adds nothing but time (a failure is shrunk): the wrong
    # ones are examples/buggy.py and the class folders' bob.
    shutil.copy(SOLUTION, root / "student.py")
    shutil.copy(SOLUTION, root / "student_hw.py")
    shutil.copy(SOLUTION, root / "my_backprop.py")
    shutil.copy(ROOT / "examples" / "student.ipynb", root / "student.ipynb")
    (root / "submissions").mkdir()
    shutil.copy(SOLUTION, root / "submissions" / "alice.py")
    shutil.copy(BUGGY, root / "submissions" / "bob.py")
    # Few test points: these runs test the commands, not the grading (tested elsewhere).
    (root / "grading.toml").write_text(
        "examples = 2\n[points]\nbackward = 4.0\n[limits]\ncall_timeout = 10.0\n",
        encoding="utf-8",
    )
    classroom = root / "ASSIGNMENT-submissions"
    for student, source in (("alice", SOLUTION), ("bob", BUGGY), ("cy", SOLUTION)):
        repo = classroom / f"hw3-{student}"
        (repo / ".github").mkdir(parents=True)
        shutil.copy(source, repo / "backprop_hw.py")
        (repo / "scratch.py").write_text("print('trying things')\n", encoding="utf-8")
        (repo / "README.md").write_text("# Homework 3\n", encoding="utf-8")
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return root


def _bin(workspace: Path) -> Path:
    """A folder of this environment's commands, for those its own `bin` lacks.

    A virtual environment made with `--system-site-packages` has no `pytest` script of
    its own: `pytest` on the PATH would then be another installation's, with another
    backprop-check. These run this interpreter's.
    """
    folder = workspace / ".bin"
    folder.mkdir(exist_ok=True)
    for command, module in (("pytest", "pytest"), ("backprop-check", "checks.cli")):
        if not (Path(sys.executable).parent / command).exists():
            script = folder / command
            script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n')
            script.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _workspace(tmp_path_factory.mktemp("docs-workspace"))


def test_every_command_is_run_here_or_its_exemption_says_why() -> None:
    commands = {command for _, command in _commands()}
    stale = sorted(set(ELSEWHERE) - commands)
    assert not stale, f"exempted commands no longer in the docs: {stale}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "command"),
    [pc for pc in _commands() if pc[1] not in ELSEWHERE],
    ids=[f"{p}: {c[:60]}" for p, c in _commands() if c not in ELSEWHERE],
)
def test_the_command_runs_as_written(page: str, command: str, workspace: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "VIRTUAL_ENV", "NO_COLOR", "COV_"))
    }
    here = [str(_bin(workspace)), str(Path(sys.executable).parent)]
    env["PATH"] = os.pathsep.join([*here, env.get("PATH", "")])
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    output = done.stdout + done.stderr
    # 1 is a graded submission that does not pass (the docs' examples include wrong ones).
    assert done.returncode in (0, 1), f"{page}: `{command}` exited {done.returncode}\n{output}"
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    assert ": error:" not in done.stderr, done.stderr
