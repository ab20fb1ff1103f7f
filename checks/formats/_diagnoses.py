"""What each diagnosis identifier means, for the reports' readers.

The registry is the grader's (`checks.grader.judge._diagnose.DIAGNOSES`): the contract's
identifiers and the ones the grader adds, each documented in docs/diagnoses.md.
"""

from __future__ import annotations

from checks.grader.judge._diagnose import DIAGNOSES

__all__ = ["DIAGNOSES", "explain"]


def explain(identifier: str) -> str:
    """The explanation of a diagnosis identifier, or an empty string for an unknown one."""
    return DIAGNOSES.get(identifier, "")
