"""`backprop-check grade SUBMISSION`: grade a submission, or a folder of them, into one report.

A folder is graded `--jobs` submissions at a time (`checks.grader.batch`); with `--output
DIR` each report is written as soon as it is known, and `--resume` grades only the
submissions without one. The grader and the writers are imported only to grade, so that
building the command's parser (`--help`, `errata`) stays cheap.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from checks.cli import options
from checks.cli._errors import FAILED, OK, UsageError
from checks.grader import SUBMISSION_SUFFIXES

if TYPE_CHECKING:
    from checks.formats import Report, Student
    from checks.grader.batch import Store, Submission

NO_ISOLATION = 3
"""The exit status when no sandbox can be made here (and `--isolation none` was not given)."""

__all__ = [
    "FILES",
    "FORMAT_NAMES",
    "NO_ISOLATION",
    "add_arguments",
    "find_submissions",
    "render",
    "run",
]

SUFFIXES = SUBMISSION_SUFFIXES

FORMAT_NAMES = ("csv", "gradescope", "html", "json", "junit", "markdown", "text")
LMS_NAMES = ("canvas", "gradescope", "moodle")  # checks.formats.LMS, without importing it

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The grading options: one `add_argument` each, checked by this parser only."""
    parser.add_argument(
        "submission", help="a student's .py file, .ipynb notebook, or a folder of them"
    )
    options.add_to_argparse(parser, (options.CONFIG, options.SEED))
    parser.add_argument(
        "--format",
        choices=FORMAT_NAMES,
        default="text",
        help="the report's format (default: %(default)s)",
    )
    options.add_to_argparse(parser, (options.EXAMPLES,))
    parser.add_argument(
        "--title",
        default=None,
        help="the HTML report's title (default: `backprop-check: class report`)",
    )
    options.add_to_argparse(parser, (options.ISOLATION,))
    batch = parser.add_argument_group("grading a folder (a class)")
    batch.add_argument(
        "--file",
        metavar="NAME",
        help="in each student folder, grade the file NAME (e.g. backprop_hw.py), whatever "
        "else the folder holds (default: its one .py or .ipynb file)",
    )
    batch.add_argument(
        "--roster",
        metavar="CSV",
        help="the class list (columns student_id, name, email, submission): the csv format "
        "is then one row per student (with --output: DIR/gradebook.csv too)",
    )
    batch.add_argument(
        "--lms",
        choices=LMS_NAMES,
        help="with --roster: the gradebook's columns for that LMS's grade import",
    )
    batch.add_argument(
        "--jobs",
        "-j",
        type=options.at_least_1,
        default=None,
        metavar="N",
        help="grade N submissions at once (default: the machine's cores)",
    )
    batch.add_argument(
        "--output",
        "-o",
        metavar="DIR",
        help="write each submission's JSON report to DIR/reports/ as soon as it is graded, "
        "then DIR/summary.json and the chosen format's file (grades.csv, report.html, ...); "
        "stdout then gets the class summary only (as JSON with --format json)",
    )
    batch.add_argument(
        "--resume",
        action="store_true",
        help="with --output: grade only the submissions without a report in DIR, then write "
        "the output of all of them",
    )


