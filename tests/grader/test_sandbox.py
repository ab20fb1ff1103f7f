"""The sandbox against a table of hostile submissions, one per file in `hostile/`.

Each hostile behaviour gets the status of the functions concerned, the other functions
of the same submission are still served, and nothing of the submission outlives it.
The ways of making a bubblewrap sandbox that work here are all exercised: ``STRICT``
holds them (``root``: root with CAP_SYS_ADMIN; ``uid``: root without it, which needs an
interpreter other users can read; ``userns``: an ordinary user), ``ISOLATIONS`` adds
``none``. A strategy that does not work here is named in ``UNAVAILABLE``, with why.
"""

from __future__ import annotations

import gc
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from checks.grader.sandbox import (
    IsolationUnavailable,
    Loaded,
    LoadError,
    Sandbox,
    SandboxError,
    _procs,
    _sandbox,
)

HOSTILE = Path(__file__).parent / "hostile"
REPO = Path(__file__).resolve().parents[2]
Z = np.array([[-1.5, 0.0, 2.0], [3.0, -0.5, 1.0]])


def _why_not(isolation: Any) -> str | None:
    try:
        with Sandbox(HOSTILE / "whoami.py", isolation=isolation) as box:
            outcome = box.call("ids", [0.0])
            return None if outcome.status == "ok" else outcome.message
    except SandboxError as error:
        return str(error)[:300]


UNAVAILABLE = {s: w for s in ("root", "uid", "userns") if (w := _why_not(s)) is not None}
STRICT = [s for s in ("root", "uid", "userns") if s not in UNAVAILABLE]
ISOLATIONS = [*STRICT, "none"]


