"""Run a submission's functions in a separate, limited process and bring back plain data.

One `Sandbox` per submission starts one worker (`_worker.py`, a fresh ``python -s -S -P``
that imports numpy once) and serves every call with it. A call that kills, hangs or
confuses the worker gets its status (`crashed`, `timeout`, `invalid`), the worker and
everything it started are killed, and the next call starts a fresh one, so the other
functions are still graded.

Isolation (`Sandbox.isolation` says which is in force). It fails closed: a submission
never runs as uid 0, nor as the checker's user with a view of the host; when no sandbox
can be had, `load` raises `IsolationUnavailable`, saying why and how to get one.

``bubblewrap`` (``auto``)
    The worker runs under ``bwrap`` (`checks.grader.sandbox._procs`): an allowlist view
    (the interpreter, numpy and scipy read-only, its own copy of the submission, a
    private ``/tmp``), new PID, mount, IPC, UTS and network namespaces, no network,
    ``PR_SET_NO_NEW_PRIVS``. As root (with or without ``CAP_SYS_ADMIN``) it runs as a
    uid of its own, in a cgroup with the memory and process limits where the host has
    one; as an ordinary user, in a user namespace of its own.
``none``
    No isolation, on explicit request only (a student checking their own code): the
    checker's own user in its own session, reading and writing what the checker can.

In both the worker runs under an init of its own, a child subreaper, so all it starts
is found and killed when the worker ends or times out.

Limits: a wall-clock limit per call and in all (the parent's clock), and in the worker
RLIMIT_AS (`memory_mb`), RLIMIT_CPU, RLIMIT_FSIZE (output), and in a sandbox
RLIMIT_NPROC (counted for its own uid, or in its own user namespace); a cgroup's
memory and pids limits, where there is one, hold for all its processes together.

Reproducible: messages, tracebacks and output name the worker's copy of the submission
by the path as given, and the sandbox's random folder as ``<sandbox>`` (numpy's frames
as ``<sandbox>/lib/numpy/...``), so the same submission gets the same words every time.

Trust: the parent reads back only length-prefixed frames holding JSON and `.npy` bytes,
parsed without pickle, every array checked to have a numeric dtype; nothing the worker
says is unpickled or called.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from checks.grader.sandbox import _wire
from checks.grader.sandbox._procs import INSIDE, Launch, describe_exit, kill_tree, launch
from checks.grader.sandbox._source import Source, read_source

__all__ = [
    "HOW_TO_ISOLATE",
    "IsolationUnavailable",
    "LoadError",
    "Loaded",
    "Outcome",
    "Sandbox",
    "SandboxError",
    "probe_isolation",
]

Status = Literal["ok", "error", "timeout", "crashed", "invalid"]
Isolation = Literal["auto", "bubblewrap", "none", "root", "uid", "userns"]
_ISOLATIONS = ("auto", "bubblewrap", "none", "root", "uid", "userns")
_START_SECONDS = 30.0
_PROCESSES = 256  # RLIMIT_NPROC and pids.max of a sandbox
_MAX_REPLY = 64 << 20  # bytes; results at test points are small, and this is held in memory
_WORKER = Path(__file__).with_name("_worker.py")
_ONLY_NUMPY = (
    " (a submission can import the standard library, numpy and scipy only;"
    " in a notebook, tag the cells that plot or install with `skip`)"
)
_CHOSEN: dict[tuple[str, int], str] = {}  # (python, euid) -> the strategy that worked


class SandboxError(RuntimeError):
    """No worker could be started: a problem of the machine, not of the submission."""


class IsolationUnavailable(SandboxError):
    """No sandbox can be made here, and running without one was not asked for."""


HOW_TO_ISOLATE = (
    "to grade untrusted code, install bubblewrap (Debian/Ubuntu: `apt-get install"
    " bubblewrap`; or `pip install backprop-check[sandbox]` for a bundled `bwrap`), and"
    " either run as root (in a container: root is enough, CAP_SYS_ADMIN is not needed, but"
    " the container must allow user namespaces, e.g. Docker's"
    " `--security-opt seccomp=unconfined`, and the Python must be readable by other users)"
    " or as a user allowed to create user namespaces (`sysctl user.max_user_namespaces`,"
    " `kernel.apparmor_restrict_unprivileged_userns=0`); to check your own code without"
    " isolation, pass `--isolation none`"
)


@dataclass(frozen=True)
class LoadError:
    """Why a submission did not load: a syntax error, an exception or an exit at import.

    `line` (and, for a notebook, `cell`: its position among all cells, from 1) is where
    in the submission, when known.
    """

    file: str
    line: int | None
    message: str
    cell: int | None = None

    def __str__(self) -> str:
        where = [self.file] + [f"cell {self.cell}"] * (self.cell is not None)
        where += [f"line {self.line}"] * (self.line is not None)
        return f"{', '.join(where)}: {self.message}"


@dataclass(frozen=True)
class Loaded:
    """The submission's top-level callables (`names`), or why it did not load (`error`)."""

    names: tuple[str, ...]
    error: LoadError | None = None
    #: A notebook's cells that failed (each with its cell and line); the others ran.
    cell_errors: tuple[LoadError, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What one call did.

    `status` is ``ok`` (it returned), ``error`` (it raised, or the submission did not
    load, or has no such function), ``timeout`` (past the call's or the total limit),
    ``crashed`` (the worker ended during the call: an exit, a signal, the CPU limit) or
    ``invalid`` (it returned something that is not plain numbers, or the worker's reply
    was malformed). `message` says what happened in words; `traceback` is the
    submission's, for ``error``.

    `value` (``ok`` only) is plain data: numpy arrays of a numeric dtype (a numpy
    scalar comes back as a 0-d array keeping its dtype, a list of numbers as an array),
    Python floats (for Python numbers), and lists and tuples of them (``backward``'s
    pairs). `mutated` lists the indices of the arguments the call changed in place;
    `seconds` is the call's wall-clock time.
    """

    status: Status
    value: Any = None
    message: str = ""
    traceback: str | None = None
    mutated: list[int] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    requests: int  # our end of the pipe the worker reads
    replies: int  # our end of the pipe the worker writes
    strategy: str
    plan: Launch
    startup: float

    @property
    def pid(self) -> int:
        """``bwrap``'s pid (or, for ``none``, the worker's init): it ends with the worker."""
        return self.process.pid

    def stop(self) -> None:
        kill_tree(self.process, sandboxed=self.strategy != "none")
        self.plan.release()  # the cgroup's leftovers killed, then the uid freed
        for fd in (self.requests, self.replies):
            with contextlib.suppress(OSError):
                os.close(fd)


class Sandbox:
    """Load one submission in a separate, limited process and call its functions.

    Parameters
    ----------
    submission : str or Path
        A `.py` file or a `.ipynb` notebook (see `checks.grader.sandbox._source`).
    call_timeout : float
        Wall-clock limit of one call, in seconds; loading the submission is one call.
    total_timeout : float
        Wall-clock limit of all calls together, from `load`; calls past it are not run.
    memory_mb : int
        Address-space limit of the worker (RLIMIT_AS), in MiB.
    cpu_seconds : int or None
        CPU-time limit of each worker (RLIMIT_CPU); None: `total_timeout`, rounded up.
    output_cap : int
        What is kept of the submission's stdout and of its stderr, in bytes each.
    isolation : {"auto", "bubblewrap", "none"}
        How to run the worker (module docstring): "auto" and "bubblewrap" take a
        bubblewrap sandbox or refuse (`IsolationUnavailable`); "none" runs it without
        isolation. ("root", "uid" and "userns" force one way of making the sandbox.)
    hide : sequence of str or Path
        Accepted for compatibility: under bubblewrap the worker sees nothing of the host
        but its allowlist, so nothing needs hiding; under "none" nothing can be hidden.

    Notes
    -----
    Costs, measured on 2 cores: starting the worker (an interpreter and numpy) takes
    about 0.1-0.2 s, a call on small arrays about 0.3 ms, a restart after a crash the
    same as a start, `close` about 10 ms. One sandbox serves one thread at a time.

    Examples
    --------
    >>> with Sandbox("student.py") as box:  # doctest: +SKIP
    ...     if "relu" in box.load().names:
    ...         outcome = box.call("relu", [np.array([[-1.0, 2.0]])])
    """

    def __init__(
        self,
        submission: str | Path,
        *,
        call_timeout: float = 10.0,
        total_timeout: float = 120.0,
        memory_mb: int = 1024,
        cpu_seconds: int | None = None,
        output_cap: int = 65536,
        isolation: Isolation = "auto",
        hide: Sequence[str | Path] = (),
    ) -> None:
        for name, value in [("call_timeout", call_timeout), ("total_timeout", total_timeout)]:
            if not value > 0:
                raise ValueError(f"`{name}` must be positive, got `{value}`")
        if memory_mb < 64:
            raise ValueError(f"`memory_mb` must be at least 64, got `{memory_mb}`")
        if cpu_seconds is not None and cpu_seconds < 1:
            raise ValueError(f"`cpu_seconds` must be at least 1, got `{cpu_seconds}`")
        if output_cap < 0:
            raise ValueError(f"`output_cap` must be at least 0, got `{output_cap}`")
        if isolation not in _ISOLATIONS:
            raise ValueError(
                f"`isolation` must be one of {', '.join(_ISOLATIONS)}, got `{isolation}`"
            )
        self.submission = str(submission)
        self.call_timeout, self.total_timeout = float(call_timeout), float(total_timeout)
        self.memory_mb, self.output_cap = int(memory_mb), int(output_cap)
        self.cpu_seconds = cpu_seconds or int(np.ceil(total_timeout))
        self.isolation_request = isolation
        self.hide = [Path(h) for h in hide]
        self.isolation = "not started"  # what is in force, once a worker started
        self.isolation_name = "not started"  # "bubblewrap" or "none"
        self.restarts = 0
        self._loaded: Loaded | None = None
        self._source: Source | None = None
        self._worker: _Worker | None = None
        self._deadline: float | None = None
        self._closed_output: tuple[str, str] | None = None
        self._home = Path(tempfile.mkdtemp(prefix="backprop-check-"))
        self._home.chmod(0o711)  # the worker may traverse it to its run/ directory, no more
        self._run = self._home / "run"
        self._run.mkdir(mode=0o755)
        self._copy = self._run / ("submission" + Path(self.submission).suffix.lower())
        # What the worker says names its copy of the submission and the files under
        # `run` (numpy in run/lib...) by paths that differ from sandbox to sandbox: the
        # copy becomes the submission as given, `run` becomes `<sandbox>`, so the same
        # submission gets the same messages every time.
        self._paths = [
            (str(where), shown)
            for path, shown in (
                (self._copy, self.submission),
                (INSIDE / self._copy.name, self.submission),
                (self._run, "<sandbox>"),
                (INSIDE, "<sandbox>"),
            )
            for where in dict.fromkeys([path, path.resolve()])
        ]
        self._out = [
            os.open(self._home / n, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            for n in ("stdout", "stderr")
        ]
        self._current: list[_Worker | None] = [None]  # shared with the finalizer
        self._finalizer = weakref.finalize(self, _cleanup, self._home, self._out, self._current)

    # -- the API -----------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self) -> Loaded:
        """Start the worker and load the submission in it (once; later calls reuse it).

        Raises
        ------
        SandboxError
            If no worker can be started at all (the machine, not the submission).
        ValueError
            If the sandbox is closed.
        """
        if self._closed_output is not None:
            raise ValueError(f"the sandbox of `{self.submission}` is closed")
        if self._loaded is None:
            self._deadline = time.monotonic() + self.total_timeout
            self._loaded = self._load()
        return self._loaded

    def call(self, name: str, args: Sequence[Any]) -> Outcome:
        """Call the submission's `name` on `args` (arrays, floats, lists and tuples of them)."""
        if not isinstance(name, str):
            raise TypeError(f"`name` must be a str, got `{name!r}`")
        if not isinstance(args, list | tuple):
            raise TypeError(
                f"`args` must be a list or tuple of arguments, got `{type(args).__name__}`"
            )
        blobs: list[bytes] = []
        header = {"op": "call", "name": name, "args": [_wire.encode(a, blobs) for a in args]}
        loaded = self.load()
        if loaded.error is not None:
            return Outcome("error", message=f"the submission did not load: {loaded.error}")
        started = time.monotonic()
        timeout = self._time_left()
        if timeout <= 0:
            return Outcome("timeout", message=self._total_message())
        if self._worker is None:
            self.restarts += 1
            again = self._load()
            timeout = self._time_left()
            seconds = time.monotonic() - started
            if again.error is not None and timeout <= 0:
                return Outcome("timeout", message=self._total_message(), seconds=seconds)
            if again.error is not None:
                message = f"the submission did not load again: {again.error}"
                return Outcome("error", message=message, seconds=seconds)
        reply = self._exchange(header, blobs, timeout, f"`{name}`")
        seconds = time.monotonic() - started
        if isinstance(reply, Outcome):
            return Outcome(reply.status, message=reply.message, seconds=seconds)
        reply_header, reply_blobs = reply
        try:
            return self._outcome(reply_header, reply_blobs, len(args), seconds)
        except Exception as error:  # anything the worker said that is not a reply
            self._stop()
            why = str(error) if isinstance(error, _wire.Malformed) else repr(error)[:200]
            return Outcome(
                "invalid", message=f"the worker's reply was malformed: {why}", seconds=seconds
            )

    def _outcome(
        self, header: dict[str, Any], blobs: list[bytes], n_args: int, seconds: float
    ) -> Outcome:
        """The reply of one call, every field checked (`_wire.Malformed` if it is not)."""
        mutated = _wire.indices(header.get("mutated", []), n_args)
        status = header["status"]
        if status not in ("ok", "error", "invalid"):
            raise _wire.Malformed(f"unknown status `{status!r:.40}`")
        message = self._text(header.get("message", ""), 4000)
        if status == "ok":
            value = _wire.decode(header["value"], blobs, _MAX_REPLY)
            return Outcome("ok", value, mutated=mutated, seconds=seconds)
        if header.get("memory") is True:
            message += f" (the memory limit is {self.memory_mb} MiB)"
        tb = self._text(header.get("traceback"), 20000) or None
        return Outcome(status, message=message, traceback=tb, mutated=mutated, seconds=seconds)

    def close(self) -> None:
        """Kill the worker and everything it started; keep what it printed."""
        if self._closed_output is None:
            self._stop()
            self._closed_output = (self.stdout, self.stderr)
            self._finalizer()

    @property
    def stdout(self) -> str:
        """What the submission printed on stdout, at most `output_cap` bytes."""
        return self._closed_output[0] if self._closed_output else self._read("stdout")

    @property
    def stderr(self) -> str:
        """What the submission printed on stderr, at most `output_cap` bytes."""
        return self._closed_output[1] if self._closed_output else self._read("stderr")

    @property
    def startup_seconds(self) -> float | None:
        """How long the current worker took from spawn to importing numpy."""
        return None if self._worker is None else self._worker.startup

    # -- loading -----------------------------------------------------------------

    def _load(self) -> Loaded:
        file = self.submission
        try:
            self._source = self._source or read_source(file)
        except (OSError, ValueError) as error:
            return Loaded((), LoadError(file, None, str(error)))
        copy = self._copy
        copy.write_bytes(self._source.data)  # what was checked, not the path read again
        copy.chmod(0o644)
        self._start()
        timeout = min(self.call_timeout, self._time_left())
        cells = [[c.name, c.code] for c in self._source.cells]
        notebook = any(c.number is not None for c in self._source.cells)
        assert self._worker is not None
        seen = copy if self._worker.strategy == "none" else INSIDE / copy.name
        request = {"op": "load", "file": str(seen), "cells": cells, "keep_going": notebook}
        reply = self._exchange(request, [], timeout, "loading the submission")
        if isinstance(reply, Outcome):
            return Loaded((), LoadError(file, None, reply.message))
        header = reply[0]
        try:
            if header["status"] == "ok":
                return Loaded(tuple(_wire.names(header["names"])), None, self._cell_errors(header))
            where = header.get("where") or [None, None]
            cell_name = where[0] if type(where[0]) is str else ""
            line = where[1] if type(where[1]) is int else None
            message = self._text(header.get("message", "error"), 4000)
        except Exception as error:  # anything the worker said that is not a reply
            self._stop()
            why = str(error) if isinstance(error, _wire.Malformed) else repr(error)[:200]
            return Loaded((), LoadError(file, None, f"the worker's reply was malformed: {why}"))
        self._stop()  # nothing more to run
        if not self._source.owns(cell_name):
            line = None
        if message.startswith("ModuleNotFoundError"):
            message += _ONLY_NUMPY
        return Loaded((), LoadError(file, line, message, self._source.cell_number(cell_name)))

    def _cell_errors(self, header: dict[str, Any]) -> tuple[LoadError, ...]:
        """The notebook cells that failed, as the worker listed them (checked here)."""
        found = []
        records = header.get("cell_errors") or []
        if not isinstance(records, list):
            raise _wire.Malformed("`cell_errors` is not a list")
        assert self._source is not None
        for record in records[:1000]:
            if not isinstance(record, dict):
                raise _wire.Malformed("a cell error is not a mapping")
            where = record.get("where") or [None, None]
            if not isinstance(where, list) or len(where) != 2:
                raise _wire.Malformed("a cell error's `where` is not [cell, line]")
            cell_name = str(where[0])
            line = (
                where[1] if isinstance(where[1], int) and not isinstance(where[1], bool) else None
            )
            if not self._source.owns(cell_name):
                line = None
            message = self._text(record.get("message", "error"), 4000)
            if message.startswith("ModuleNotFoundError"):
                message += _ONLY_NUMPY
            cell = self._source.cell_number(cell_name)
            found.append(LoadError(self.submission, line, message, cell))
        return tuple(found)

    # -- the worker --------------------------------------------------------------

    def _start(self) -> None:
        key = (sys.executable, os.geteuid())
        order: list[str]
        if self.isolation_request not in ("auto", "bubblewrap"):
            order = [self.isolation_request]
        elif key in _CHOSEN:
            order = [_CHOSEN[key]]
        else:
            order = ["root", "uid"] if os.geteuid() == 0 else ["userns"]
        failures = []
        for strategy in order:
            try:
                self._worker = self._spawn(strategy)
            except _StartFailed as error:
                failures.append(f"{strategy}: {error}")
                for fd in self._out:  # what a failed attempt printed is not the submission's
                    os.ftruncate(fd, 0)
                continue
            self._current[0] = self._worker
            if self.isolation_request in ("auto", "bubblewrap"):
                _CHOSEN.setdefault(key, strategy)
            self.isolation_name = "none" if strategy == "none" else "bubblewrap"
            self.isolation = _DESCRIPTIONS[strategy] + (
                f"; limits: {self._worker.plan.limits}" if self._worker.plan.limits else ""
            )
            return
        if "none" in order:
            raise SandboxError("could not start a worker: " + "; ".join(failures))
        raise IsolationUnavailable(
            "no sandbox can be made here, so the submission was not run ("
            + "; ".join(failures)
            + "); "
            + HOW_TO_ISOLATE
        )

    def _spawn(self, strategy: str) -> _Worker:
        worker_script = self._run / "_worker.py"
        shutil.copyfile(_WORKER, worker_script)
        try:
            plan = launch(strategy, self._run, memory_mb=self.memory_mb, processes=_PROCESSES)
        except OSError as error:
            raise _StartFailed(str(error)) from None
        inside = self._run if strategy == "none" else INSIDE
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        fds = [request_r, reply_w]
        argv = plan.argv
        if strategy != "none":
            argv = [*argv[:1], "--chdir", str(INSIDE), *argv[1:]]
        argv += [
            str(inside / "_worker.py"),
            *["--init", *(map(str, plan.user) if plan.user else ["-1", "-1"])],
            str(request_r),
            str(reply_w),
            str(self.memory_mb),
            str(self.cpu_seconds),
            str(self.output_cap),
            str(0 if strategy == "none" else _PROCESSES),
            str(inside / "lib"),
        ]
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=self._out[0],
                stderr=self._out[1],
                pass_fds=fds + plan.pass_fds,
                cwd=self._run,
                env=plan.env,
                start_new_session=True,
                preexec_fn=plan.preexec,
            )
        except (OSError, subprocess.SubprocessError) as error:
            os.close(request_w)
            os.close(reply_r)
            plan.release()
            tail = self._read("stderr")[-300:].strip()
            raise _StartFailed(f"{type(error).__name__}: {error} {tail}".strip()) from None
        finally:
            for fd in fds:
                os.close(fd)
        worker = _Worker(process, request_w, reply_r, strategy, plan, 0.0)
        try:
            deadline = started + min(_START_SECONDS, max(self._total_left(), 1.0))
            hello = _wire.receive(reply_r, deadline, 1 << 16)[0]
            ready = hello.get("status")
        except (_wire.Timeout, _wire.Malformed, EOFError):
            ready = None
        if ready != "ready":
            worker.stop()
            tail = self._read("stderr")[-300:].strip().replace("\n", " | ")
            raise _StartFailed(f"the worker did not start ({self._describe(worker)}): {tail}")
        if strategy != "none" and hello.get("uid") in (0, os.getuid()):
            worker.stop()  # never as root, never as the checker (the userns maps it away)
            raise _StartFailed(f"the worker ran as uid {hello.get('uid')}")
        worker.startup = time.monotonic() - started
        return worker

    def _exchange(
        self, header: dict[str, Any], blobs: list[bytes], timeout: float, what: str
    ) -> tuple[dict[str, Any], list[bytes]] | Outcome:
        worker = self._worker
        assert worker is not None
        deadline = time.monotonic() + timeout
        try:
            _wire.send(worker.requests, header, blobs, deadline)
            return _wire.receive(worker.replies, deadline, _MAX_REPLY)
        except _wire.Timeout:
            self._stop()
            if time.monotonic() >= (self._deadline or 0):
                return Outcome("timeout", message=self._total_message())
            return Outcome("timeout", message=f"{what} did not return within {timeout:g} s")
        except _wire.Malformed as error:
            self._stop()
            return Outcome("invalid", message=f"the worker's reply was malformed: {error}")
        except (EOFError, BrokenPipeError):
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=1)
            how = self._describe(worker)  # before we kill what is left
            self._stop()
            return Outcome("crashed", message=f"{what} ended the worker: {how}")

    def _describe(self, worker: _Worker) -> str:
        return describe_exit(
            worker.process,
            cpu_seconds=self.cpu_seconds,
            memory_mb=self.memory_mb,
        )

    def _stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._worker = self._current[0] = None

    def _total_left(self) -> float:
        return (self._deadline or time.monotonic()) - time.monotonic()

    def _time_left(self) -> float:
        return min(self.call_timeout, self._total_left())

    def _total_message(self) -> str:
        return f"the total time limit of {self.total_timeout:g} s is used up"

    def _read(self, name: str) -> str:
        try:
            with open(self._home / name, "rb") as stream:
                data = stream.read(self.output_cap + 1)
        except OSError:
            return ""
        cut = "\n[output truncated]" if len(data) > self.output_cap else ""
        return self._own_paths(data[: self.output_cap].decode("utf-8", "replace")) + cut

    def _own_paths(self, text: str) -> str:
        """`text` with the sandbox's paths made the same from sandbox to sandbox."""
        for path, shown in self._paths:
            text = text.replace(path, shown)
        return text

    def _text(self, value: Any, limit: int) -> str:
        """A text of the worker's (`_wire.text`), its paths made stable, then cut."""
        return _wire.text(self._own_paths(value) if type(value) is str else value, limit)


