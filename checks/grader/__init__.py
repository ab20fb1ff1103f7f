"""Grade a student's submission: run it in a sandbox, judge what it returns.

Three parts, each a package, used in this order:

- `checks.grader.sandbox`: runs one submission (a `.py` file or a notebook) in a
  separate, limited process and brings back plain data (`Sandbox`);
- `checks.grader.judge`: verdicts, diagnoses and messages, computed in the checker's
  process from that data (`grade_submission`);
- `checks.grader.batch`: a class of submissions in parallel, each report stored as soon
  as it is known.

Beside them, `config` (the instructor's TOML) and `report` (the report model that the
writers of `checks.formats` render). Names are imported on first use: the command
imports this package before it knows whether it will grade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checks._lazy import lazy_exports

if TYPE_CHECKING:
    from checks.grader.batch import Submission, grade_all
    from checks.grader.config import Config, ConfigError, load_config
    from checks.grader.judge import grade_submission
    from checks.grader.report import VERDICTS, FunctionResult, Report, Verdict
    from checks.grader.sandbox import SKIP_TAGS, Loaded, LoadError, Outcome, Sandbox, SandboxError

#: What a submission may be: a Python file or a Jupyter notebook. Defined here, without
#: imports, for the command and the plugin, which check a path before grading anything.
SUBMISSION_SUFFIXES = (".py", ".ipynb")

_WHERE = {
    **dict.fromkeys(("Submission", "grade_all"), "checks.grader.batch"),
    **dict.fromkeys(("Config", "ConfigError", "load_config"), "checks.grader.config"),
    "grade_submission": "checks.grader.judge",
    **dict.fromkeys(("VERDICTS", "FunctionResult", "Report", "Verdict"), "checks.grader.report"),
    **dict.fromkeys(
        ("SKIP_TAGS", "LoadError", "Loaded", "Outcome", "Sandbox", "SandboxError"),
        "checks.grader.sandbox",
    ),
}

__all__ = [
    "SKIP_TAGS",
    "SUBMISSION_SUFFIXES",
    "VERDICTS",
    "Config",
    "ConfigError",
    "FunctionResult",
    "LoadError",
    "Loaded",
    "Outcome",
    "Report",
    "Sandbox",
    "SandboxError",
    "Submission",
    "Verdict",
    "grade_all",
    "grade_submission",
    "load_config",
]

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