def softmax(a: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    e = np.exp(a - a.max(axis=0))
    return e / e.sum(axis=0)  # type: ignore[no-any-return]


@pytest.fixture
def box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """The sandbox of `hostile/<name>.py`, from ``@pytest.mark.parametrize('box', ...)``."""
    name, options = request.param
    with Sandbox(HOSTILE / f"{name}.py", **{"call_timeout": 5.0, **options}) as sandbox:
        yield sandbox


def hostile(name: str, isolations: list[str] | None = None, **options: Any) -> Any:
    """Parametrize `box` over `isolations` (default: the automatic choice only)."""
    cases = [(name, dict(options, isolation=i)) for i in isolations or ["auto"]]
    ids = [f"{name}-{c[1]['isolation']}" for c in cases]
    return pytest.mark.parametrize("box", cases, ids=ids, indirect=True)


def survivors(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    """The live processes below `pid` (zombies left out)."""
    table = _procs.process_table()
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, (pp, *_) in table.items() if pp == parent]
        found += [p for p in children if table[p][3] not in "ZX"]
        frontier += children
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- a correct submission ------------------------------------------------------------


def test_a_correct_submission_is_served_by_one_worker(tmp_path: Path) -> None:
    file = tmp_path / "student.py"
    file.write_text(
        textwrap.dedent("""\
        import os
        import numpy as np

        def relu(z):
            return np.maximum(z, 0)

        def loss(y_hat, y):
            return np.float32(-np.sum(y * np.log(y_hat)))

        def mean(x):
            return float(np.mean(x))

        def backward(params, X, Y):
            return [(W * 0 + os.getpid(), b.astype(np.float32)) for W, b in params]

        def echo(*args):
            return list(args)

        if __name__ == "__main__":
            raise SystemExit("the module is not run as a script")
        """)
    )
    params = [(np.ones((2, 3)), np.ones((2, 1))), (np.ones((1, 2)), np.zeros((1, 1)))]
    with Sandbox(file) as box:
        assert box.load().names == ("backward", "echo", "loss", "mean", "relu")
        relu = box.call("relu", [Z])
        assert relu.status == "ok" and relu.mutated == [] and relu.seconds > 0
        np.testing.assert_array_equal(relu.value, np.maximum(Z, 0))
        loss = box.call("loss", [np.full((2, 1), 0.5), np.array([[1.0], [0.0]])])
        assert loss.value.shape == () and loss.value.dtype == np.float32  # dtype is kept
        assert box.call("mean", [Z]).value == pytest.approx(np.mean(Z), rel=1e-15)
        first = box.call("backward", [params, Z, Z]).value
        assert [(dW.shape, db.dtype) for dW, db in first] == [
            ((2, 3), np.float32),
            ((1, 2), np.float32),
        ]
        second = box.call("backward", [params, Z, Z]).value
        assert first[0][0][0, 0] == second[0][0][0, 0]  # one worker serves every call
        assert box.restarts == 0
        odd = [np.asfortranarray(Z), np.arange(3, dtype=np.int8), np.array(np.nan), np.inf]
        back = box.call("echo", odd).value
        for sent, got in zip(odd, back, strict=True):
            np.testing.assert_array_equal(got, sent)
            assert np.asarray(got).dtype == np.asarray(sent).dtype


def test_start_up_and_calls_fit_the_grading_budget(tmp_path: Path) -> None:
    # The whole grade of a correct submission should take under 2 s (issue 5): the
    # worker's start-up (an interpreter and numpy) and ~100 small calls fit well in it.
    file = tmp_path / "student.py"
    file.write_text("import numpy as np\ndef relu(z):\n    return np.maximum(z, 0)\n")
    started = time.perf_counter()
    with Sandbox(file) as box:
        box.load()
        loaded = time.perf_counter()
        for _ in range(100):
            assert box.call("relu", [Z]).status == "ok"
    finished = time.perf_counter()
    assert loaded - started < 1.5
    assert (finished - loaded) / 100 < 0.01


# -- loading -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("exit_at_import", None, "ended the worker: it exited with status 0"),
        ("sys_exit_at_import", 10, "called sys.exit(0)"),
        ("raise_at_import", 5, "ZeroDivisionError: division by zero"),
        ("imports_checker", 3, "ModuleNotFoundError: No module named 'backprop'"),
    ],
)
def test_a_submission_that_does_not_load_gets_an_error_for_every_call(
    name: str, line: int | None, message: str
) -> None:
    file = HOSTILE / f"{name}.py"
    with Sandbox(file) as box:
        loaded = box.load()
        assert loaded.names == ()
        assert loaded.error == LoadError(
            str(file), line, loaded.error.message if loaded.error else ""
        )
        assert message in loaded.error.message
        if "ModuleNotFoundError" in message:
            assert loaded.error.message.endswith("tag the cells that plot or install with `skip`)")
        outcome = box.call("relu", [Z])
        assert outcome.status == "error"
        assert outcome.message.startswith("the submission did not load: ")


def test_a_notebook_exported_as_a_script_runs_as_in_jupyter(tmp_path: Path) -> None:
    file = tmp_path / "exported.py"  # what `jupyter nbconvert --to script` writes
    file.write_text(
        textwrap.dedent("""\
        #!/usr/bin/env python
        # In[1]:
        get_ipython().run_line_magic('matplotlib', 'inline')
        import numpy as np
        get_ipython().system('pip install numpy')
        # In[2]:
        get_ipython().run_cell_magic('time', '', 'def relu(z):\\n    return np.maximum(z, 0)\\n')
        display(np.zeros(2))
        """)
    )
    with Sandbox(file) as box:
        assert box.load() == Loaded(("relu",))
        np.testing.assert_array_equal(box.call("relu", [Z]).value, np.maximum(Z, 0))
        assert box.stdout == "array([0., 0.])\n"


def test_a_syntax_error_is_reported_with_file_line_and_message(tmp_path: Path) -> None:
    # Written here, not in hostile/, so that linters of the tree do not trip on it.
    file = tmp_path / "broken.py"
    file.write_text("import numpy as np\n\n\ndef relu(z)\n    return z\n")
    with Sandbox(file) as box:
        assert box.load().error == LoadError(str(file), 4, "SyntaxError: expected ':'")
        assert box.call("relu", [Z]).status == "error"


