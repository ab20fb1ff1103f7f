"""Attacks on the host, in whatever isolation this environment gives, or the refusal.

CI runs this file as root, as root without CAP_SYS_ADMIN (``capsh
--drop=cap_sys_admin``), with no user namespaces, and as an ordinary user (`.ci/run`).
Each attack is blocked with the right outcome, or the checker refuses to grade (exit
status 3). Where no sandbox can be made, the attack tests skip and say so by name, and
`test_the_checker_isolates_or_refuses` checks the refusal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from checks.grader.sandbox import IsolationUnavailable, Sandbox, probe_isolation

HOSTILE = Path(__file__).parent / "hostile"
REPO = Path(__file__).resolve().parents[2]
Z = np.array([[-1.5, 0.0, 2.0], [3.0, -0.5, 1.0]])


def _environment() -> str:
    status = Path("/proc/self/status").read_text()
    effective = int(
        next(line for line in status.splitlines() if line.startswith("CapEff")).split()[1], 16
    )
    try:
        userns = int(Path("/proc/sys/user/max_user_namespaces").read_text()) > 0
    except (OSError, ValueError):
        userns = False
    who = f"an ordinary user (uid {os.geteuid()})" if os.geteuid() != 0 else "root"
    if os.geteuid() == 0 and not effective & (1 << 21):
        who += " without CAP_SYS_ADMIN"
    return who + ("" if userns else " with no user namespaces")


ENVIRONMENT = _environment()
try:
    ISOLATION: str | None = probe_isolation()
    WHY_NOT = ""
except IsolationUnavailable as error:
    ISOLATION, WHY_NOT = None, str(error)

needs_sandbox = pytest.mark.skipif(
    ISOLATION is None,
    reason=f"no sandbox can be made as {ENVIRONMENT} here, so the checker refuses"
    f" (tested by test_the_checker_isolates_or_refuses): {WHY_NOT[:200]}",
)


def survivors(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except OSError:
            continue
    return found


def test_the_checker_isolates_or_refuses() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "checks", str(HOSTILE / "escapes.py")],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if ISOLATION is None:
        assert done.returncode == 3, done.stderr
        assert done.stdout == ""
        assert "no sandbox can be made here, so the submission was not run" in done.stderr
        assert "apt-get install bubblewrap" in done.stderr
    else:
        assert done.returncode == 1, done.stderr
        assert "  isolation: bubblewrap: " in done.stdout


@needs_sandbox
def test_the_host_is_out_of_reach() -> None:
    canary = subprocess.Popen(["sleep", "4244.5"])  # a process of the checker's user
    try:
        with Sandbox(HOSTILE / "escapes.py", call_timeout=10) as box:
            shadow = box.call("relu", [Z])
            assert (shadow.status, shadow.message) == (
                "error",
                "FileNotFoundError: [Errno 2] No such file or directory: '/etc/shadow'",
            )
            uid, euid, gid = box.call("loss", [Z, Z]).value
            assert uid == euid and uid not in (0, os.getuid()) and gid != 0
            left = box.call("decide", [Z]).value  # /run/lock, /var/lock, /dev/shm, /var/tmp, /tmp
            np.testing.assert_array_equal(left, [0.0, 0.0, 1.0, 0.0, 1.0])
            assert box.call("forward", [[], Z]).value == 0.0
            assert box.call("softmax", [Z]).status == "ok"  # its daemon started...
            # Kills all it can see or signal: its own sandbox only (which may end with it).
            assert box.call("relu_mask", [Z]).status in ("ok", "crashed")
            assert canary.poll() is None
        assert survivors("4243.5") == []  # ...and is gone with the sandbox
        for folder in ("/run/lock", "/var/lock", "/dev/shm", "/var/tmp", "/tmp"):
            assert not Path(folder, "backprop-check-escape-4243").exists()
    finally:
        canary.kill()
        canary.wait()


@pytest.fixture
def shared() -> Iterator[Path]:
    """A world-readable folder outside /tmp, as a class's files and a checkout are."""
    base = "/run" if os.access("/run", os.W_OK) else "/var/tmp"
    folder = Path(tempfile.mkdtemp(dir=base))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@needs_sandbox
