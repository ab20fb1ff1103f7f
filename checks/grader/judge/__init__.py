"""Judge what a submission returned: verdicts, diagnoses and the messages a student reads.

`_grade` drives a whole submission (`grade_submission`): test points, each function's
cases through the sandbox, shrinking to the smallest failing case. `_judge` and
`_compare` decide a verdict from plain arrays; `_diagnose` and `_templates` name the
mistake (the vocabulary is `checks.findings`); `_consistency` checks a gradient against
the submission's own loss; `_message` writes what the student reads.
"""

from checks.grader.judge._grade import (
    draw_points,
    grade_function,
    grade_submission,
    grading_points,
)
from checks.grader.judge._judge import FunctionGrade
from checks.grader.judge._message import snippet, snippet_of

__all__ = [
    "FunctionGrade",
    "draw_points",
    "grade_function",
    "grade_submission",
    "grading_points",
    "snippet",
    "snippet_of",
]
