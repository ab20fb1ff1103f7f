"""What each diagnosis identifier means, for the reports' readers.

The registry is `checks.findings.DIAGNOSES`, shared by the engine and the grader: the
contract's identifiers and the ones the grader adds, each documented in docs/diagnoses.md.
"""

from __future__ import annotations

from checks.findings import DIAGNOSES

__all__ = ["DIAGNOSES", "explain"]


def explain(identifier: str) -> str:
    """The explanation of a diagnosis identifier, or an empty string for an unknown one."""
    return DIAGNOSES.get(identifier, "")
