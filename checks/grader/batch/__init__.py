"""Grade a class: submissions in parallel (`_run`), each report stored as it comes (`_store`)."""

from checks.grader.batch._run import (
    Submission,
    default_jobs,
    error_report,
    grade_all,
    grade_guarded,
)
from checks.grader.batch._store import BatchError, Store, manifest, write_atomic

__all__ = [
    "BatchError",
    "Store",
    "Submission",
    "default_jobs",
    "error_report",
    "grade_all",
    "grade_guarded",
    "manifest",
    "write_atomic",
]
