"""What each diagnosis identifier means, for the reports' readers."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Final

__all__ = ["DIAGNOSES", "explain"]

#: The identifiers of the contract (`shared/contract/SUBMISSION.md`) and their meaning.
DIAGNOSES: Final[dict[str, str]] = {
    "factor-m": "off by exactly a factor m or 1/m (the mean over examples)",
    "scaled": "off by another constant factor",
    "sign": "the negative of the expected result",
    "transposed": "the transpose of the expected result",
    "wrong-shape": "a shape other than the contract's",
    "bias-shape": "a bias gradient of shape (n,) or (1, n) instead of (n, 1) (erratum E4)",
    "wrong-axis": "a softmax, sum or mean taken over the wrong axis",
    "relu-mask-at-zero": "the ReLU mask is 1 at z == 0 (the notes' 1_{R+*} is 0 there)",
    "softmax-jacobian-diagonal": (
        "the softmax Jacobian's diagonal alone: its off-diagonal terms are missing (errata E1, E2)"
    ),
    "mutates-input": "an argument was changed in place",
    "not-finite": "NaN or infinity where the true result is finite",
}


@functools.cache
def _registry() -> Mapping[str, str]:
    # The grader's registry is the reference and knows more identifiers; the contract's
    # table stands in when the grader is not importable (a broken install still reports).
    try:
        from checks.grader._diagnose import DIAGNOSES as graders
    except ImportError:
        return DIAGNOSES
    return {**DIAGNOSES, **graders}


def explain(identifier: str) -> str:
    """The explanation of a diagnosis identifier, or an empty string for an unknown one."""
    return _registry().get(identifier, "")
