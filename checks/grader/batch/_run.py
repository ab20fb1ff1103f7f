"""Grade a class: each submission in a checker process of its own, `jobs` at a time.

Grading one submission is mostly waiting for its sandboxed worker, but the sandbox
starts workers with a `preexec_fn`, which is unsafe in a threaded process; so the
parallelism is processes, not threads. Each submission gets a fresh process forked from
the batch's (single-threaded, grader already imported, so a fork costs milliseconds),
which grades it and sends back its report as JSON. So:

- whatever goes wrong while grading one submission (an exception in the checker, a
  crash of its process, a grading that never ends) becomes that submission's report,
  with `error` set and every function `error` (`error_report`), and the batch goes on;
- every submission is graded from the same state, so the reports do not depend on
  `jobs` or on the order of grading;
- a grading process dies with the batch (`PR_SET_PDEATHSIG` on Linux), killing its
  sandbox's processes first, so a batch killed with ``kill -9`` or stopped with Ctrl-C
  leaves no grader behind.

What the submission prints never reaches the batch's stdout (the sandbox keeps it), and
neither does anything the grading process prints (its stdout goes to stderr).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import Any, NamedTuple

# The grader is imported only to grade (`grade_guarded`), so the plugin stays cheap.
from checks.grader.config import Config
from checks.grader.report import FunctionResult, Report, check_report

__all__ = ["Submission", "default_jobs", "error_report", "grade_all", "grade_guarded"]

_GRACE_SECONDS = 60.0  # past the sandbox's own limits, for the checker's own work
_PR_SET_PDEATHSIG = 1


class Submission(NamedTuple):
    """One submission of a batch.

    `path` is the file graded, `name` what its report is called (the file, or the
    student's folder), `key` its name in the folder, unique there, which names its
    report file (`alice.py`, `bob`).
    """

    path: Path
    name: str
    key: str


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def error_report(name: str, config: Config, why: str) -> Report:
    """The report of a submission whose grading failed: `error` set, every function `error`.

    It is not a verdict on the submission; the message says so, and the score is 0.
    """
    from backprop import CONTRACT

    message = (
        f"This function could not be graded: the checker failed ({why}). This is not a "
        "verdict on your code; ask for it to be graded again."
    )
    functions: dict[str, FunctionResult] = {}
    for fid in CONTRACT:
        result: FunctionResult = {
            "verdict": "error",
            "points": 0.0,
            "max_points": config.points_of(fid),
            "diagnosis": [],
            "message": message,
        }
        if fid in config.hidden:
            result["hidden"] = True
        functions[fid] = result
    return {
        "submission": name,
        "score": 0.0,
        "max_score": sum(r["max_points"] for r in functions.values()),
        "functions": functions,
        "output": "",
        "error": why,
    }


def grade_guarded(
    path: Path, config: Config, *, seed: int, name: str, isolation: str = "auto"
) -> Report:
    """`grade_submission`, with any exception of the checker turned into `error_report`.

    The traceback goes to stderr, for whoever runs the checker. (No sandbox at all is
    not an exception here: it is an error report saying so, and the submission unrun.)
    """
    try:
        from checks.grader.judge import grade_submission

        report = grade_submission(
            path,
            config,
            seed=seed,
            display_name=name,
            isolation=isolation,  # type: ignore[arg-type]
        )
        # What is not plain JSON data would fail later, when it is written.
        return check_report(json.loads(json.dumps(report, allow_nan=False)))
    except Exception as exc:
        print(f"backprop-check: grading `{name}` failed:", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return error_report(name, config, f"{type(exc).__name__}: {exc}")


@dataclass
class _Running:
    submission: Submission
    process: BaseProcess
    conn: Connection
    deadline: float


def grade_all(
    submissions: Sequence[Submission],
    config: Config,
    *,
    seed: int,
    jobs: int,
    on_report: Callable[[Submission, Report], None] | None = None,
    isolation: str = "auto",
) -> dict[str, Report]:
    """Grade every submission, each in a process of its own, `jobs` at a time.

    Parameters
    ----------
    submissions : sequence of Submission
        Graded in this order; their keys must be distinct.
    config : Config
        The grading configuration.
    seed : int
        The seed of every random choice; the same for every submission.
    jobs : int
        How many submissions are graded at once, at least 1.
    on_report : callable, optional
        Called in this process with each submission and its report as soon as it is
        known (to write it, to show progress), in the order they finish.
    isolation : {"auto", "none"}
        How each submission runs (`checks.grader.sandbox.Sandbox`).

    Returns
    -------
    dict of str to Report
        The reports by submission key. Never raises for a submission.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"`jobs` must be an integer ≥ 1, got `{jobs!r}`")
    keys = [s.key for s in submissions]
    if len(set(keys)) != len(keys):
        raise ValueError("`submissions` must have distinct keys")
    import checks.grader.judge  # noqa: F401  (imported once here, not in every child)

    context = _context()
    guard = 2 * config.total_timeout + _GRACE_SECONDS
    pending = list(submissions)[::-1]
    running: list[_Running] = []
    reports: dict[str, Report] = {}

    def finish(job: _Running, report: Report) -> None:
        running.remove(job)
        reports[job.submission.key] = report
        if on_report is not None:
            on_report(job.submission, report)

    ctrl_c = _CtrlC()
    try:
        with ctrl_c:
            while pending or running:
                while pending and len(running) < jobs:
                    running.append(_start(context, pending.pop(), config, seed, guard, isolation))
                timeout = max(0.0, min(job.deadline for job in running) - time.monotonic())
                waits = [w for j in running for w in (j.conn, j.process.sentinel)]
                ready = set(wait([*waits, *ctrl_c.fds], timeout))
                ctrl_c.check()  # before collecting: a child may have died of the same Ctrl-C
                for job in list(running):
                    if job.conn in ready or job.process.sentinel in ready:
                        finish(job, _collect(job, config))
                    elif time.monotonic() > job.deadline:
                        _stop(job.process)
                        why = f"grading did not end within {guard:g} s; it was stopped"
                        finish(job, error_report(job.submission.name, config, why))
    finally:
        for job in running:  # only on an exception (Ctrl-C): stop what is left
            _stop(job.process)
    return reports