def probe_isolation(isolation: Isolation = "auto") -> str:
    """The isolation a submission would get here, found by starting one empty worker.

    Raises `IsolationUnavailable` when there is none (and `isolation` is not "none").
    Costs one worker's start (about 0.2 s); the strategy found is remembered, so the
    sandboxes started afterwards by this process (and its forks) do not try again.
    """
    with tempfile.TemporaryDirectory(prefix="backprop-check-probe-") as folder:
        empty = Path(folder, "probe.py")
        empty.write_text("")
        with Sandbox(empty, isolation=isolation, call_timeout=30, total_timeout=30) as box:
            box.load()
            return box.isolation


class _StartFailed(Exception):
    pass


_VIEW = (
    " sees only the interpreter, numpy and scipy (read-only), its own copy of the"
    " submission and a private /tmp; new PID, mount, IPC and network namespaces, no network"
)
_DESCRIPTIONS = {
    "root": "bubblewrap: a uid of its own (not root, not the checker's);" + _VIEW,
    "uid": "bubblewrap: a uid of its own (not root, not the checker's) in a user namespace;"
    + _VIEW,
    "userns": "bubblewrap: in a user namespace of its own (its host uid is the checker's,"
    " with nothing of the checker's visible);" + _VIEW,
    "none": "none: NOT ISOLATED, asked for with `--isolation none`: it ran as the checker's"
    " own user and could read, write and signal whatever the checker can",
}


def _cleanup(home: Path, out: list[int], workers: list[_Worker | None]) -> None:
    for worker in workers:
        if worker is not None:
            worker.stop()
    for fd in out:
        with contextlib.suppress(OSError):
            os.close(fd)
    shutil.rmtree(home, ignore_errors=True)
