"""`--output DIR`: each report written as soon as it is known, so that nothing is lost.

```
DIR/batch.json            the seed and configuration the reports were graded with
DIR/reports/<key>.json    one report per submission (`alice.py.json`, `bob.json`)
DIR/repro/<key>/repro_<function>.py   the snippet that reproduces each failure
DIR/summary.json          the class at a glance (`checks.formats.summarize`), at the end
DIR/<file>                the chosen format (`grades.csv`, `report.html`, ...), at the end
```

Every file is written whole or not at all (a temporary file, then an atomic rename), so
a batch killed at any moment leaves only complete reports, and `--resume` grades
exactly the submissions without one. `batch.json` makes sure the reports resumed from
were graded with the same seed and configuration.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from checks.grader.batch._run import Submission
from checks.grader.config import Config
from checks.grader.judge import snippet_of
from checks.grader.report import Report, check_report

__all__ = ["BatchError", "Store", "manifest", "report_file", "write_atomic"]

_MANIFEST = "batch.json"
_REPORTS = "reports"
_REPRO = "repro"
_PARTIAL = ".part"
_NAME_MAX = 255  # bytes of one file name (ext4, xfs, btrfs, tmpfs...)


class BatchError(ValueError):
    """An output folder that cannot be used as asked; the message says why and what to do."""


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all: a temporary file beside it, then a rename."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=_PARTIAL)
    try:
        # mkstemp makes the file 0600; the result is an ordinary file, which TAs sharing
        # the folder read: the permissions `open()` would give it, the umask's.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it (`/proc`)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: set and restore, the only portable way
    os.umask(mask)
    return mask


def report_file(key: str) -> str:
    """The name of the report file of the submission named `key` in its folder.

    ``<key>.json`` when that is a valid file name; a name too long for the file system
    with the extension (a file name may be 255 bytes, so ``.json`` does not always fit)
    becomes its first 100 bytes, ``~`` and a hash of the whole, so that every name maps
    to a distinct file, the same from run to run (`--resume` finds it).
    """
    encoded = os.fsencode(key)
    name = key + ".json"
    if key not in ("", ".", "..") and "/" not in key and len(encoded) + 5 <= _NAME_MAX:
        return name
    head = os.fsdecode(encoded[:100].decode("utf-8", "ignore").encode()).replace("/", "_")
    return f"{head}~{hashlib.sha256(encoded).hexdigest()[:16]}.json"


def manifest(config: Config, seed: int) -> dict[str, Any]:
    """What a batch's reports depend on besides the submissions: seed, configuration, checker."""
    settings = dataclasses.asdict(config)
    settings["hidden"] = sorted(config.hidden)
    settings["names"] = dict(sorted(config.names.items()))
    settings["points"] = dict(sorted(config.points.items()))
    settings["depths"] = list(config.depths)  # as JSON reads it back
    settings.pop("seed")  # the seed in force is `seed`
    settings.pop("path")  # where the settings were read from is not one of them
    return {"checker": "backprop-check", "version": _version(), "seed": seed, "config": settings}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("backprop-check")
    except PackageNotFoundError:
        return "unknown"


class Store:
    """The output folder of a batch (module docstring).

    Use `Store.open`, which checks the folder and, unless resuming, starts it over.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.reports = root / _REPORTS

    @classmethod
    def open(cls, root: str | Path, settings: dict[str, Any], *, resume: bool) -> Store:
        """Prepare `root` for a batch graded with `settings` (see `manifest`).

        Resuming keeps the reports there, if they were graded with the same settings;
        otherwise the reports there are removed first, so the folder never mixes two
        gradings. A folder that backprop-check did not make is never emptied.

        Raises
        ------
        BatchError
            When `root` is not a folder, holds reports of other settings (resuming), or
            holds files it did not write in `reports/`.
        """
        store = cls(Path(root))
        if store.root.exists() and not store.root.is_dir():
            raise BatchError(f"`--output` must be a folder, got the file `{store.root}`")
        store.reports.mkdir(parents=True, exist_ok=True)
        found = store._read_manifest()
        if found is None and any(store.reports.glob("*.json")):
            raise BatchError(
                f"`{store.reports}` holds reports but `{store.root / _MANIFEST}` is missing, so "
                "backprop-check did not write them; choose another `--output`"
            )
        if resume and found is not None and found != settings:
            differ = ", ".join(k for k in settings if found.get(k) != settings[k])
            raise BatchError(
                f"the reports in `{store.root}` were graded with another {differ}; grade "
                "again without `--resume`, or choose another `--output`"
            )
        for partial in store.reports.glob("*" + _PARTIAL):  # left by a killed batch
            partial.unlink()
        if not resume:
            for old in store.reports.glob("*.json"):
                old.unlink()
        if found != settings:
            write_atomic(store.root / _MANIFEST, json.dumps(settings, indent=2) + "\n")
        return store

    def _read_manifest(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.root / _MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise BatchError(f"`{self.root / _MANIFEST}` is unreadable: {exc}") from exc
        if not isinstance(data, dict) or data.get("checker") != "backprop-check":
            raise BatchError(
                f"`{self.root / _MANIFEST}` was not written by backprop-check; choose another "
                "`--output`"
            )
        return data

    def path_of(self, submission: Submission) -> Path:
        return self.reports / report_file(submission.key)

    def load(self, submission: Submission) -> Report | None:
        """The report kept for `submission`, or None when there is no usable one."""
        try:
            data = json.loads(self.path_of(submission).read_text(encoding="utf-8"))
            report = check_report(data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError):
            return None  # unreadable: graded again, and overwritten
        report["submission"] = submission.name  # the folder may be spelled differently now
        return report

    def save(self, submission: Submission, report: Report) -> None:
        write_atomic(self.path_of(submission), json.dumps(report, indent=2) + "\n")
        self._save_snippets(submission, report)

    def _save_snippets(self, submission: Submission, report: Report) -> None:
        """Each function's reproduction snippet as `repro/<key>/repro_<function>.py`.

        The snippet is the one the message shows (`checks.grader.judge.snippet_of`);
        it runs in the submission's folder, where it imports the student's file.
        """
        folder = self.root / _REPRO / submission.key
        for old in folder.glob("repro_*.py"):  # a function that now passes has none
            old.unlink()
        for fid, result in report["functions"].items():
            code = snippet_of(result["message"]) if not result.get("hidden") else None
            if code is not None and fid.isidentifier():
                folder.mkdir(parents=True, exist_ok=True)
                head = (
                    f"# Reproduces the failure of `{fid}` in {report['submission']}.\n"
                    "# Run it in the folder of the submission: python PATH/repro_" + fid + ".py\n"
                    "import sys\n\n"
                    "sys.path.insert(0, '')  # the folder it is run in, where the submission is\n"
                )
                write_atomic(folder / f"repro_{fid}.py", head + code)

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        write_atomic(path, text)
        return path

    def strays(self, submissions: list[Submission]) -> list[Path]:
        """Reports in the folder of no submission in `submissions`."""
        keep = {self.path_of(s) for s in submissions}
        return sorted(p for p in self.reports.glob("*.json") if p not in keep)
