"""Start the worker under one of the isolation strategies, and kill all it started."""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["describe_exit", "kill_tree", "launch", "ns_init_pid", "process_table"]

_PACKAGES = ("numpy", "scipy")  # all a submission may import beyond the stdlib
_CHECKER = ("checks", "backprop")
_CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
# New PID, mount, network (no network at all), IPC and host-name namespaces.
_UNSHARE = ["--pid", "--fork", "--kill-child", "--mount-proc", "--net", "--ipc", "--uts", "--"]
_SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/proc", "/dev", "/sys")
_SCRATCH_OPTIONS = b"size=64m,mode=1777"  # each; in memory, freed with the namespace
# `python -I -S`, except that -I's -E would also ignore PYTHONHASHSEED: the environment
# is ours alone (below), so -s -P keep user site-packages and the script's folder off
# sys.path, and a fixed hash seed keeps set and dict orders the same from run to run.
_FLAGS = ("-s", "-S", "-P")
_ENV = {
    "PYTHONHASHSEED": "0",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    # One BLAS thread: less memory reserved under RLIMIT_AS, and reproducible sums.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def launch(
    strategy: str, run: Path, hide: Sequence[Path] = ()
) -> tuple[list[str], dict[str, Any], tuple[int, int] | None]:
    """The command line and `subprocess.Popen` arguments that start the worker's Python,
    and the user (uid, gid) its init must make it, or None to keep the one it starts as.

    Prepares `run/lib` (numpy and scipy, nothing else) and `run/tmp` (the worker's
    home). With ``namespaces``, the files and directories in `hide` look empty to the
    worker, as do site-packages and the checker's source trees. Raises `OSError` when
    the strategy cannot work here.
    """
    nobody = _nobody() if strategy in ("namespaces", "nobody") else None
    tmp = run / "tmp"
    tmp.mkdir(mode=0o700, exist_ok=True)
    if nobody is not None:
        os.chown(tmp, *nobody)
    env = dict(_ENV, HOME=str(tmp), TMPDIR=str(tmp))
    lib = run / "lib"
    lib.mkdir(mode=0o755, exist_ok=True)
    packages = _package_dirs()
    for name in packages:
        entry = lib / name
        if entry.is_symlink():
            entry.unlink()
        elif entry.is_dir():
            entry.rmdir()
    python = Path(sys.executable).resolve()
    unshare = shutil.which("unshare", path="/usr/bin:/bin:/usr/sbin:/sbin")
    if unshare is None and strategy in ("namespaces", "user-namespaces"):
        raise OSError("util-linux `unshare` is not installed")
    if strategy != "namespaces":
        for name, source in packages.items():
            (lib / name).symlink_to(source)
        argv = [str(python), *_FLAGS]
        if strategy == "user-namespaces":
            argv[:0] = [str(unshare), "--user", "--map-current-user", *_UNSHARE]
        return argv, {"env": env}, nobody
    assert nobody is not None and unshare is not None
    prefix = Path(sys.base_prefix).resolve()
    if not python.is_relative_to(prefix):
        raise OSError(f"the interpreter `{python}` is not under its prefix `{prefix}`")
    view = run / "prefix"
    view.mkdir(mode=0o755, exist_ok=True)
    binds = [(prefix, view)]
    for name, source in packages.items():
        (lib / name).mkdir(mode=0o755)
        binds.append((Path(source), lib / name))
    hidden = {Path(p).resolve().parent for p in packages.values()}
    hidden.update(Path(h).resolve() for h in hide if Path(h).exists())
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    if site.is_relative_to(prefix) and (view / site.relative_to(prefix)).exists():
        hidden.add(view / site.relative_to(prefix))
    for name in _CHECKER:  # the checker's source trees, wherever it runs from
        spec = importlib.util.find_spec(name)
        for where in (spec.submodule_search_locations or []) if spec else []:
            package = Path(where).resolve()
            hidden.add(package)
            hidden.add(package.parent)
    env["LD_LIBRARY_PATH"] = str(view / "lib")  # a shared libpython, found via `view`
    argv = [
        unshare,
        *_UNSHARE[:-1],
        f"--setuid={nobody[0]}",
        f"--setgid={nobody[1]}",
        "--",
        str(view / python.relative_to(prefix)),
        *_FLAGS,
    ]
    # Never the worker's own directory, nor what the system needs (libc, unshare, /proc).
    needed = [run, *(Path(p) for p in _SYSTEM)]
    hidden = {h for h in hidden if not any(n.is_relative_to(h) for n in needed)}
    outermost = [h for h in hidden if not any(h != o and h.is_relative_to(o) for o in hidden)]
    env.update(HOME="/tmp", TMPDIR="/tmp")  # a private tmpfs, below
    return argv, {"env": env, "preexec_fn": _mounter(binds, sorted(outermost), run)}, None


def _nobody() -> tuple[int, int]:
    if os.geteuid() != 0:
        raise OSError("only root can run the worker as another user")
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def _package_dirs() -> dict[str, str]:
    found = {}
    for name in _PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        source = Path(spec.submodule_search_locations[0]).resolve()
        found[name] = str(source)
        libs = source.with_name(name + ".libs")  # the wheels' vendored shared libraries
        if libs.is_dir():
            found[libs.name] = str(libs)
    return found