class _CtrlC:
    """Ctrl-C during a batch, raised as `KeyboardInterrupt` only where the batch checks it.

    Python raises `KeyboardInterrupt` wherever the main thread happens to be, inside
    multiprocessing's or logging's fork hooks included, where it is printed and ignored:
    the batch then went on, or ended with another error. Here the signal only sets a flag
    and wakes the wait (`signal.set_wakeup_fd`), and `check` raises at one known place.
    Outside the main thread (where no handler can be set) it does nothing.
    """

    def __init__(self) -> None:
        self.fds: list[int] = []
        self._seen = False
        self._previous: Any = None
        self._wakeup = -1

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is not threading.main_thread():
            return self
        read, write = os.pipe()
        os.set_blocking(read, False)
        os.set_blocking(write, False)
        self.fds = [read]
        self._wakeup = signal.set_wakeup_fd(write)
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._seen = True

    def check(self) -> None:
        if self._seen:
            raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if not self.fds:
            return
        signal.signal(signal.SIGINT, self._previous)
        write = signal.set_wakeup_fd(self._wakeup)
        for fd in (*self.fds, write):
            os.close(fd)
        self.fds = []
        self.check()  # a Ctrl-C after the last wait still stops the batch


def _context() -> BaseContext:
    """`fork` while this process has one thread (safe, and the grader is already loaded)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        forkserver = multiprocessing.get_context("forkserver")
        forkserver.set_forkserver_preload(["checks.grader.batch", "checks.grader.judge"])
        return forkserver
    return multiprocessing.get_context("spawn")


def _start(
    context: BaseContext,
    submission: Submission,
    config: Config,
    seed: int,
    guard: float,
    isolation: str,
) -> _Running:
    receive, send = context.Pipe(duplex=False)
    parent = os.getpid() if context.get_start_method() == "fork" else None
    process = context.Process(  # type: ignore[attr-defined]
        target=_child,
        args=(str(submission.path), submission.name, config, seed, send, parent, isolation),
        name=f"backprop-check {submission.key}",
    )
    for stream in (sys.stdout, sys.stderr):  # else a fork may print our buffers again
        with contextlib.suppress(Exception):
            stream.flush()
    process.start()
    send.close()
    return _Running(submission, process, receive, time.monotonic() + guard)


def _collect(job: _Running, config: Config) -> Report:
    name = job.submission.name
    data = None
    with contextlib.suppress(EOFError, OSError):
        if job.conn.poll():
            data = job.conn.recv_bytes()
    job.conn.close()
    job.process.join(10)
    if job.process.is_alive():
        _stop(job.process)
    if data is None:
        why = f"the grading process ended without a report ({_exit(job.process.exitcode)})"
        return error_report(name, config, why)
    try:
        report = check_report(json.loads(data))
    except (ValueError, TypeError) as exc:
        return error_report(name, config, f"the grading process sent a malformed report: {exc}")
    return report


def _exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit status {code}"


def _stop(process: BaseProcess) -> None:
    """SIGTERM (the child closes its sandbox), then SIGKILL."""
    process.terminate()
    process.join(5)
    if process.is_alive():
        process.kill()
        process.join()


def _child(
    path: str,
    name: str,
    config: Config,
    seed: int,
    send: Connection,
    parent: int | None,
    isolation: str = "auto",
) -> None:
    """In the grading process: grade one submission, send its report, end."""
    signal.signal(signal.SIGTERM, _exit_on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle
    _die_with_parent(parent)
    os.dup2(2, 1)  # nothing printed here may reach the batch's stdout
    report = grade_guarded(Path(path), config, seed=seed, name=name, isolation=isolation)
    send.send_bytes(json.dumps(report).encode())
    send.close()


def _exit_on_term(signum: int, frame: FrameType | None) -> None:
    """Stop grading now: kill the sandbox's processes, remove its folder, exit.

    Not by raising SystemExit: a signal handler can run anywhere, Hypothesis's garbage
    collector callbacks included, where an exception is printed and ignored.
    """
    homes = _kill_descendants()
    for home in homes:
        shutil.rmtree(home, ignore_errors=True)
    with contextlib.suppress(Exception):  # the sandboxes' cgroups, where they had some
        from checks.grader.sandbox import remove_cgroups

        remove_cgroups(os.getpid())
    os._exit(128 + signum)


def _kill_descendants() -> set[Path]:
    """SIGKILL every process this one started, and the sessions they lead.

    Returns the sandbox folders they ran in (`backprop-check-*` in the temporary folder).
    """
    table: dict[int, tuple[int, int]] = {}  # pid -> (ppid, sid)
    try:
        entries = os.listdir("/proc")
    except OSError:  # no /proc: the sandbox's finalizer is all there is
        entries = []
    for entry in entries:
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                table[int(entry)] = (int(fields[1]), int(fields[3]))
    mine = {os.getpid()}
    grown = True
    while grown:
        more = {p for p, (ppid, sid) in table.items() if ppid in mine or sid in mine} - mine
        mine |= more
        grown = bool(more)
    mine.discard(os.getpid())
    homes = set()
    temporary = Path(tempfile.gettempdir()).resolve()
    for pid in mine:
        with contextlib.suppress(OSError):
            home = Path(os.readlink(f"/proc/{pid}/cwd")).parent
            if home.parent == temporary and home.name.startswith("backprop-check-"):
                homes.add(home)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return homes


def _die_with_parent(parent: int | None) -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if parent is not None and os.getppid() != parent:  # it died before prctl
        raise SystemExit(1)
