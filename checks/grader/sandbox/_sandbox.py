"""Run a submission's functions in a separate, limited process and bring back plain data.

One `Sandbox` per submission starts one worker (`_worker.py`, a fresh ``python -s -S -P``
that imports numpy once) and serves every call with it. A call that kills, hangs or
confuses the worker gets its status (`crashed`, `timeout`, `invalid`), the worker and
everything it started are killed, and the next call starts a fresh one, so the other
functions are still graded.

Isolation, strongest first (`Sandbox.isolation` says which is in force, and why not a
stronger one). In every one the worker runs under an init of its own, a child subreaper
that everything the submission starts is re-parented to when orphaned, so the whole
tree is found and killed when the worker ends or times out.

``namespaces``
    When the checker runs as root: the worker runs as ``nobody`` in its own PID,
    mount, network (no network at all), IPC and host-name namespaces (util-linux
    ``unshare``). The PID namespace dies with its init;
    the worker cannot see or signal the checker; the interpreter's prefix, numpy and
    scipy are bind-mounted into a private directory (so ``nobody`` can run a Python
    installed under ``/root``); site-packages, the checker's source trees, the
    submission's own folder and whatever `hide` names look empty; ``/tmp``,
    ``/var/tmp`` and ``/dev/shm`` are small private tmpfs, gone with the worker.
``nobody``
    Root without namespaces (a container without CAP_SYS_ADMIN), if ``nobody`` can run
    the interpreter and import numpy: the init stays root, the worker runs as
    ``nobody``, so it cannot signal the init or the checker. It can read what
    ``nobody`` may read, and leave files in ``/tmp``.
``user-namespaces``
    Not root: the worker runs as the checker's user in its own user, PID, network...
    namespaces (where the kernel allows them): it cannot see or signal the checker, nor
    reach the network.
``same-user``
    The last resort: the checker's own user, in its own session. A submission set on
    it can kill its init, find the checker and signal it, and read the checker's files:
    use it for your own code, not students'.

Limits: a wall-clock limit per call and in all (the parent's clock), and in the worker
RLIMIT_AS (`memory_mb`), RLIMIT_CPU, RLIMIT_FSIZE (output), and RLIMIT_NPROC as
``nobody``. Several sandboxes may run at once, in processes rather than threads (the
``namespaces`` isolation forks with a ``preexec_fn``); as ``nobody`` without namespaces
they share that user, so one worker could signal another's.

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
from checks.grader.sandbox._procs import describe_exit, kill_tree, launch, ns_init_pid
from checks.grader.sandbox._source import Source, read_source

__all__ = ["LoadError", "Loaded", "Outcome", "Sandbox", "SandboxError"]

Status = Literal["ok", "error", "timeout", "crashed", "invalid"]
Isolation = Literal["auto", "namespaces", "nobody", "user-namespaces", "same-user"]
_START_SECONDS = 30.0
_PROCESSES = 256  # RLIMIT_NPROC of a worker running as nobody
_MAX_REPLY = 64 << 20  # bytes; results at test points are small, and this is held in memory
_WORKER = Path(__file__).with_name("_worker.py")
_ONLY_NUMPY = (
    " (a submission can import the standard library, numpy and scipy only;"
    " in a notebook, tag the cells that plot or install with `skip`)"
)
_CHOSEN: dict[tuple[str, int], tuple[str, str]] = {}  # (python, euid) -> (strategy, why)


class SandboxError(RuntimeError):
    """No worker could be started: a problem of the machine, not of the submission."""


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
    pid: int  # the interpreter's pid as the checker sees it
    startup: float

    def stop(self) -> None:
        kill_tree(self.process, self.pid, namespace=self.strategy.endswith("namespaces"))
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
    isolation : {"auto", "namespaces", "nobody", "user-namespaces", "same-user"}
        How to run the worker (module docstring); "auto" takes the strongest available.
    hide : sequence of str or Path
        Files and directories the submission must not read (the grading configuration,
        say); the submission's own directory is always hidden. Only the ``namespaces``
        isolation can hide them; otherwise make them unreadable to ``nobody``.

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
        if isolation not in ("auto", "namespaces", "nobody", "user-namespaces", "same-user"):
            raise ValueError(
                "`isolation` must be auto, namespaces, nobody, user-namespaces or same-user,"
                f" got `{isolation}`"
            )
        self.submission = str(submission)
        self.call_timeout, self.total_timeout = float(call_timeout), float(total_timeout)
        self.memory_mb, self.output_cap = int(memory_mb), int(output_cap)
        self.cpu_seconds = cpu_seconds or int(np.ceil(total_timeout))
        self.isolation_request = isolation
        # The submission's own folder may hold other students' work.
        self.hide = [Path(submission).resolve().parent, *(Path(h) for h in hide)]
        self.isolation = "not started"  # what is in force, once a worker started
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
            for path, shown in ((self._copy, self.submission), (self._run, "<sandbox>"))
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
            mutated = _wire.indices(reply_header.get("mutated", []), len(args))
            status = reply_header["status"]
            message = self._text(reply_header.get("message", ""), 4000)
            if status == "ok":
                value = _wire.decode(reply_header["value"], reply_blobs)
                return Outcome("ok", value, mutated=mutated, seconds=seconds)
            if status not in ("error", "invalid"):
                raise _wire.Malformed(f"unknown status `{status!r:.40}`")
        except (_wire.Malformed, KeyError, TypeError) as error:
            self._stop()
            return Outcome(
                "invalid", message=f"the worker's reply was malformed: {error}", seconds=seconds
            )
        if reply_header.get("memory") is True:
            message += f" (the memory limit is {self.memory_mb} MiB)"
        tb = self._text(reply_header.get("traceback"), 20000) or None
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
        shutil.copyfile(file, copy)
        copy.chmod(0o644)
        self._start()
        timeout = min(self.call_timeout, self._time_left())
        cells = [[c.name, c.code] for c in self._source.cells]
        notebook = any(c.number is not None for c in self._source.cells)
        request = {"op": "load", "file": str(copy), "cells": cells, "keep_going": notebook}
        reply = self._exchange(request, [], timeout, "loading the submission")
        if isinstance(reply, Outcome):
            return Loaded((), LoadError(file, None, reply.message))
        header = reply[0]
        try:
            if header["status"] == "ok":
                return Loaded(tuple(_wire.names(header["names"])), None, self._cell_errors(header))
            where = header.get("where") or [None, None]
            cell_name, line = str(where[0]), where[1] if isinstance(where[1], int) else None
            message = self._text(header.get("message", "error"), 4000)
        except (_wire.Malformed, KeyError, TypeError, IndexError) as error:
            self._stop()
            return Loaded((), LoadError(file, None, f"the worker's reply was malformed: {error}"))
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
        if self.isolation_request != "auto":
            order = [self.isolation_request]
        elif key in _CHOSEN:
            order = [_CHOSEN[key][0]]
        else:
            order = ["user-namespaces", "same-user"]
            if os.geteuid() == 0:
                order[:0] = ["namespaces", "nobody"]
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
            why = "; ".join(failures)
            if self.isolation_request == "auto":
                why = _CHOSEN.setdefault(key, (strategy, why))[1]
            self.isolation = _DESCRIPTIONS[strategy] + (
                f" (stronger ones failed: {why})" if why else ""
            )
            return
        raise SandboxError("could not start a worker: " + "; ".join(failures))

    def _spawn(self, strategy: str) -> _Worker:
        worker_script = self._run / "_worker.py"
        shutil.copyfile(_WORKER, worker_script)
        try:
            argv, kwargs, user = launch(strategy, self._run, self.hide)
        except OSError as error:
            raise _StartFailed(str(error)) from None
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        fds = [request_r, reply_w]
        argv += [
            str(worker_script),
            *["--init", *(map(str, user) if user else ["-1", "-1"])],
            str(request_r),
            str(reply_w),
            str(self.memory_mb),
            str(self.cpu_seconds),
            str(self.output_cap),
            str(_PROCESSES if strategy in ("namespaces", "nobody") else 0),
            str(self._run / "lib"),
        ]
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=self._out[0],
                stderr=self._out[1],
                pass_fds=fds,
                cwd=self._run,
                start_new_session=True,
                **kwargs,
            )
        except (OSError, subprocess.SubprocessError) as error:
            os.close(request_w)
            os.close(reply_r)
            tail = self._read("stderr")[-300:].strip()  # what a preexec_fn said
            raise _StartFailed(f"{type(error).__name__}: {error} {tail}".strip()) from None
        finally:
            for fd in fds:
                os.close(fd)
        worker = _Worker(process, request_w, reply_r, strategy, process.pid, 0.0)
        try:
            deadline = started + min(_START_SECONDS, max(self._total_left(), 1.0))
            ready = _wire.receive(reply_r, deadline, 1 << 16)[0].get("status")
        except (_wire.Timeout, _wire.Malformed, EOFError):
            ready = None
        if ready != "ready":
            worker.stop()
            tail = self._read("stderr")[-300:].strip().replace("\n", " | ")
            raise _StartFailed(f"the worker did not start ({self._describe(worker)}): {tail}")
        worker.startup = time.monotonic() - started
        if strategy.endswith("namespaces"):
            worker.pid = ns_init_pid(process.pid) or process.pid
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


class _StartFailed(Exception):
    pass


_DESCRIPTIONS = {
    "namespaces": "namespaces: as nobody in private PID, mount and network namespaces,"
    " only the stdlib, numpy and scipy visible, no network",
    "nobody": "nobody: as nobody under an init that stays root (no namespaces:"
    " it can read what nobody may, and write to /tmp)",
    "user-namespaces": "user-namespaces: as the checker's own user in private user, PID"
    " and network namespaces (it cannot signal the checker, all it starts dies with it,"
    " no network; it can read the checker's files)",
    "same-user": "same-user: as the checker's own user in its own session"
    " (it can read the checker's files, and signal the checker on purpose)",
}


def _cleanup(home: Path, out: list[int], workers: list[_Worker | None]) -> None:
    for worker in workers:
        if worker is not None:
            worker.stop()
    for fd in out:
        with contextlib.suppress(OSError):
            os.close(fd)
    shutil.rmtree(home, ignore_errors=True)
