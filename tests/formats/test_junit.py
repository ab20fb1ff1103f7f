"""JUnit XML: parsed back, a suite per submission and a case per function."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from checks.formats import to_junit
from checks.formats._escape import printable
from tests.formats._reports import BOB, BROKEN, CAROL, CLASS, HOSTILE, MALLORY


def _suites() -> dict[str, ET.Element]:
    root = ET.fromstring(to_junit(CLASS))
    assert root.tag == "testsuites"
    return {suite.get("name", ""): suite for suite in root.iter("testsuite")}


def test_a_suite_per_submission_and_a_case_per_function() -> None:
    suites = _suites()
    assert list(suites) == [printable(r["submission"]) for r in CLASS]
    bob = suites["bob/solution.py"]
    cases = bob.findall("testcase")
    assert [c.get("name") for c in cases] == list(BOB["functions"])
    assert {c.get("classname") for c in cases} == {"bob/solution.py"}
    children = {c.get("name"): [e.tag for e in c] for c in cases}
    assert children == {
        "relu": [], "softmax": [], "dL_daL": ["failure"], "dL_dW": ["failure"],
        "dL_db": ["failure"], "backward": ["error"],
    }  # fmt: skip


def test_counts_on_each_suite_and_on_the_root() -> None:
    suites = _suites()
    counts = {
        name: tuple(int(s.get(k, "-1")) for k in ("tests", "failures", "errors", "skipped"))
        for name, s in suites.items()
    }
    assert counts["alice.py"] == (6, 0, 0, 0)
    assert counts["bob/solution.py"] == (6, 3, 1, 0)
    assert counts["carol.ipynb"] == (6, 1, 1, 1)
    assert counts["dave.py"] == (1, 0, 1, 0)
    root = ET.fromstring(to_junit(CLASS))
    for i, key in enumerate(("tests", "failures", "errors", "skipped")):
        assert int(root.get(key, "-1")) == sum(c[i] for c in counts.values())
    # Each count matches the elements actually present.
    for suite in suites.values():
        for key, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
            assert int(suite.get(key, "-1")) == len(suite.findall(f"testcase/{tag}"))


def test_failure_error_and_skipped_carry_verdict_diagnoses_and_message() -> None:
    suites = _suites()
    failure = suites["bob/solution.py"].find("testcase[@name='dL_dW']/failure")
    assert failure is not None
    assert failure.get("message") == "dL_dW: fail, 0 / 1 points [factor-m, mutates-input]"
    assert failure.get("type") == "fail" and failure.text == "off by a factor m = 3"
    timeout = suites["carol.ipynb"].find("testcase[@name='softmax']/error")
    assert timeout is not None and timeout.get("type") == "timeout"
    assert timeout.text == "took more than 10 s"
    skipped = suites["carol.ipynb"].find("testcase[@name='backward']/skipped")
    assert skipped is not None and skipped.get("message") == "backward: missing, 0 / 2 points"
    properties = {p.get("name"): p.get("value") for p in suites["bob/solution.py"].iter("property")}
    assert properties == {"score": "2.5", "max_score": "7"}
    assert suites["bob/solution.py"].findtext("system-out") == BOB["output"]


def test_a_grading_that_failed_is_an_error_case() -> None:
    (case,) = _suites()["dave.py"].findall("testcase")
    assert case.get("name") == "(grading)"
    error = case.find("error")
    assert error is not None and error.text == BROKEN["error"]


def test_hostile_text_is_escaped_and_still_parses() -> None:
    suite = _suites()[printable(MALLORY["submission"])]
    failure = suite.find("testcase[@name='relu']/failure")
    assert failure is not None
    # What XML 1.0 can hold comes back exactly; the rest is shown as escapes.
    assert failure.text == printable(HOSTILE)
    assert '<script>alert("pwned")</script>' in (failure.text or "")
    assert "\\x00" in (failure.text or "") and "]]>" in (failure.text or "")
    assert failure.get("message") == "relu: fail, 0 / 1 points [<b>x</b>]"
    assert suite.findtext("system-out") == printable(HOSTILE * 3)
    assert "<script>" not in to_junit([MALLORY])  # as markup, it is always escaped


def test_empty_batch_is_an_empty_document() -> None:
    root = ET.fromstring(to_junit([]))
    assert root.get("tests") == "0" and list(root) == []
    assert ET.fromstring(to_junit([CAROL])).find("testsuite") is not None
