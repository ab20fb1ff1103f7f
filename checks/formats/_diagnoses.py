"""What each diagnosis identifier means, in the contract's words, for the reports."""

from __future__ import annotations

from typing import Final

__all__ = ["DIAGNOSES", "explain"]

# From the table of `shared/contract/SUBMISSION.md`; an identifier the grader adds later
# is shown without an explanation until it is added here.
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


def explain(identifier: str) -> str:
    """The explanation of a diagnosis identifier, or an empty string for an unknown one."""
    return DIAGNOSES.get(identifier, "")