def test_a_notebook_error_is_reported_at_its_cell_and_line(tmp_path: Path) -> None:
    notebook = tmp_path / "student.ipynb"
    cells = [
        {"cell_type": "markdown", "source": "# Backprop"},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "import numpy as np\n"]},
        {"cell_type": "code", "source": ["def relu(z):\n", "    return np.maximum(z, 0)\n"]},
        {"cell_type": "code", "source": ["!pip install nothing\n", "\n", "relu(undefined)\n"]},
    ]
    notebook.write_text(__import__("json").dumps({"cells": cells, "nbformat": 4}))
    with Sandbox(notebook) as box:
        loaded = box.load()
    # the failing cell is recorded and the others ran (as nbgrader and otter run them)
    assert loaded.error is None and "relu" in loaded.names
    (error,) = loaded.cell_errors
    assert error == LoadError(
        str(notebook), 3, "NameError: name 'undefined' is not defined", cell=4
    )
    assert str(error).startswith(f"{notebook}, cell 4, line 3: NameError")
    cells[2]["source"] = ["def relu(z):\n", "    return np.maximum(z, 0\n"]
    notebook.write_text(__import__("json").dumps({"cells": cells, "nbformat": 4}))
    with Sandbox(notebook) as box:
        loaded = box.load()
    assert loaded.error is None
    assert loaded.cell_errors[0] == LoadError(
        str(notebook), 2, "SyntaxError: '(' was never closed", cell=3
    )


# -- the same submission, the same output ---------------------------------------------

SYNTAX_ERROR = "def relu(z)\n    return z * (z > 0)\n"
IN_NUMPY = """import sys

import numpy as np

print("loaded from", __file__)
print("numpy at", np.__file__, file=sys.stderr)


def relu(z):
    return np.reshape(z, (7, 13))


def relu_mask(z):
    raise RuntimeError(__file__)
"""


@pytest.mark.parametrize("isolation", STRICT)
def test_killing_a_worker_adds_nothing_to_what_the_submission_printed(
    isolation: Any, tmp_path: Path
) -> None:
    # Killed before util-linux `unshare`, a namespace's init made it print "sigprocmask
    # unblock failed" into the submission's stderr, on most closes but not all.
    file = tmp_path / "broken.py"
    file.write_text(SYNTAX_ERROR)
    printed = []
    for _ in range(5):
        with Sandbox(file, isolation=isolation) as box:
            assert box.load().error == LoadError(str(file), 1, "SyntaxError: expected ':'")
        printed.append((box.stdout, box.stderr))
    assert printed == [("", "")] * 5


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_messages_name_the_submission_as_given_and_no_sandbox_folder(
    isolation: Any, tmp_path: Path
) -> None:
    file, broken = tmp_path / "student.py", tmp_path / "broken.py"
    file.write_text(IN_NUMPY)
    broken.write_text("raise RuntimeError(__file__)\n")
    seen = []
    for _ in range(2):  # two sandboxes, two random folders
        with Sandbox(file, isolation=isolation) as box:
            outcomes = [box.call(name, [Z]) for name in ("relu", "relu_mask")]
        said = [(o.status, o.message, o.traceback) for o in outcomes]
        with Sandbox(broken, isolation=isolation) as other:
            error = other.load().error
        seen.append((said, box.stdout, box.stderr, error))
    assert seen[0] == seen[1]
    assert "backprop-check-" not in repr(seen[0])
    (relu, mask), stdout, stderr, error = seen[0]
    assert relu[2] is not None and f'File "{file}", line 10, in relu' in relu[2]
    assert 'File "<sandbox>/lib/numpy/_core/fromnumeric.py", line ' in relu[2]
    assert mask[1] == f"RuntimeError: {file}"
    assert stdout == f"loaded from {file}\n"
    assert stderr == "numpy at <sandbox>/lib/numpy/__init__.py\n"
    assert error == LoadError(str(broken), 1, f"RuntimeError: {broken}")


