"""The worker: a fresh interpreter that loads one submission and runs its functions.

Run by `checks.grader.sandbox._sandbox` as ``python -s -S -P _worker.py --init UID GID
REQ_FD RESP_FD MEMORY_MB CPU_SECONDS OUTPUT_CAP PROCESSES LIBDIR``; it imports nothing
of the checker (neither `checks` nor `backprop`), only the standard library and, from
LIBDIR, numpy.

Protocol, on two dedicated pipes (never stdout): each message is an 8-byte big-endian
length, then a 4-byte big-endian length and a JSON header, then the arrays the header
lists as `.npy` bytes, each preceded by its 8-byte length. Values are trees of
``{"array": i}``, ``{"float": x}``, ``{"list": [...]}`` and ``{"tuple": [...]}``.

Nothing here is trusted by the checker: the submission runs in this process and can
change anything in it. The conversions below exist to give honest submissions clear
messages; the checker validates every byte it reads back on its own side.
"""

from __future__ import annotations

import builtins
import io
import json
import linecache
import os
import resource
import select
import signal
import struct
import sys
import threading
import traceback
import types
from typing import Any

_FRAME = struct.Struct(">Q")
_HEADER = struct.Struct(">I")
_NUMERIC = "biufc"
_MAX_DEPTH = 8
_MAX_TEXT = 20_000  # characters of a message or a traceback sent back
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36


class _Invalid(Exception):
    """A result that is not plain numeric data."""


class _CappedText(io.TextIOBase):
    """A text stream that writes to a file descriptor and drops what exceeds `cap` bytes."""

    def __init__(self, fd: int, cap: int) -> None:
        self._fd, self._left = fd, cap + 1  # one byte more tells the checker it was cut

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        data = str(s).encode("utf-8", "replace")[: max(self._left, 0)]
        self._left -= len(data)
        while data:
            try:
                data = data[os.write(self._fd, data) :]
            except OSError:
                break
        return len(s)


def _limit(memory_mb: int, cpu_seconds: int, output_cap: int, processes: int) -> None:
    mb = 1 << 20
    if processes:  # counted per user: only for a user of its own (nobody), not the checker's
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * mb, memory_mb * mb))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # A backstop for output written below Python's streams (os.write, C code): past it
    # writes fail with EFBIG instead of killing the process with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    cap = output_cap + mb
    resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))


def _init(fds: list[int], user: tuple[int, int] | None) -> None:
    """Fork; the parent stays as the init of everything the worker starts, until it ends.

    The init is a child subreaper: every process the submission starts, even one that
    leaves its session (``setsid`` after a double fork), is re-parented to it when
    orphaned, so it can kill them all when the worker ends, and the checker finds them
    all among its descendants. It ends with the worker's status, signal `n` as `128 + n`.
    As root, it drops the worker's privileges to `user` (uid, gid) but keeps its own:
    the submission cannot signal it, nor the checker above it. In a PID namespace it is
    the namespace's init (which ignores signals it has no handler for, SIGXCPU included,
    so the worker must be another process), and the namespace dies with it.
    """
    import ctypes

    ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    worker = os.fork()
    if worker == 0:
        if user is not None:
            os.setgroups([])
            os.setgid(user[1])
            os.setuid(user[0])
        return
    for fd in fds:
        os.close(fd)
    code: int | None = None
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:  # nothing left of the submission
            os._exit(code or 0)
        if pid == worker:
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        if code is not None:  # the worker ended: so do the orphans it left, as they come
            _kill_children()


def _kill_children() -> None:
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if entry.isdigit() and stat.read().rsplit(")", 1)[1].split()[1] == me:
                    os.kill(int(entry), signal.SIGKILL)
        except (OSError, IndexError):
            continue


def _notebook_builtins(module: types.ModuleType) -> dict[str, Any]:
    """What Jupyter gives a notebook, for one exported as a script (`jupyter nbconvert`).

    ``get_ipython()`` answers with magics and shell escapes that do nothing, except
    the cell magics whose body is Python (`checks.grader.sandbox._source`), whose body runs;
    ``display(x)`` prints ``repr(x)``. Builtins, so they are not among the names the
    submission defines.
    """

    class Shell:
        def run_cell_magic(self, magic: str, line: str, cell: str) -> None:
            if magic in ("time", "timeit", "capture", "prun"):
                exec(compile(cell, f"<%%{magic} cell>", "exec"), module.__dict__)

        def __getattr__(self, name: str) -> Any:
            return lambda *args, **kwargs: None

    shell = Shell()

    def display(*objects: Any, **options: Any) -> None:
        print(*map(repr, objects))

    return {"get_ipython": lambda: shell, "display": display}


def _clear_keyrings(ctypes: Any) -> None:
    """Empty the kernel keyrings of this uid, before the submission runs.

    A user's keyring outlives its processes: a sandbox given the uid another had before
    would find what that one left there (a channel between students). Its keys are the
    uid's, so the worker, still running only this file, empties them itself.
    """
    import platform

    keyctl = {"x86_64": 250, "aarch64": 219}.get(platform.machine())
    if keyctl is not None:
        libc = ctypes.CDLL(None)
        for keyring in (-4, -5):  # KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING
            libc.syscall(keyctl, 7, ctypes.c_int(keyring))  # KEYCTL_CLEAR


