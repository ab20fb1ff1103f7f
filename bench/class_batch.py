"""Benchmark: grade a generated class of 200 submissions, kill the batch midway, resume.

    python bench/class_batch.py [--students 200] [--jobs 2] [--scaling]

Writes a class (correct, buggy: mutants of examples/solution.py, hostile: an infinite
loop, a memory bomb, an output flood, `os._exit` at import, a syntax error) to a
temporary folder, then:

1. grades it with ``backprop-check CLASS --jobs N --output DIR``: total time, submissions
   per minute, peak memory (the checker's and its children's `ru_maxrss`, and the peak
   proportional set size of the whole process tree, sampled every 0.1 s);
2. grades it again into another folder, ``kill -9``s the batch (its process group) when
   half the reports are written, and runs the same command with ``--resume``;
3. checks that nothing is lost: every submission has exactly one report, identical to the
   clean run's (verbatim, and up to the sandbox's two known run-to-run artefacts), and the
   gradebook is the same;
4. with ``--scaling``, grades the first 40 non-hostile submissions with 1, 2 and 4 jobs.

Not part of the test suite (minutes, not seconds); tests/cli runs a small kill/resume.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from checks.grader.sandbox._procs import process_table  # noqa: E402
from tests.cli._class import HOSTILE, write_class  # noqa: E402

# Runs the command in a child Python and writes its resource usage to the file in argv[1].
_WRAPPER = """
import json, resource, sys
from checks.cli import main
status = main(sys.argv[2:])
own = resource.getrusage(resource.RUSAGE_SELF)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    json.dump({"status": status, "self_maxrss_kb": own.ru_maxrss,
               "children_maxrss_kb": children.ru_maxrss,
               "self_cpu_s": own.ru_utime + own.ru_stime,
               "children_cpu_s": children.ru_utime + children.ru_stime}, f)
"""
_UNSHARE = re.compile(r"^unshare: [^\n]*\n", re.MULTILINE)
_SANDBOX = re.compile(r"/tmp/backprop-check-[^/]+/")


def _env() -> dict[str, str]:
    return dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    )


def _tree(root: int) -> list[int]:
    """`root` and every live descendant, from the process table the sandbox reads."""
    parents = {pid: ppid for pid, (ppid, *_) in process_table().items()}
    found, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class _Sampler(threading.Thread):
    """The peak, over time, of the summed PSS of a process tree."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak_kb, self.peak_processes = root, 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            pids = _tree(self.root)
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in pids))
            self.peak_processes = max(self.peak_processes, len(pids))


def _batch(
    argv: list[str], usage: Path, *, kill_at: int | None = None, reports: Path | None = None
) -> dict[str, Any]:
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", _WRAPPER, str(usage), *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=_env(),
    )
    sampler = _Sampler(process.pid)
    sampler.start()
    killed = None
    if kill_at is not None:
        assert reports is not None
        while len(list(reports.glob("*.json"))) < kill_at:
            if process.poll() is not None:
                raise SystemExit("the batch ended before it could be killed")
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
        killed = len(list(reports.glob("*.json")))
    process.wait()
    seconds = time.monotonic() - started
    sampler.done.set()
    sampler.join()
    result: dict[str, Any] = {
        "seconds": round(seconds, 1),
        "peak_tree_pss_mb": round(sampler.peak_kb / 1024),
        "peak_processes": sampler.peak_processes,
    }
    if killed is not None:
        time.sleep(1.0)
        # Zombies wait for PID 1 to reap them; anything else would be a grader still running.
        group = [p for p in _all_pids() if _pgid(p) == process.pid and _state(p) not in "ZX"]
        result.update(killed_with_reports=killed, live_survivors_in_group=len(group))
    else:
        result.update(json.loads(usage.read_text()))
    return result


def _all_pids() -> list[int]:
    return [int(e) for e in os.listdir("/proc") if e.isdigit()]


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "X"
    return stat[stat.rindex(")") + 2]


def _reports(folder: Path) -> dict[str, Any]:
    return {
        p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))
    }


def _stable(report: dict[str, Any]) -> dict[str, Any]:
    stable: dict[str, Any] = json.loads(_SANDBOX.sub("<sandbox>/", json.dumps(report)))
    output = _UNSHARE.sub("", stable.get("output", ""))
    stable["output"] = re.sub(r"\n?stderr:\n$", "", output)
    return stable


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scaling", action="store_true")
    args = parser.parse_args()
    hostile = max(len(HOSTILE), args.students // 10)
    correct = (args.students - hostile) // 2
    buggy = args.students - hostile - correct
    figures: dict[str, Any] = {
        "students": args.students,
        "correct": correct,
        "buggy": buggy,
        "hostile": hostile,
        "jobs": args.jobs,
        "cores": os.cpu_count(),
        "load_average_before": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="class-batch-") as tmp:
        root = Path(tmp)
        keys = write_class(root / "class", correct=correct, buggy=buggy, hostile=hostile, seed=2026)
        common = [str(root / "class"), "--jobs", str(args.jobs), "--format", "csv"]
        clean = _batch([*common, "--output", str(root / "clean")], root / "clean.json")
        clean["submissions_per_minute"] = round(60 * args.students / clean["seconds"], 1)
        figures["clean"] = clean
        print("clean run:", clean, flush=True)

        out = root / "killed"
        killed = _batch(
            [*common, "--output", str(out)],
            root / "killed.json",
            kill_at=args.students // 2,
            reports=out / "reports",
        )
        resumed = _batch([*common, "--output", str(out), "--resume"], root / "resumed.json")
        figures["killed"], figures["resumed"] = killed, resumed
        print("killed:", killed, "\nresumed:", resumed, flush=True)

        expected, got = _reports(root / "clean" / "reports"), _reports(out / "reports")
        files = sorted(p.name for p in (out / "reports").iterdir())
        figures["check"] = {
            "one_report_each": files == sorted(k + ".json" for k in keys),
            "identical_verbatim": sum(expected[k] == got.get(k) for k in expected),
            "identical_but_sandbox_artefacts": sum(
                _stable(expected[k]) == _stable(got[k]) for k in expected if k in got
            ),
            "of": len(keys),
            "same_gradebook": (root / "clean" / "grades.csv").read_bytes()
            == (out / "grades.csv").read_bytes(),
            "grading_errors": sum(bool(r.get("error")) for r in expected.values()),
        }
        print("check:", figures["check"], flush=True)

        if args.scaling:
            sample = root / "sample"
            sample.mkdir()
            moved = 0
            for key in keys:
                source = root / "class" / key
                text = (source / "backprop.py" if source.is_dir() else source).read_text()
                if text in HOSTILE.values():
                    continue
                (sample / f"s{moved:02d}.py").write_text(text)
                moved += 1
                if moved == 40:
                    break
            figures["scaling"] = {}
            for jobs in (1, 2, 4):
                run = _batch(
                    [
                        str(sample),
                        "--jobs",
                        str(jobs),
                        "--format",
                        "csv",
                        "--output",
                        str(root / f"jobs{jobs}"),
                    ],
                    root / f"jobs{jobs}.json",
                )
                run["submissions_per_minute"] = round(60 * 40 / run["seconds"], 1)
                figures["scaling"][jobs] = run
                print(f"jobs {jobs}:", run, flush=True)
    figures["load_average_after"] = os.getloadavg()
    print(json.dumps(figures, indent=2))
    check = figures["check"]
    return (
        0
        if check["one_report_each"] and check["identical_but_sandbox_artefacts"] == check["of"]
        else 1
    )


if __name__ == "__main__":
    raise SystemExit(main())
