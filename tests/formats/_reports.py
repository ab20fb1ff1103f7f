"""Hand-written reports of a small class: every verdict, diagnoses, hidden, hostile text."""

from __future__ import annotations

import copy
from typing import Final

from checks.formats import FunctionResult, Report

__all__ = ["ALICE", "BOB", "BROKEN", "CAROL", "CLASS", "FUNCTIONS", "HOSTILE", "MALLORY", "report"]

FUNCTIONS: Final = ("relu", "softmax", "dL_daL", "dL_dW", "dL_db", "backward")

# Text a submission controls: markup, a terminal escape, XML's forbidden characters, a
# CDATA end, fences, table pipes, a lone surrogate, a bidi override, CRLF.
HOSTILE: Final = (
    '<script>alert("pwned")</script> </pre></details><img src=x onerror=alert(1)> & &amp; '
    "\x1b[2J\x1b[31mred\x00\x07\x0c ]]> ``` | a|b \udcff \u202eevil\u202c ✓ 😀\r\nnext"
)


def _ok(points: float = 1.0) -> FunctionResult:
    return {
        "verdict": "pass",
        "points": points,
        "max_points": points,
        "diagnosis": [],
        "message": "",
    }


def report(submission: str, **functions: FunctionResult) -> Report:
    """A report where every function of `FUNCTIONS` passes unless given in `functions`."""
    results = {
        name: functions.get(name, _ok(2.0 if name == "backward" else 1.0)) for name in FUNCTIONS
    }
    return {
        "submission": submission,
        "score": sum(r["points"] for r in results.values()),
        "max_score": sum(r["max_points"] for r in results.values()),
        "functions": results,
    }


ALICE: Final = report("alice.py")
BOB: Final = report(
    "bob/solution.py",
    dL_daL={
        "verdict": "fail",
        "points": 0.0,
        "max_points": 1.0,
        "diagnosis": ["softmax-jacobian-diagonal"],
        "message": (
            "expected [[-0.1]], got [[-0.02]]\n  at index (0, 0)\nsnippet:\n    dL_daL(y_hat, y)"
        ),
    },
    dL_dW={
        "verdict": "fail",
        "points": 0.0,
        "max_points": 1.0,
        "diagnosis": ["factor-m", "mutates-input"],
        "message": "off by a factor m = 3",
    },
    dL_db={
        "verdict": "fail",
        "points": 0.5,
        "max_points": 1.0,
        "diagnosis": ["bias-shape"],
        "message": "shape (4,), expected (4, 1)",
        "hidden": True,
        "tags": ["backward", "erratum E4"],
    },
    backward={
        "verdict": "error",
        "points": 0.0,
        "max_points": 2.0,
        "diagnosis": [],
        "message": "Traceback (most recent call last):\nZeroDivisionError: division by zero",
    },
)
BOB["output"] = "debug: shapes (3, 5)\n"
CAROL: Final = report(
    "carol.ipynb",
    softmax={
        "verdict": "timeout",
        "points": 0.0,
        "max_points": 1.0,
        "diagnosis": [],
        "message": "took more than 10 s",
    },
    dL_dW={
        "verdict": "fail",
        "points": 0.0,
        "max_points": 1.0,
        "diagnosis": ["factor-m"],
        "message": "off by 1/m",
    },
    backward={
        "verdict": "missing",
        "points": 0.0,
        "max_points": 2.0,
        "diagnosis": [],
        "message": "`backward` is not defined",
    },
)
MALLORY: Final = report(
    '=HYPERLINK("http://x")' + HOSTILE,
    relu={
        "verdict": "fail",
        "points": 0.0,
        "max_points": 1.0,
        "diagnosis": ["<b>x</b>"],
        "message": HOSTILE,
    },
    softmax={
        "verdict": "error",
        "points": 0.0,
        "max_points": 1.0,
        "diagnosis": [],
        "message": HOSTILE,
    },
)
MALLORY["output"] = HOSTILE * 3
BROKEN: Final[Report] = {
    "submission": "dave.py",
    "score": 0.0,
    "max_score": 7.0,
    "functions": {},
    "error": "the grading worker died: MemoryError",
}

CLASS: Final = (ALICE, BOB, CAROL, MALLORY, BROKEN)


def fresh() -> list[Report]:
    """A deep copy of the class, so that a test can change it freely."""
    return copy.deepcopy(list(CLASS))
