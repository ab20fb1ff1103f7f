"""The terminal report and JSON lines."""

from __future__ import annotations

import json
import re

from checks.formats import to_json, to_text, to_text_summary
from tests.formats._reports import ALICE, BOB, BROKEN, CAROL, CLASS, HOSTILE, MALLORY

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_text_has_a_line_per_function_with_verdict_points_and_diagnoses() -> None:
    lines = to_text(BOB, color=False).splitlines()
    assert lines[0] == "bob/solution.py: 2.5 / 7 points"
    verdicts = ("PASS", "FAIL", "ERROR", "TIMEOUT", "MISSING")
    rows = {
        line.split()[1]: line.split()
        for line in lines
        if line.startswith(tuple("  " + v for v in verdicts))
    }
    assert rows["relu"][:2] == ["PASS", "relu"]
    assert rows["dL_daL"] == ["FAIL", "dL_daL", "0", "/", "1", "softmax-jacobian-diagonal"]
    assert rows["dL_dW"][-2:] == ["factor-m,", "mutates-input"]
    assert rows["dL_db"][:3] == ["FAIL", "dL_db", "(hidden)"]
    assert len(rows) == 6
    assert rows["backward"][:5] == ["ERROR", "backward", "0", "/", "2"]


def test_text_indents_the_messages_of_failures_under_their_line() -> None:
    text = to_text(BOB, color=False)
    assert "  FAIL     dL_daL" in text
    assert "\n           expected [[-0.1]], got [[-0.02]]\n             at index (0, 0)\n" in text
    assert "\n           ZeroDivisionError: division by zero\n" in text
    carol = to_text(CAROL, color=False)
    assert "TIMEOUT  softmax" in carol and "           took more than 10 s" in carol
    assert "MISSING  backward" in carol


def test_text_has_colour_only_when_asked_and_reads_the_same_without() -> None:
    plain, coloured = to_text(BOB, color=False), to_text(BOB, color=True)
    assert "\x1b" not in plain
    assert "\x1b[1;31mFAIL" in coloured and "\x1b[32mPASS" in coloured
    assert _ANSI.sub("", coloured) == plain


def test_text_makes_hostile_output_inert() -> None:
    text = to_text(MALLORY, color=False)
    assert "\x1b" not in text and "\x00" not in text and "\u202e" not in text
    assert "\\x1b[2J" in text and "\\u202e" in text
    # The name is one line: a newline in it cannot forge a verdict line.
    assert text.splitlines()[0].endswith("\\nnext: 5 / 7 points")
    text.encode("utf-8")  # no lone surrogate left


def test_text_of_a_failed_grading_says_so() -> None:
    assert to_text(BROKEN, color=False) == (
        "dave.py: 0 / 7 points\n  grading failed:\n    the grading worker died: MemoryError\n"
    )


def test_text_summary_per_student_function_and_diagnosis() -> None:
    text = to_text_summary(CLASS, color=False)
    lines = text.splitlines()
    assert lines[0] == "5 submissions"
    # Wrong results, crashes, hangs and absences read apart.
    assert re.search(
        r"bob/solution\.py +2\.5 / 7  fail: dL_daL, dL_dW, dL_db  error: backward$", text, re.M
    )
    assert re.search(r"dave\.py +0 / 7  grading failed: the grading worker died", text)
    assert re.search(r"\n  dL_dW +2/4  50%  factor-m \(2\), mutates-input \(1\)\n", text)
    assert "  factor-m: 2 submissions; in dL_dW (2)" in lines
    assert _ANSI.sub("", to_text_summary(CLASS, color=True)) == text


def test_json_is_one_object_per_submission_per_line_and_round_trips() -> None:
    text = to_json(CLASS)
    lines = text.splitlines()
    assert len(lines) == len(CLASS) and text.endswith("\n")
    assert [json.loads(line) for line in lines] == list(CLASS)
    assert text.isascii()  # the lone surrogate of HOSTILE is an escape, not a broken byte
    assert json.loads(lines[3])["functions"]["relu"]["message"] == HOSTILE
    assert to_json([]) == ""
    assert json.loads(to_json([ALICE]))["score"] == 7
