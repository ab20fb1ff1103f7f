"""Judge what a submission returned: verdicts, diagnoses and the messages a student reads.

`_grade` drives a whole submission (`grade_submission`): test points, each function's
cases through the sandbox, shrinking to the smallest failing case. `_judge` and
`_compare` decide a verdict from plain arrays; `_diagnose` and `_templates` name the
mistake (the vocabulary is `checks.findings`); `_consistency` checks a gradient against
the submission's own loss; `_message` writes what the student reads.
"""

from checks.grader.judge._grade import draw_points, grade_submission
from checks.grader.judge._message import snippet_of

__all__ = ["draw_points", "grade_submission", "snippet_of"]
