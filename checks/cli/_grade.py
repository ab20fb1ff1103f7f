"""`backprop-check SUBMISSION`: grade a submission, or a folder of them, into one report.

A folder is graded `--jobs` submissions at a time (`checks.grader.batch._run`); with `--output DIR`
each report is written as soon as it is known (`checks.grader.batch._store`), and `--resume`
grades only the submissions without one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from checks.cli._options import resolve_seed
from checks.formats import (
    Report,
    summarize,
    to_csv,
    to_gradescope,
    to_html,
    to_json,
    to_junit,
    to_markdown,
    to_text,
    to_text_summary,
)
from checks.grader.batch import BatchError, Store, Submission, default_jobs, grade_all, manifest
from checks.grader.config import Config, ConfigError, load_config

__all__ = ["FILES", "FORMATS", "NO_ISOLATION", "find_submissions", "run"]

NO_ISOLATION = 3
"""The exit status when no sandbox can be made here (and `--isolation none` was not given)."""

SUFFIXES = (".py", ".ipynb")

FORMATS: dict[str, Callable[[list[Report], bool], str]] = {
    "text": lambda reports, color: (
        "\n".join(to_text(r, color=color) for r in reports)
        + (to_text_summary(reports, color=color) if len(reports) > 1 else "")
    ),
    "json": lambda reports, color: to_json(reports),
    "junit": lambda reports, color: to_junit(reports),
    "markdown": lambda reports, color: to_markdown(reports),
    "csv": lambda reports, color: to_csv(reports),
    "html": lambda reports, color: to_html(reports),
    "gradescope": lambda reports, color: to_gradescope(reports[0]),
}

FILES = {
    "text": "report.txt",
    "json": "reports.jsonl",
    "junit": "junit.xml",
    "markdown": "report.md",
    "csv": "grades.csv",
    "html": "report.html",
    "gradescope": "results.json",
}
"""The file `--output DIR` writes the chosen format to, in DIR."""


def find_submissions(path: Path) -> list[Submission]:
    """The submissions under `path`, each with the name it is reported under.

    A file is one submission. A folder holds one per `.py`/`.ipynb` file, and one per
    subfolder (named after the subfolder: the student), which must hold exactly one
    such file. Nothing found here stops the class: a symbolic link, a file that is not
    regular, or a student's folder with several submissions is still that student's
    submission, graded as not loading, with the reason (`read_source`).
    """
    if not path.is_dir() or path.is_symlink():
        return [Submission(path, str(path), path.name)]
    found = []
    for child in sorted(path.iterdir()):
        if child.name.startswith((".", "__")) and child.is_dir():
            continue
        if child.is_symlink() or not child.is_dir():
            if child.suffix in SUFFIXES or (child.is_symlink() and child.is_dir()):
                found.append(Submission(child, str(child), child.name))
            continue
        inside = sorted(
            p
            for p in child.iterdir()
            if p.suffix in SUFFIXES and (p.is_symlink() or not p.is_dir())
        )
        if len(inside) == 1:
            found.append(Submission(inside[0], str(child), child.name))
        elif inside:  # refused when graded, with the names of the files
            found.append(Submission(child, str(child), child.name))
    return found


def run(args: argparse.Namespace) -> int:
    """Grade; exit 0 only when every function of every submission passes."""
    path = Path(args.submission)
    if not path.exists():
        raise SystemExit(f"backprop-check: no such file or folder: `{path}`")
    if path.is_file() and path.suffix not in SUFFIXES:
        raise SystemExit(
            f"backprop-check: a submission is a .py file or an .ipynb notebook, got `{path}`"
        )
    if args.resume and args.output is None:
        raise SystemExit("backprop-check: `--resume` needs `--output DIR`, the reports to resume")
    try:
        config = load_config(args.config) if args.config else Config()
    except ConfigError as exc:
        raise SystemExit(f"backprop-check: {exc}") from exc
    seed = resolve_seed(args.seed, config.seed)
    submissions = find_submissions(path)
    if not submissions:
        raise SystemExit(f"backprop-check: no .py or .ipynb submission in `{path}`")
    if args.format == "gradescope" and len(submissions) != 1:
        raise SystemExit("backprop-check: `--format gradescope` grades exactly one submission")
    store = None
    if args.output is not None:
        try:
            store = Store.open(args.output, manifest(config, seed), resume=args.resume)
        except (BatchError, OSError) as exc:
            raise SystemExit(f"backprop-check: {exc}") from exc
    kept = {s.key: r for s in submissions if store and args.resume and (r := store.load(s))}
    todo = [s for s in submissions if s.key not in kept]
    isolation = getattr(args, "isolation", "auto")
    try:
        from checks.grader.sandbox import IsolationUnavailable, probe_isolation

        probe_isolation(isolation)  # type: ignore[arg-type]
    except IsolationUnavailable as exc:
        print(f"backprop-check: {exc}", file=sys.stderr)
        return NO_ISOLATION
    if isolation == "none":
        print(
            "backprop-check: WARNING: --isolation none: the submissions run WITHOUT"
            f" isolation, as {_whoami()}, and can read, change and delete your files;"
            " use it for your own code only",
            file=sys.stderr,
        )
    progress = _Progress(len(submissions), len(kept), sys.stderr) if sys.stderr.isatty() else None

    def on_report(submission: Submission, report: Report) -> None:
        if store is not None:
            store.save(submission, report)
        if progress is not None:
            progress.advance(submission.name)

    jobs = args.jobs or default_jobs()
    try:
        graded = grade_all(
            todo, config, seed=seed, jobs=jobs, on_report=on_report, isolation=isolation
        )
    except KeyboardInterrupt:
        graded = None
    finally:
        if progress is not None:
            progress.close()
    if graded is None:
        kept_now = f"; the reports graded so far are in `{store.reports}`" if store else ""
        print(f"backprop-check: interrupted{kept_now}", file=sys.stderr)
        if store is not None:
            print("backprop-check: run it again with --resume to finish", file=sys.stderr)
        return 130
    reports = sorted({**kept, **graded}.values(), key=lambda r: r["submission"])
    if store is None:
        color = args.format == "text" and sys.stdout.isatty()
        sys.stdout.write(FORMATS[args.format](reports, color))
    else:
        _write_output(store, reports, args.format, submissions)
    everything_passes = all(
        result["verdict"] == "pass" for report in reports for result in report["functions"].values()
    )
    return 0 if everything_passes else 1


def _whoami() -> str:
    import pwd

    try:
        return f"user `{pwd.getpwuid(os.getuid()).pw_name}`"
    except KeyError:
        return f"uid {os.getuid()}"


def _write_output(store: Store, reports: list[Report], form: str, subs: list[Submission]) -> None:
    summary = store.write("summary.json", json.dumps(summarize(reports), indent=2) + "\n")
    chosen = store.write(FILES[form], FORMATS[form](reports, False))
    if form == "json":
        sys.stdout.write(json.dumps(summarize(reports)) + "\n")
        return
    color = sys.stdout.isatty()
    sys.stdout.write(to_text_summary(reports, color=color))
    sys.stdout.write(f"reports in {store.reports}/, summary in {summary}, {form} in {chosen}\n")
    strays = store.strays(subs)
    if strays:
        print(
            f"backprop-check: {len(strays)} report(s) in `{store.reports}` are of no submission "
            f"in the folder, and were left out (the first: `{strays[0].name}`)",
            file=sys.stderr,
        )


class _Progress:
    """`[#######.......]  12/200  0:14  alice.py` on one line of a terminal, redrawn in place."""

    def __init__(self, total: int, done: int, stream: TextIO, width: int = 30) -> None:
        self.total, self.done, self.stream, self.width = total, done, stream, width
        self.started = time.monotonic()
        self._draw("")

    def advance(self, name: str) -> None:
        self.done += 1
        self._draw(name)

    def _draw(self, name: str) -> None:
        filled = self.width * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        minutes, seconds = divmod(int(time.monotonic() - self.started), 60)
        line = f"[{bar}] {self.done:>{len(str(self.total))}}/{self.total} {minutes}:{seconds:02d} "
        # The whole line must fit the terminal, or redrawing it in place breaks.
        room = shutil.get_terminal_size().columns - 1 - len(line)
        shown = "".join(c if c.isprintable() else "?" for c in name)
        if len(shown) > room:
            shown = "…" + shown[len(shown) - room + 1 :] if room > 1 else ""
        self.stream.write("\r\x1b[K" + line + shown)
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()
