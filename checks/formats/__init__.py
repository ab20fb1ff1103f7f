"""Writers that turn grading reports into every format instructors and students read.

Each writer is a pure function from reports (the contract's JSON report, typed as
`Report`) to a string: the terminal report (`to_text`, `to_text_summary`), JSON lines
(`to_json`), Gradescope's `results.json` (`to_gradescope`, `gradescope_failure`), JUnit
XML (`to_junit`), Markdown for a CI job summary (`to_markdown`), a gradebook in CSV
(`to_csv`), the same by student of a roster in an LMS's columns (`to_gradebook`) and a
self-contained HTML class report (`to_html`). `summarize` gives the
class at a glance as plain data. The report model they render is the grader's
(`checks.grader.report`), re-exported here. Text from submissions is treated as hostile by all.
"""

from checks.formats._csv import to_csv
from checks.formats._diagnoses import DIAGNOSES
from checks.formats._escape import number, printable
from checks.formats._gradebook import (
    LMS,
    RosterError,
    Student,
    match_roster,
    read_roster,
    to_gradebook,
)
from checks.formats._gradescope import Visibility, gradescope_failure, to_gradescope
from checks.formats._html import to_html
from checks.formats._junit import to_junit
from checks.formats._markdown import to_markdown
from checks.formats._summary import (
    DiagnosisSummary,
    FunctionSummary,
    StudentSummary,
    Summary,
    summarize,
)
from checks.formats._text import to_json, to_text, to_text_summary
from checks.grader.report import VERDICTS, FunctionResult, Report, Verdict, check_report

__all__ = [
    "DIAGNOSES",
    "LMS",
    "VERDICTS",
    "DiagnosisSummary",
    "FunctionResult",
    "FunctionSummary",
    "Report",
    "RosterError",
    "Student",
    "StudentSummary",
    "Summary",
    "Verdict",
    "Visibility",
    "check_report",
    "gradescope_failure",
    "match_roster",
    "number",
    "printable",
    "read_roster",
    "summarize",
    "to_csv",
    "to_gradebook",
    "to_gradescope",
    "to_html",
    "to_json",
    "to_junit",
    "to_markdown",
    "to_text",
    "to_text_summary",
]