def test_the_configuration_classmates_and_the_checker_are_out_of_reach(shared: Path) -> None:
    config = shared / "grading.toml"
    config.write_text("seed = 1234  # the hidden one\n")
    config.chmod(0o600)  # the instructor's: readable by the checker's user
    (shared / "class").mkdir()
    bob = shared / "class" / "bob.py"
    bob.write_text("def relu(z): ...  # Bob's work\n")
    installed = shared / "site-packages" / "checks" / "__init__.py"
    installed.parent.mkdir(parents=True)
    installed.write_text("# the installed checker\n")
    for path in (bob, installed):
        path.chmod(0o666)  # even writable by anyone: the sandbox does not show them
    alice = shared / "class" / "alice.py"
    alice.write_text(
        textwrap.dedent(f"""\
        def relu(z):
            done = []
            for path, mode in [({str(config)!r}, "r"), ({str(bob)!r}, "w"),
                               ({str(installed)!r}, "w"), ({str(bob)!r}, "r")]:
                try:
                    with open(path, mode) as stream:
                        stream.read() if mode == "r" else stream.write("full marks")
                    done.append(1.0)
                except OSError:
                    done.append(0.0)
            return done
        """)
    )
    alice.chmod(0o644)
    with Sandbox(alice) as box:
        np.testing.assert_array_equal(box.call("relu", [Z]).value, [0.0, 0.0, 0.0, 0.0])
    assert bob.read_text() == "def relu(z): ...  # Bob's work\n"
    assert installed.read_text() == "# the installed checker\n"


@needs_sandbox
def test_a_neighbour_cannot_use_up_the_process_limit() -> None:
    with Sandbox(HOSTILE / "forks.py") as greedy:
        outcome = greedy.call("relu", [0.0])  # forks until its limit, children kept
        assert outcome.status == "error" and "Resource temporarily unavailable" in outcome.message
        greedy_uid = None
        with Sandbox(HOSTILE / "escapes.py") as neighbour:
            uid = neighbour.call("loss", [Z, Z]).value[0]
            assert neighbour.isolation == greedy.isolation  # not a weaker one
        with Sandbox(HOSTILE / "escapes.py") as again:
            greedy_uid = again.call("loss", [Z, Z]).value[0]
        assert uid not in (0, os.getuid()) and greedy_uid not in (0, os.getuid())


@needs_sandbox
def test_memory_is_limited_for_the_sandbox_as_a_whole() -> None:
    with Sandbox(HOSTILE / "memory_children.py", memory_mb=768, call_timeout=20) as box:
        box.load()
        if "cgroup" not in box.isolation:
            pytest.skip(
                f"no cgroup is delegated to {ENVIRONMENT} here: only per-process limits"
                " hold (docs/grading.md says so)"
            )
        outcome = box.call("relu", [0.0])
    # 4 × 256 MiB > 768 MiB: the cgroup's OOM killer ends some children, or the worker;
    # each child alone is within its own address-space limit of 768 MiB.
    # (Without a cgroup, as with --isolation none, all four fill theirs.)
    assert outcome.status == "crashed" or (outcome.status == "ok" and outcome.value <= 2.0)


@needs_sandbox
@pytest.mark.skipif(
    __import__("platform").machine() not in ("x86_64", "aarch64"),
    reason="the keyring system calls are numbered for x86_64 and aarch64 only",
)
def test_a_sandbox_finds_nothing_a_previous_one_left_in_its_uids_keyring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from checks.grader.sandbox import _procs

    monkeypatch.setattr(_procs, "_UID_COUNT", 1)  # every sandbox the same uid, in turn
    with Sandbox(HOSTILE / "keyring.py") as first:
        assert first.call("relu", [0.0]).value > 0  # a key left in the uid's keyring
    with Sandbox(HOSTILE / "keyring.py") as second:
        assert second.call("relu_mask", [0.0]).value == -126.0  # ENOKEY: emptied
