"""Numerical checks of gradients, Hypothesis strategies, and the grader of submissions.

The numerical-gradient engine: `numerical_gradient`, `numerical_jacobian`,
`check_gradient` (-> `GradientReport`), `assert_gradient_close`, `taylor_test`, and
`fingerprint` for the shape of a difference. `NetworkLoss` is the notes' network as a
function of its named parameter blocks, with its kinks and a fast per-layer evaluation.
"""

from checks._fingerprint import Finding, fingerprint
from checks._gradcheck import (
    BlockRow,
    EntryError,
    GradientReport,
    assert_gradient_close,
    check_gradient,
)
from checks._network import NetworkLoss, batched_loss, network_check
from checks._numdiff import (
    ComplexStepError,
    Estimate,
    FunctionError,
    default_step,
    numerical_gradient,
    numerical_jacobian,
)
from checks._taylor import TaylorResult, taylor_test

__all__ = [
    "BlockRow",
    "ComplexStepError",
    "EntryError",
    "Estimate",
    "Finding",
    "FunctionError",
    "GradientReport",
    "NetworkLoss",
    "TaylorResult",
    "assert_gradient_close",
    "batched_loss",
    "check_gradient",
    "default_step",
    "fingerprint",
    "network_check",
    "numerical_gradient",
    "numerical_jacobian",
    "taylor_test",
]