def _mounter(binds: list[tuple[Path, Path]], hidden: list[Path], run: Path) -> Callable[[], None]:
    """A `preexec_fn`: in a new mount namespace, bind what the worker needs, hide the rest.

    The world-writable directories (``/tmp``...) become small private tmpfs, so the
    submission can neither fill the disk, nor leave files behind, nor read other
    sandboxes' files; `run` is bound back at its path, through a file descriptor
    opened before ``/tmp`` was covered.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_char_p,
    ]
    empty = _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
    steps: list[tuple[bytes, bytes, bytes | None, int, bytes | None]]
    steps = [(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None)]
    steps += [(os.fsencode(s), os.fsencode(t), None, _MS_BIND | _MS_REC, None) for s, t in binds]
    for path in hidden:  # an empty directory over a directory, /dev/null over a file
        if path.is_dir():
            steps.append((b"tmpfs", os.fsencode(path), b"tmpfs", empty, b"size=4k,mode=555"))
        else:
            steps.append((b"/dev/null", os.fsencode(path), None, _MS_BIND, None))

    def fail(what: bytes) -> None:
        number = ctypes.get_errno()
        os.write(2, b"(" + what + b": " + os.strerror(number).encode() + b")")
        raise OSError(number, os.strerror(number))

    scratch = [os.fsencode(p) for p in _SCRATCH if os.path.isdir(p) and not os.path.islink(p)]
    private = _MS_NOSUID | _MS_NODEV

    def mount() -> None:  # runs after fork, before exec
        if libc.unshare(_CLONE_NEWNS) != 0:
            fail(b"unshare(CLONE_NEWNS)")
        for step in steps:
            if libc.mount(*step) != 0:
                fail(b"mount " + step[1])
        held = os.open(run, os.O_PATH | os.O_DIRECTORY)
        for path in scratch:
            if libc.mount(b"tmpfs", path, b"tmpfs", private, _SCRATCH_OPTIONS) != 0:
                fail(b"mount " + path)
        os.makedirs(run, exist_ok=True)
        if (
            libc.mount(
                f"/proc/self/fd/{held}".encode(), os.fsencode(run), None, _MS_BIND | _MS_REC, None
            )
            != 0
        ):
            fail(b"mount " + os.fsencode(run))
        os.close(held)

    return mount


def ns_init_pid(pid: int) -> int | None:
    """The child of `unshare` (the worker, init of its PID namespace), as we see it."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = [str(p) for p, (parent, *_) in process_table().items() if parent == pid]
    return int(children[0]) if children else None


def process_table() -> dict[int, tuple[int, int, int, str]]:
    """Every live process: pid -> (ppid, pgid, sid, state), from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            table[int(entry)] = (int(fields[1]), int(fields[2]), int(fields[3]), fields[0])
    return table


def kill_tree(process: subprocess.Popen[bytes], pid: int, *, namespace: bool) -> None:
    """SIGKILL the worker's init and everything below it, its session and its group.

    In a PID namespace, `process` is util-linux ``unshare`` and is killed first: its
    ``--kill-child`` kills the namespace's init (`pid`), and with it every process in
    the namespace. (Killed the other way round, ``unshare`` would outlive the init and,
    failing to re-raise SIGKILL on itself, print "sigprocmask unblock failed" into the
    submission's stderr, on some runs and not others.) Otherwise the init (`process`,
    a child subreaper) is killed last: until then, whatever is orphaned is re-parented
    to it, so stays in the tree that is searched.
    """
    if namespace:
        with contextlib.suppress(OSError):
            process.kill()
    root = process.pid
    for _ in range(500):
        table = process_table()
        victims = {p for p, (_, pgid, sid, _) in table.items() if root in (pgid, sid)}
        frontier = [root, pid]
        while frontier:
            parent = frontier.pop()
            children = [p for p, (pp, *_) in table.items() if pp == parent and p not in victims]
            victims.update(children)
            frontier += children
        victims = {p for p in victims - {root} if table.get(p, (0, 0, 0, "Z"))[3] not in "ZX"}
        if not victims:
            break
        for victim in victims:
            with contextlib.suppress(OSError):
                os.kill(victim, signal.SIGKILL)
        time.sleep(0.001)
    with contextlib.suppress(OSError):
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def describe_exit(process: subprocess.Popen[bytes], *, cpu_seconds: int, memory_mb: int) -> str:
    """How the worker ended, in words (its init reports signal `n` as status `128 + n`)."""
    code = process.poll()
    if code is None:
        return "it closed its end of the reply pipe, and was killed"
    if code > 128:
        code = 128 - code
    if code >= 0:
        return f"it exited with status {code} (os._exit, or a fatal error)"
    number = -code
    name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
    if number == signal.SIGSEGV:
        return "it crashed with a segmentation fault (SIGSEGV)"
    if number == signal.SIGXCPU:
        return f"it used up the CPU-time limit of {cpu_seconds} s (SIGXCPU)"
    if number == signal.SIGKILL:
        return (
            f"it was killed by SIGKILL (past the CPU-time limit of {cpu_seconds} s,"
            f" out of memory with {memory_mb} MiB, or a signal it sent)"
        )
    return f"it was killed by {name}"
