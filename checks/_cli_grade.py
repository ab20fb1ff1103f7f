"""`backprop-check SUBMISSION`: grade a submission, or a folder of them, into one report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from checks.formats import (
    Report,
    to_csv,
    to_gradescope,
    to_html,
    to_json,
    to_junit,
    to_markdown,
    to_text,
    to_text_summary,
)
from checks.grader._config import Config, ConfigError, load_config
from checks.grader._grade import grade_submission

__all__ = ["FORMATS", "find_submissions", "run"]

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


def find_submissions(path: Path) -> list[tuple[Path, str]]:
    """The submissions under `path`, each with the name it is reported under.

    A file is one submission. A folder holds one per `.py`/`.ipynb` file, and one per
    subfolder holding exactly one such file (named after the subfolder: the student).
    """
    if path.is_file():
        return [(path, str(path))]
    found = []
    for child in sorted(path.iterdir()):
        if child.is_file() and child.suffix in SUFFIXES:
            found.append((child, str(child)))
        elif child.is_dir() and not child.name.startswith((".", "__")):
            inside = sorted(p for p in child.iterdir() if p.is_file() and p.suffix in SUFFIXES)
            if len(inside) == 1:
                found.append((inside[0], str(child)))
            elif inside:
                names = ", ".join(p.name for p in inside)
                raise SystemExit(
                    f"backprop-check: `{child}` holds several submissions ({names}); keep one"
                )
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
    try:
        config = load_config(args.config) if args.config else Config()
    except ConfigError as exc:
        raise SystemExit(f"backprop-check: {exc}") from exc
    seed = args.seed if args.seed is not None else (config.seed if config.seed is not None else 0)
    submissions = find_submissions(path)
    if not submissions:
        raise SystemExit(f"backprop-check: no .py or .ipynb submission in `{path}`")
    if args.format == "gradescope" and len(submissions) != 1:
        raise SystemExit("backprop-check: `--format gradescope` grades exactly one submission")
    reports = [
        grade_submission(file, config, seed=seed, display_name=name) for file, name in submissions
    ]
    color = args.format == "text" and sys.stdout.isatty()
    sys.stdout.write(FORMATS[args.format](reports, color))
    everything_passes = all(
        result["verdict"] == "pass" for report in reports for result in report["functions"].values()
    )
    return 0 if everything_passes else 1