def color_wanted(stream: TextIO) -> bool:
    """Colour on a terminal, unless `NO_COLOR` is set to anything (no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def render(
    form: str,
    reports: list[Report],
    *,
    color: bool,
    title: str | None = None,
    roster: list[Student] | None = None,
    lms: str | None = None,
) -> str:
    """`reports` in the format `form` (one of `FORMAT_NAMES`); csv by student with `roster`."""
    from checks import formats

    if form == "csv" and roster is not None:
        return formats.to_gradebook(reports, roster, lms=lms, assignment=title or "backprop-check")

    writers: dict[str, Callable[[], str]] = {
        "text": lambda: (
            "\n".join(formats.to_text(r, color=color) for r in reports)
            + (formats.to_text_summary(reports, color=color) if len(reports) > 1 else "")
        ),
        "json": lambda: formats.to_json(reports),
        "junit": lambda: formats.to_junit(reports),
        "markdown": lambda: formats.to_markdown(reports),
        "csv": lambda: formats.to_csv(reports),
        "html": lambda: formats.to_html(reports, **({"title": title} if title else {})),
        "gradescope": lambda: formats.to_gradescope(reports[0]),
    }
    return writers[form]()


def find_submissions(
    path: Path, file: str | None = None, roster: list[Student] | None = None
) -> list[Submission]:
    """The submissions under `path`, each with the name it is reported under.

    A file is one submission. A folder holds one per `.py`/`.ipynb` file, and one per
    subfolder (a student's, named after it) holding the file to grade: the file the
    roster's `submission` names inside it (`hw3-alice/hw.ipynb`), else `file` when
    given, else its one `.py`/`.ipynb` file. Hidden folders and files (`.git`, `.github`)
    are never submissions. Nothing found here stops the class: a symbolic link, a file
    that is not regular, or a student's folder with several submissions (and no `file`
    or roster to choose one) is still that student's submission, graded as not loading,
    with the reason (`read_source`).
    """
    from checks.grader.batch import Submission

    if not path.is_dir() or path.is_symlink():
        return [Submission(path, str(path), path.name)]
    named = {}
    for student in roster or ():
        parts = Path(student.submission).parts
        if len(parts) > 1:
            named[parts[0]] = Path(*parts[1:])
    found = []
    for child in sorted(path.iterdir()):
        if child.name.startswith((".", "__")):
            continue
        if child.is_symlink() or not child.is_dir():
            if child.suffix in SUFFIXES or (child.is_symlink() and child.is_dir()):
                found.append(Submission(child, str(child), child.name))
            continue
        chosen = named.get(child.name) or (Path(file) if file else None)
        if chosen is not None:
            target = child / chosen
            if target.is_symlink() or target.is_file():
                found.append(Submission(target, str(child), child.name))
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
    from checks.grader.batch import BatchError, Store, default_jobs, grade_all, manifest
    from checks.grader.config import Config, ConfigError, load_config

    path = Path(args.submission)
    if not path.exists():
        raise UsageError(f"no such file or folder: `{path}`")
    if path.is_file() and path.suffix not in SUFFIXES:
        raise UsageError(f"a submission is a .py file or an .ipynb notebook, got `{path}`")
    if args.resume and args.output is None:
        raise UsageError("`--resume` needs `--output DIR`, the reports to resume")
    try:
        config = load_config(args.config) if args.config else Config()
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    if args.examples is not None:
        config = replace(config, examples=args.examples)
    seed = options.resolve_seed(args.seed, config.seed)
    roster = _read_roster(args)
    submissions = find_submissions(path, args.file, roster)
    if not submissions:
        raise UsageError(f"no .py or .ipynb submission in `{path}`")
    if path.is_dir():
        _say_which_folders_hold_nothing(path, submissions)
    if roster is not None:
        _check_roster(roster, submissions)
    if args.format == "gradescope" and len(submissions) != 1:
        raise UsageError("`--format gradescope` grades exactly one submission")
    store = None
    if args.output is not None:
        try:
            store = Store.open(args.output, manifest(config, seed), resume=args.resume)
        except (BatchError, OSError) as exc:
            raise UsageError(str(exc)) from exc
    kept = {s.key: r for s in submissions if store and args.resume and (r := store.load(s))}
    todo = [s for s in submissions if s.key not in kept]
    isolation = getattr(args, "isolation", None) or "auto"
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
        color = args.format == "text" and color_wanted(sys.stdout)
        text = render(
            args.format, reports, color=color, title=args.title, roster=roster, lms=args.lms
        )
        sys.stdout.write(text)
    else:
        _write_output(store, reports, args, submissions, roster)
    everything_passes = all(
        result["verdict"] == "pass" for report in reports for result in report["functions"].values()
    )
    return OK if everything_passes else FAILED


def _whoami() -> str:
    import pwd

    try:
        return f"user `{pwd.getpwuid(os.getuid()).pw_name}`"
    except KeyError:
        return f"uid {os.getuid()}"


def _read_roster(args: argparse.Namespace) -> list[Student] | None:
    if args.lms is not None and args.roster is None:
        raise UsageError("`--lms` needs `--roster CSV`: an LMS imports grades by student")
    if args.roster is None:
        return None
    if args.format != "csv" and args.output is None:
        raise UsageError(
            "`--roster` shapes the csv format; with another `--format`, add `--output DIR` "
            "(the gradebook is then DIR/gradebook.csv)"
        )
    from checks.formats import RosterError, read_roster

    try:
        text = Path(args.roster).read_text(encoding="utf-8")
        return read_roster(text, args.roster)
    except OSError as exc:
        raise UsageError(f"cannot read the roster `{args.roster}`: {exc.strerror}") from exc
    except (RosterError, UnicodeDecodeError) as exc:
        raise UsageError(f"`--roster`: {exc}") from exc


def _say_which_folders_hold_nothing(path: Path, submissions: list[Submission]) -> None:
    """Name the student folders with nothing to grade: a student must not vanish silently."""
    graded = {s.key for s in submissions}
    empty = sorted(
        child.name
        for child in path.iterdir()
        if child.is_dir() and not child.name.startswith((".", "__")) and child.name not in graded
    )
    if empty:
        shown = ", ".join(empty[:5]) + (", ..." if len(empty) > 5 else "")
        print(
            f"backprop-check: {len(empty)} folder(s) in `{path}` hold no submission to grade "
            f"(no .py or .ipynb file, or not the one `--file` or the roster names): {shown}",
            file=sys.stderr,
        )


def _check_roster(roster: list[Student], submissions: list[Submission]) -> None:
    """Refuse a roster that claims a submission twice; say who has none, and whose is whose."""
    from checks.formats import RosterError, match_roster

    try:
        _, absent, unclaimed = match_roster(roster, [s.name for s in submissions])
    except RosterError as exc:
        raise UsageError(f"`--roster`: {exc}") from exc
    if absent:
        who = ", ".join(s.id or s.name for s in absent[:5]) + (", ..." if len(absent) > 5 else "")
        print(
            f"backprop-check: {len(absent)} student(s) of the roster have no submission "
            f"(empty grade): {who}",
            file=sys.stderr,
        )
    if unclaimed:
        print(
            f"backprop-check: {len(unclaimed)} submission(s) belong to no student of the "
            f"roster: {', '.join(unclaimed[:5])}",
            file=sys.stderr,
        )


def _write_output(
    store: Store,
    reports: list[Report],
    args: argparse.Namespace,
    subs: list[Submission],
    roster: list[Student] | None,
) -> None:
    from checks.formats import summarize, to_gradebook, to_text_summary

    form = args.format
    summary = store.write("summary.json", json.dumps(summarize(reports), indent=2) + "\n")
    text = render(form, reports, color=False, title=args.title, roster=roster, lms=args.lms)
    chosen = store.write(FILES[form], text)
    gradebook = ""
    if roster is not None and form != "csv":
        text = to_gradebook(
            reports, roster, lms=args.lms, assignment=args.title or "backprop-check"
        )
        gradebook = f", the roster's gradebook in {store.write('gradebook.csv', text)}"
    if form == "json":
        sys.stdout.write(json.dumps(summarize(reports)) + "\n")
        return
    sys.stdout.write(to_text_summary(reports, color=color_wanted(sys.stdout)))
    sys.stdout.write(
        f"reports in {store.reports}/, summary in {summary}, {form} in {chosen}{gradebook}\n"
    )
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
