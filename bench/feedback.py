"""How good the feedback is on the testbed of submissions written as students write them.

Grades every submission of ``tests/grader/testbed/manifest.toml`` and counts, against
what a teacher expects of each: the submissions whose every verdict is right, whose
focus function gets the expected diagnosis, whose message names the line to change
(where there is one), and whose message says the expected phrase. The figures are kept
in docs/feedback.md.

    python bench/feedback.py [--examples 12] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from backprop import CONTRACT
from checks.grader import Config, grade_submission

REPO = Path(__file__).resolve().parents[1]
TESTBED = REPO / "tests" / "grader" / "testbed"

__all__ = ["TESTBED", "judge", "load_manifest", "main"]


def load_manifest(path: Path = TESTBED / "manifest.toml") -> list[dict[str, Any]]:
    """The testbed's submissions, each a mapping as the manifest writes it."""
    entries: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8"))["submission"]
    return entries


def judge(entry: Mapping[str, Any], report: Mapping[str, Any]) -> dict[str, bool | None]:
    """What the report got right of `entry`: verdicts, diagnosis, line, phrase (None: n/a)."""
    functions = report["functions"]
    expected = {fid: entry["expect"].get(fid, "pass") for fid in CONTRACT}
    verdicts = all(functions[fid]["verdict"] == v for fid, v in expected.items())
    focus = functions[entry["focus"]]
    want = set(entry["diagnosis"])
    got = set(focus["diagnosis"])
    diagnosis = focus["verdict"] == entry["verdict"] and (want <= got if want else not got)
    message = focus["message"]
    line = entry.get("line")
    return {
        "verdicts": verdicts,
        "diagnosis": diagnosis,
        "line": None if line is None else line.lower() in message.lower(),
        "phrase": None if not entry.get("phrase") else entry["phrase"] in message,
    }


def grade(entry: Mapping[str, Any], examples: int, seed: int = 0) -> dict[str, Any]:
    config = Config.from_mapping({"examples": examples, **entry.get("config", {})})
    report: dict[str, Any] = dict(grade_submission(TESTBED / entry["file"], config, seed=seed))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=12)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)
    entries = [e for e in load_manifest() if args.only is None or e["name"] in args.only]
    totals: dict[str, list[bool]] = {"verdicts": [], "diagnosis": [], "line": [], "phrase": []}
    for entry in entries:
        results = judge(entry, grade(entry, args.examples))
        marks = []
        for key, value in results.items():
            if value is not None:
                totals[key].append(value)
            marks.append("-" if value is None else ("ok" if value else "MISS"))
        print(f"{entry['name']:<40} " + "  ".join(f"{m:>4}" for m in marks), flush=True)
    print(f"\n{len(entries)} submissions (columns: verdicts, diagnosis, line, phrase)")
    for key, values in totals.items():
        print(f"  {key:<10} {sum(values)} / {len(values)} right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