def _orphan_watch(fd: int) -> None:
    """End the worker when the checker's end of the request pipe closes (the checker died)."""

    def watch() -> None:
        poll = select.poll()
        poll.register(fd, 0)  # hang-up is always reported
        while True:
            if poll.poll():  # hang-up, or an error: the fd was closed under us
                os._exit(70)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str]) -> int:
    if argv[0] == "--init":  # --init UID GID, -1 to keep the user
        uid, gid, argv = int(argv[1]), int(argv[2]), argv[3:]
        _init([int(argv[0]), int(argv[1])], None if uid < 0 else (uid, gid))
    req_fd, resp_fd, memory_mb, cpu_seconds, output_cap, processes = map(int, argv[:6])
    libdir = argv[6]
    _limit(memory_mb, cpu_seconds, output_cap, processes)
    _orphan_watch(req_fd)
    # Not dumpable: another worker running as the same user (nobody, graded at the same
    # time without namespaces) cannot ptrace this one or read its /proc entries.
    import ctypes

    ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    if processes:  # in a sandbox, under a uid of its own (never the checker's keys)
        _clear_keyrings(ctypes)
    sys.stdout = _CappedText(1, output_cap)
    sys.stderr = _CappedText(2, output_cap)
    sys.path.insert(0, libdir)
    import numpy as np

    # Bound now, so a submission that patches numpy or json does not change the protocol
    # by accident (on purpose it can; the checker does not trust this process).
    write_array, load_array, ndarray, generic = (
        np.lib.format.write_array,
        np.load,
        np.ndarray,
        np.generic,
    )
    asarray, dumps, loads = np.asarray, json.dumps, json.loads
    module = types.ModuleType("submission")
    module.__dict__["__builtins__"] = dict(vars(builtins), **_notebook_builtins(module))
    cell_names: set[str] = set()
    sys.modules["submission"] = module
    reader = os.fdopen(req_fd, "rb", buffering=0)

    def read_exact(n: int) -> bytes:
        chunks, left = [], n
        while left:
            chunk = reader.read(left)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def receive() -> tuple[dict[str, Any], list[bytes]]:
        (size,) = _FRAME.unpack(read_exact(_FRAME.size))
        body = read_exact(size)
        (json_size,) = _HEADER.unpack_from(body)
        header = loads(body[_HEADER.size : _HEADER.size + json_size])
        blobs, at = [], _HEADER.size + json_size
        for n in header.get("blobs", []):
            blobs.append(body[at : at + n])
            at += n
        return header, blobs

    def send(header: dict[str, Any], blobs: list[bytes] = ()) -> None:  # type: ignore[assignment]
        header = dict(header, blobs=[len(b) for b in blobs])
        text = dumps(header).encode()
        body = b"".join([_HEADER.pack(len(text)), text, *blobs])
        data = _FRAME.pack(len(body)) + body
        while data:
            data = data[os.write(resp_fd, data) :]

    def decode(tree: Any, blobs: list[bytes]) -> Any:
        if "array" in tree:
            return load_array(io.BytesIO(blobs[tree["array"]]), allow_pickle=False)
        if "float" in tree:
            return float(tree["float"])
        items = [decode(t, blobs) for t in tree.get("list", tree.get("tuple", []))]
        return items if "list" in tree else tuple(items)

    def number(x: Any) -> bool:
        return type(x) in (bool, int, float) or (
            isinstance(x, generic) and type(x).__module__ == "numpy"
        )

    def numbers_only(x: Any, depth: int) -> bool:
        if type(x) in (list, tuple):
            return depth < _MAX_DEPTH and all(numbers_only(v, depth + 1) for v in x)
        return number(x)

    def plain(x: Any, where: str, depth: int = 0) -> Any:
        """`x` as plain data: numeric ndarrays, floats, lists and tuples of them."""
        kind = type(x)
        if kind is ndarray:
            if x.dtype.kind not in _NUMERIC or x.dtype.fields or x.dtype.subdtype:
                raise _Invalid(f"{where} is an array of dtype `{x.dtype}`, not numbers")
            return x
        if isinstance(x, ndarray):
            raise _Invalid(
                f"{where} is an ndarray subclass `{kind.__module__}.{kind.__qualname__}`;"
                " return a plain numpy.ndarray (numpy.asarray(x))"
            )
        if kind in (bool, int, float):
            try:
                return float(x)
            except OverflowError:
                raise _Invalid(f"{where} is an int too large for a float") from None
        if number(x):
            return plain(asarray(x), where, depth)
        if kind in (list, tuple):
            if numbers_only(x, depth):
                try:
                    return plain(asarray(x), where, depth)
                except ValueError as error:  # ragged nested lists
                    raise _Invalid(f"{where} is not a regular array: {error}") from None
            if depth >= _MAX_DEPTH:
                raise _Invalid(f"{where} is nested too deep")
            items = [plain(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(x)]
            return items if kind is list else tuple(items)
        if x is None:
            raise _Invalid(f"{where} is `None` (a missing `return`?)")
        raise _Invalid(f"{where} is a `{kind.__module__}.{kind.__qualname__}`, not a numeric array")

    def encode(x: Any, blobs: list[bytes]) -> Any:
        if type(x) is ndarray:
            buffer = io.BytesIO()
            write_array(buffer, x, allow_pickle=False)
            blobs.append(buffer.getvalue())
            return {"array": len(blobs) - 1}
        if type(x) is float:
            return {"float": x}
        key = "list" if type(x) is list else "tuple"
        return {key: [encode(v, blobs) for v in x]}

    def fingerprint(x: Any) -> Any:
        """What of an argument a call must leave as it was: types, shapes, dtypes, bytes."""
        if type(x) is ndarray:
            return x.shape, x.dtype.str, x.tobytes()
        if type(x) in (list, tuple):
            return type(x), [fingerprint(v) for v in x]
        try:
            return type(x), repr(x)  # a float, or what the call put in an argument's place
        except Exception:
            return object()  # equal to nothing: changed

    def failure(error: BaseException, skip: int) -> dict[str, Any]:
        tb = error.__traceback__
        for _ in range(skip):
            tb = tb.tb_next if tb is not None else None
        frames = traceback.extract_tb(tb)
        own = [f for f in frames if f.filename in cell_names]
        where = own[-1] if own else None
        try:
            if isinstance(error, SystemExit):
                message = f"called sys.exit({error.code!r})"
            else:
                message = "".join(traceback.format_exception_only(error)).strip()
            text = "".join(traceback.format_exception(type(error), error, tb))
        except BaseException:  # a hostile __str__
            message, text = f"raised {type(error).__name__}", ""
        return {
            "status": "error",
            "message": message[:_MAX_TEXT],
            "traceback": text[-_MAX_TEXT:],
            "exception": type(error).__name__,
            "memory": isinstance(error, MemoryError),
            "where": None if where is None else [where.filename, where.lineno],
        }

    def syntax(error: SyntaxError) -> dict[str, Any]:
        return {
            "status": "error",
            "message": f"{type(error).__name__}: {error.msg}",
            "traceback": "".join(traceback.format_exception_only(error)),
            "exception": type(error).__name__,
            "where": [error.filename, error.lineno],
        }

    def load(header: dict[str, Any]) -> dict[str, Any]:
        """Run the cells in order. A `.py` file is one cell: its error is the load's.

        A notebook's cells run as nbgrader and otter run them: a cell that fails (a syntax
        error, an exception, an exit) is recorded in `cell_errors` and the next cell
        runs, so what the other cells define is graded.
        """
        module.__file__ = header["file"]
        cells = [(str(name), str(text)) for name, text in header["cells"]]
        notebook = header.get("keep_going") is True
        cell_errors: list[dict[str, Any]] = []
        for name, text in cells:
            cell_names.add(name)
            linecache.cache[name] = (len(text), None, text.splitlines(True), name)
        for name, text in cells:
            try:
                code = compile(text, name, "exec", dont_inherit=True)
            except SyntaxError as error:
                if not notebook:
                    return syntax(error)
                cell_errors.append(syntax(error))
                continue
            try:
                exec(code, module.__dict__)
            except BaseException as error:
                if not notebook:
                    return failure(error, skip=1)
                record = failure(error, skip=1)
                if record.get("where") is None:
                    record["where"] = [name, None]
                cell_errors.append(record)
            finally:
                sys.stdout.flush()
        names = sorted(
            k for k, v in list(module.__dict__.items()) if type(k) is str and callable(v)
        )
        return {"status": "ok", "names": names, "cell_errors": cell_errors}

    def call(header: dict[str, Any], blobs: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
        args = [decode(t, blobs) for t in header["args"]]
        before = [fingerprint(a) for a in args]
        function = module.__dict__.get(header["name"])
        if not callable(function):
            return {"status": "error", "message": f"no function `{header['name']}`"}, []
        try:
            result = function(*args)
        except BaseException as error:
            return failure(error, skip=1), []
        finally:
            sys.stdout.flush()
        mutated = [i for i, a in enumerate(args) if fingerprint(a) != before[i]]
        out: list[bytes] = []
        try:
            value = encode(plain(result, "the result"), out)
        except _Invalid as error:
            return {"status": "invalid", "message": str(error), "mutated": mutated}, []
        return {"status": "ok", "value": value, "mutated": mutated}, out

    send({"status": "ready", "pid": os.getpid(), "uid": os.getuid(), "numpy": np.__version__})
    while True:
        try:
            header, blobs = receive()
        except EOFError:
            return 0
        if header["op"] == "load":
            send(load(header))
        elif header["op"] == "call":
            send(*call(header, blobs))
        else:
            return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
