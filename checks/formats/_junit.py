"""JUnit XML: one test case per function, as GitLab, Jenkins and most CI read it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Final

from checks.formats._escape import number, printable
from checks.grader.report import FunctionResult, Report, check_reports

__all__ = ["to_junit"]

# The verdicts that are not a pass, and the element that says so.
_ELEMENT: Final[dict[str, str]] = {
    "fail": "failure",
    "error": "error",
    "timeout": "error",
    "missing": "skipped",
}


def _summary_line(name: str, result: FunctionResult) -> str:
    points = f"{number(result['points'])} / {number(result['max_points'])} points"
    ids = f" [{', '.join(result['diagnosis'])}]" if result["diagnosis"] else ""
    return printable(f"{name}: {result['verdict']}, {points}{ids}")


def _testcase(suite: ET.Element, submission: str, name: str, result: FunctionResult) -> None:
    case = ET.SubElement(suite, "testcase", classname=submission, name=printable(name))
    element = _ELEMENT.get(result["verdict"])
    if element is not None:
        child = ET.SubElement(
            case, element, message=_summary_line(name, result), type=result["verdict"]
        )
        if element != "skipped":
            child.text = printable(result["message"])


def to_junit(reports: Iterable[Report]) -> str:
    """JUnit XML: a `<testsuite>` per submission, a `<testcase>` per function.

    A `fail` is a `<failure>`, an `error` or `timeout` an `<error>` (its `type` says
    which), a `missing` function is `<skipped>`; the element's `message` attribute holds
    the verdict, points and diagnoses, its text the full message. When grading itself
    failed, the suite holds one more test case, `(grading)`, with an `<error>`. What
    the submission printed goes to the suite's `<system-out>`; score and max_score are
    suite properties.

    Returns
    -------
    str
        A UTF-8 XML document with a `<testsuites>` root. Every text is escaped by
        `xml.etree`, and characters that XML 1.0 cannot hold are shown as escapes first.
    """
    checked = check_reports(reports)
    root = ET.Element("testsuites", name="backprop-check")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for report in checked:
        submission = printable(report["submission"])
        results = report["functions"]
        error = report.get("error")
        counts = {
            "tests": len(results) + bool(error),
            "failures": sum(r["verdict"] == "fail" for r in results.values()),
            "errors": sum(r["verdict"] in ("error", "timeout") for r in results.values())
            + bool(error),
            "skipped": sum(r["verdict"] == "missing" for r in results.values()),
        }
        attributes = {"name": submission, **{k: str(v) for k, v in counts.items()}}
        suite = ET.SubElement(root, "testsuite", attributes)
        properties = ET.SubElement(suite, "properties")
        for key, value in (("score", report["score"]), ("max_score", report["max_score"])):
            ET.SubElement(properties, "property", name=key, value=number(value))
        if report.get("isolation"):
            isolation = printable(str(report.get("isolation")))
            ET.SubElement(properties, "property", name="isolation", value=isolation)
        for name, result in results.items():
            _testcase(suite, submission, name, result)
        if error:
            case = ET.SubElement(suite, "testcase", classname=submission, name="(grading)")
            failure = ET.SubElement(case, "error", message="grading failed", type="grading")
            failure.text = printable(error)
        if report.get("output"):
            ET.SubElement(suite, "system-out").text = printable(str(report.get("output")))
        for key, value in counts.items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