def test_grading_a_class_again_gives_the_same_reports_byte_for_byte(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("buggy.py", "solution.py"):
        shutil.copy(REPO / "examples" / name, folder / name)
    (folder / "in_numpy.py").write_text(IN_NUMPY)
    (folder / "broken.py").write_text(SYNTAX_ERROR)
    command = [sys.executable, "-m", "checks", str(folder), "--format", "json"]
    runs = [subprocess.run(command, cwd=REPO, capture_output=True, check=False) for _ in range(2)]
    assert [r.returncode for r in runs] == [1, 1], runs[0].stderr[-2000:]
    assert runs[0].stdout == runs[1].stdout
    reports = [json.loads(line) for line in runs[0].stdout.splitlines()]
    assert [r["submission"] for r in reports] == sorted(str(f) for f in folder.iterdir())
    assert b"backprop-check-" not in runs[0].stdout and b"unshare" not in runs[0].stdout


# -- calls that end, hang or exhaust the worker ----------------------------------------


@hostile("raises")
def test_an_exception_is_an_error_with_its_message_and_traceback(box: Sandbox) -> None:
    file = str(HOSTILE / "raises.py")
    outcome = box.call("relu", [Z])
    assert (outcome.status, outcome.message) == (
        "error",
        "ValueError: expected a 3-d array, got 2-d",
    )
    assert outcome.traceback is not None
    assert f'File "{file}", line 12, in relu\n    _check(z)' in outcome.traceback
    assert f'File "{file}", line 8, in _check' in outcome.traceback
    unprintable = box.call("relu_mask", [Z])
    assert unprintable.message == "submission.Unprintable: <exception str() failed>"
    huge = box.call("softmax", [Z])
    assert huge.message.startswith("ValueError: xxx") and huge.message.endswith(" [...]")
    assert len(huge.message) < 5000 and box.restarts == 0


@hostile("exits_in_call", ISOLATIONS)
def test_exiting_in_a_call_spares_the_other_functions(box: Sandbox) -> None:
    crashed = box.call("relu", [Z])
    assert crashed.status == "crashed"
    assert (
        crashed.message
        == "`relu` ended the worker: it exited with status 3 (os._exit, or a fatal error)"
    )
    exited = box.call("dL_db", [Z])
    assert (exited.status, exited.message) == ("error", "called sys.exit(1)")
    np.testing.assert_allclose(box.call("softmax", [Z]).value, softmax(Z), rtol=1e-15)
    assert box.restarts == 1


@hostile("closes_pipes")
def test_closing_the_protocol_pipes_is_a_crash(box: Sandbox) -> None:
    outcome = box.call("relu", [Z])
    assert (outcome.status, outcome.message) == (
        "crashed",
        "`relu` ended the worker: it exited with status 1 (os._exit, or a fatal error)",
    )
    assert box.call("softmax", [Z]).status == "ok"


@hostile("segfault", ISOLATIONS)
def test_a_segmentation_fault_is_a_crash(box: Sandbox) -> None:
    outcome = box.call("relu", [Z])
    assert (outcome.status, outcome.message) == (
        "crashed",
        "`relu` ended the worker: it crashed with a segmentation fault (SIGSEGV)",
    )
    assert box.call("softmax", [Z]).status == "ok"


@hostile("memory", memory_mb=400)
def test_allocating_without_bound_meets_the_memory_limit(box: Sandbox) -> None:
    for name in ("relu", "relu_mask"):
        outcome = box.call(name, [Z])
        assert outcome.status == "error"
        assert "MemoryError" in outcome.message
        assert outcome.message.endswith("(the memory limit is 400 MiB)")
    assert box.call("softmax", [Z]).status == "ok"


@hostile("hangs", ISOLATIONS, call_timeout=0.3)
def test_a_hanging_call_times_out(box: Sandbox) -> None:
    for name in ("relu", "relu_mask"):
        outcome = box.call(name, [Z])
        assert (outcome.status, outcome.message) == (
            "timeout",
            f"`{name}` did not return within 0.3 s",
        )
        assert 0.3 <= outcome.seconds < 1.3
    assert box.call("softmax", [Z]).status == "ok"


@hostile("hangs", call_timeout=0.3, total_timeout=1.0)
def test_the_total_time_limit_stops_further_calls(box: Sandbox) -> None:
    statuses = [box.call("relu", [Z]) for _ in range(5)]
    assert [o.status for o in statuses] == ["timeout"] * 5
    assert statuses[-1].message == "the total time limit of 1 s is used up"
    assert statuses[-1].seconds < 0.1  # not run at all


@hostile("burns_cpu", cpu_seconds=1, call_timeout=10.0)
def test_burning_cpu_meets_the_cpu_limit(box: Sandbox) -> None:
    outcome = box.call("relu", [Z])
    assert outcome.status == "crashed"  # well before the call's 10 s
    assert outcome.message == (
        "`relu` ended the worker: it used up the CPU-time limit of 1 s (SIGXCPU)"
    )


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_no_process_of_the_submission_survives(isolation: str) -> None:
    marker = "4242.25"  # hostile/spawns.py puts it in its children's command lines
    with Sandbox(HOSTILE / "spawns.py", call_timeout=0.5, isolation=isolation) as box:
        assert box.call("relu", [Z]).status == "timeout"
        assert survivors(marker) == []


@hostile("forks", STRICT)
def test_a_fork_bomb_meets_the_process_limit_and_dies_with_the_worker(box: Sandbox) -> None:
    outcome = box.call("relu", [0.0])
    assert (outcome.status, outcome.message) == (
        "error",
        "BlockingIOError: [Errno 11] Resource temporarily unavailable",
    )
    assert box._worker is not None
    top = box._worker.pid
    assert len(descendants(top)) > 100
    box.close()
    assert descendants(top) == [] and not alive(top)


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_worker_does_not_outlive_a_killed_checker(isolation: str) -> None:
    checker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""\
            import sys
            sys.path.insert(0, {str(REPO)!r})
            from checks.grader import Sandbox
            box = Sandbox({str(HOSTILE / "hangs.py")!r}, call_timeout=60, isolation={isolation!r})
            box.load()
            print(box._worker.pid, flush=True)
            box.call("relu_mask", [0.0])  # sleeps: no CPU limit will end it
            """),
        ],
        stdout=subprocess.PIPE,
    )
    assert checker.stdout is not None
    worker = int(checker.stdout.readline())
    time.sleep(0.1)  # the call is under way
    checker.kill()
    checker.wait()
    checker.stdout.close()
    deadline = time.monotonic() + 5
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive(worker)


@hostile("network", STRICT)
def test_in_a_namespace_there_is_no_network(box: Sandbox) -> None:
    outcome = box.call("relu", [Z])  # anywhere
    assert (outcome.status, outcome.message) == (
        "error",
        "OSError: [Errno 101] Network is unreachable",
    )
    outcome = box.call("relu_mask", [Z])  # the loopback is the sandbox's own, empty
    assert (outcome.status, outcome.message) == (
        "error",
        "ConnectionRefusedError: [Errno 111] Connection refused",
    )


@hostile("kills_parent", ISOLATIONS)
def test_signalling_the_checker_is_refused_or_harmless(box: Sandbox) -> None:
    for name in ("relu", "relu_mask"):
        assert box.call(name, [Z]).status in ("ok", "error", "crashed")
    decided = box.call("decide", [Z])  # and the checker is still here to judge it
    np.testing.assert_array_equal(decided.value, (Z.max(axis=0) == Z) * 1.0)


# -- what comes back -----------------------------------------------------------------


@hostile("bad_results")
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("relu", "the result is a `submission.Sneaky`, not a numeric array"),
        ("relu_mask", "the result is an array of dtype `object`, not numbers"),
        ("softmax", "the result is an ndarray subclass `submission.Tagged`;"),
        ("decide", "the result is a `builtins.str`, not a numeric array"),
        ("loss", "the result is `None` (a missing `return`?)"),
        ("dL_db", "the result is an ndarray subclass `numpy.ma.MaskedArray`;"),
        ("dL_dz", "the result is an array of dtype `[('x', '<f8'), ('y', '<f8')]`, not numbers"),
    ],
)
def test_a_result_that_is_not_plain_numbers_is_invalid(
    box: Sandbox, name: str, message: str
) -> None:
    outcome = box.call(name, [Z, Z][: 2 if name in ("loss", "dL_dz") else 1])
    assert (outcome.status, outcome.value) == ("invalid", None)
    assert outcome.message.startswith(message)


@hostile("forges_replies")
def test_forged_replies_are_rejected_and_the_worker_replaced(box: Sandbox) -> None:
    for name, message in [
        ("relu", "a frame of 4611686018427387904 bytes"),
        ("relu_mask", "an array that is not in .npy format"),
    ]:
        outcome = box.call(name, [Z])
        assert (outcome.status, outcome.message) == (
            "invalid",
            f"the worker's reply was malformed: {message}",
        )
    assert box.call("softmax", [Z]).status == "ok"
    assert box.restarts == 2


@hostile("forges_frames", ISOLATIONS)
def test_forged_frames_cannot_exhaust_or_crash_the_decoder(box: Sandbox) -> None:
    for name, message in [
        ("relu", "a reply whose arrays hold 209740808 bytes (at most 67108864)"),
        ("relu_mask", "an array of shape `(True, 1)`"),
        ("softmax", "not a text: `12345`"),
    ]:
        outcome = box.call(name, [Z])
        assert (outcome.status, outcome.message) == (
            "invalid",
            f"the worker's reply was malformed: {message}",
        )
    y = np.array([[1.0], [0.0]])
    assert box.call("loss", [np.full((2, 1), 0.5), y]).value == pytest.approx(np.log(2))
    assert box.restarts == 3


@hostile("patches_numpy")
def test_patching_numpy_in_the_submission_cannot_change_a_judgement(box: Sandbox) -> None:
    outcome = box.call("relu", [Z])
    assert outcome.status == "ok"
    assert not np.allclose(outcome.value, np.maximum(Z, 0))  # the checker's numpy


@hostile("mutates")
def test_arguments_changed_in_place_are_reported(box: Sandbox) -> None:
    a_prev = np.ones((4, 3))
    outcome = box.call("dL_dW", [Z, a_prev])
    assert (outcome.status, outcome.mutated) == ("ok", [0])
    np.testing.assert_array_equal(Z, np.array([[-1.5, 0.0, 2.0], [3.0, -0.5, 1.0]]))
    params = [(np.ones((2, 2)), np.ones((2, 1)))]
    assert box.call("forward", [params, Z]).mutated == [0]


@hostile("floods_output", output_cap=1000)
def test_output_is_captured_capped_and_kept_out_of_the_checker(
    box: Sandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    assert box.call("relu", [Z]).status == "ok"
    assert box.stdout == "x" * 1000 + "\n[output truncated]"
    assert box.stderr == "y" * 1000 + "\n[output truncated]"
    box.close()
    assert box.stdout.startswith("x" * 1000)  # kept after close
    out, err = capfd.readouterr()
    assert "xxxx" not in out + err and "zzzz" not in out + err


# -- who the worker is, what it sees -------------------------------------------------


@pytest.mark.parametrize("isolation", STRICT)
def test_the_worker_is_neither_root_nor_the_checker_in_its_own_pid_namespace(
    isolation: str,
) -> None:
    uids = set()
    with Sandbox(HOSTILE / "whoami.py", isolation=isolation) as box:
        uid, _gid, pid, ppid = box.call("ids", [0.0]).value
        with Sandbox(HOSTILE / "whoami.py", isolation=isolation) as other:
            uids = {uid, other.call("ids", [0.0]).value[0]}
        assert uid not in (0, os.getuid(), pwd.getpwnam("nobody").pw_uid)
        assert pid <= 3 and ppid <= 2  # bwrap's init is 1, the worker's own init 2
        assert box.isolation.startswith("bubblewrap: ")
    if os.geteuid() == 0:  # a uid of its own: two sandboxes at once, two uids
        assert len(uids) == 2 and all(u >= _procs._UID_BASE for u in uids)


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_only_the_stdlib_numpy_and_scipy_can_be_imported(isolation: str) -> None:
    with Sandbox(HOSTILE / "whoami.py", isolation=isolation) as box:
        scipy, hypothesis, pytest_, backprop, checks = box.call("can_import", [0.0]).value
        assert (scipy, hypothesis, pytest_, backprop, checks) == (1.0, 0.0, 0.0, 0.0, 0.0)
        assert box.call("site_packages_on_path", [0.0]).value == 0.0
        assert box.call("dumpable", [0.0]).value == 0.0  # no ptrace by another worker


def test_every_worker_hashes_text_alike() -> None:
    # A fixed hash seed: a submission that sums over a set of strings sums in one order.
    hashes = []
    for _ in range(2):
        with Sandbox(HOSTILE / "whoami.py") as box:
            hashes.append(box.call("hash_of_text", [0.0]).value)
    assert hashes[0] == hashes[1]


@pytest.mark.parametrize("isolation", STRICT)
def test_the_checker_cannot_be_imported_even_by_its_path(isolation: str, tmp_path: Path) -> None:
    file = tmp_path / "sneaky.py"
    file.write_text(f"import sys\nsys.path[:0] = [{str(REPO)!r}]\nimport backprop\n")
    with Sandbox(file, isolation=isolation) as box:
        error = box.load().error
    assert error is not None and "No module named 'backprop'" in error.message


@pytest.fixture
def shared() -> Iterator[Path]:
    """A world-readable folder, as a class's submissions often are, outside /tmp.

    (The worker sees a private /tmp: a folder there would be hidden anyway.)
    """
    folder = Path(tempfile.mkdtemp(dir="/run" if os.access("/run", os.W_OK) else "/var/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.parametrize("isolation", STRICT)
def test_other_submissions_and_hidden_files_cannot_be_read(isolation: str, shared: Path) -> None:
    (shared / "class").mkdir(mode=0o755)
    other = shared / "class" / "bob.py"
    other.write_text("def relu(z): ...  # Bob's work\n")
    config = shared / "grading.toml"
    config.write_text("seed = 1234  # hidden checks\n")
    notes = shared / "notes.txt"
    notes.write_text("readable: the control\n")
    file = shared / "class" / "alice.py"
    file.write_text(
        textwrap.dedent(f"""\
        def peek(z):
            sizes = []
            for path in [{str(other)!r}, {str(config)!r}, {str(notes)!r}, __file__]:
                try:
                    with open(path) as stream:
                        sizes.append(float(len(stream.read())))
                except OSError:
                    sizes.append(-1.0)
            return sizes
        """)
    )
    for path in (other, config, notes, file):
        path.chmod(0o644)
    with Sandbox(file, isolation=isolation, hide=[config]) as box:
        bob, grading, readable, own = box.call("peek", [0.0]).value
    # An allowlist: not Bob's work, not the configuration, nor any other file of the host.
    assert (bob, grading, readable) == (-1.0, -1.0, -1.0)
    assert own == len(file.read_text())


@pytest.mark.parametrize("isolation", STRICT)
def test_files_written_stay_private_small_and_go_with_the_worker(isolation: str) -> None:
    marker = "backprop-check-litter-4242"  # hostile/litters.py names its files after it
    with Sandbox(HOSTILE / "litters.py", isolation=isolation) as box:
        written = box.call("relu", [0.0]).value
        # /tmp, /dev/shm and ~ (= /tmp) are private tmpfs; there is no /var/tmp at all.
        np.testing.assert_array_equal(written, [1.0, 0.0, 1.0, 1.0])
        assert box.call("relu_mask", [0.0]).value < 64  # MiB: then /tmp is full
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        assert not [n for n in os.listdir(folder) if n.startswith(marker)]


def test_a_closed_sandbox_runs_nothing_more() -> None:
    box = Sandbox(HOSTILE / "whoami.py")
    assert box.call("ids", [0.0]).status == "ok"
    box.close()
    box.close()  # closing twice is harmless
    with pytest.raises(ValueError, match="is closed"):
        box.call("ids", [0.0])


def test_a_forgotten_sandbox_is_cleaned_up_when_collected() -> None:
    box = Sandbox(HOSTILE / "whoami.py")
    assert box.call("ids", [0.0]).status == "ok"
    home = box._home
    assert survivors(str(home))
    del box
    gc.collect()
    assert survivors(str(home)) == [] and not home.exists()


def test_without_a_sandbox_the_checker_refuses_and_says_how(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(strategy: str, run: Path, **limits: int) -> Any:
        raise OSError(f"no {strategy} here")

    monkeypatch.setattr(_sandbox, "launch", refuse)
    monkeypatch.setattr(_sandbox, "_CHOSEN", {})
    box = Sandbox(HOSTILE / "whoami.py")
    with pytest.raises(IsolationUnavailable) as caught:
        box.load()
    box.close()
    message = str(caught.value)
    assert message.startswith("no sandbox can be made here, so the submission was not run (")
    assert "apt-get install bubblewrap" in message and "--isolation none" in message
    assert ("root: no root here" in message) == (os.geteuid() == 0)


def test_strategies_that_cannot_run_here_say_why() -> None:
    # Not a test of this machine's abilities: a record, in the test log, of what was
    # not exercised (pytest -rA shows it), so that an empty STRICT is never silent.
    for strategy, why in UNAVAILABLE.items():
        assert why, strategy
    assert STRICT or UNAVAILABLE


# -- the API -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"call_timeout": 0}, "`call_timeout` must be positive, got `0`"),
        ({"total_timeout": -1.0}, "`total_timeout` must be positive, got `-1.0`"),
        ({"memory_mb": 10}, "`memory_mb` must be at least 64, got `10`"),
        ({"cpu_seconds": 0}, "`cpu_seconds` must be at least 1, got `0`"),
        ({"output_cap": -1}, "`output_cap` must be at least 0, got `-1`"),
        ({"isolation": "chroot"}, "`isolation` must be one of auto, bubblewrap, none,"),
    ],
    ids=lambda x: str(x) if isinstance(x, dict) else "",
)
def test_bad_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Sandbox(HOSTILE / "whoami.py", **options)


def test_bad_arguments_are_refused_before_anything_runs() -> None:
    with Sandbox(HOSTILE / "whoami.py") as box:
        with pytest.raises(TypeError, match="got `str`"):
            box.call("ids", ["1.0"])
        with pytest.raises(TypeError, match="`args` must be a list or tuple of arguments"):
            box.call("ids", np.zeros(2))
        with pytest.raises(TypeError, match="numeric arrays, got dtype `object`"):
            box.call("ids", [np.array([None])])
        assert box.call("missing", [1.0]).message == "no function `missing`"


def test_a_missing_file_is_a_load_error(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "nothing.py") as box:
        error = box.load().error
    assert error is not None and error.line is None and "No such file" in error.message
