"""Numerical checks of gradients, Hypothesis strategies, and the grader of submissions.

The numerical-gradient engine (`checks.engine`): `numerical_gradient`,
`numerical_jacobian`, `check_gradient` (-> `GradientReport`), `assert_gradient_close`,
`taylor_test`; `fingerprint` (`checks.findings`) for the shape of a difference.
`NetworkLoss` (`checks.network`) is the notes' network as a function of its named
parameter blocks, with its kinks and a fast per-layer evaluation.

The other subsystems are packages of their own: `checks.strategies` (Hypothesis),
`checks.errata` (verdicts on the notes), `checks.grader` (grading submissions),
`checks.formats` (report writers), `checks.cli` (the command), `checks.pytest_plugin`.

The names are imported on first use, so that importing `checks` (as pytest does for the
plugin `checks.pytest_plugin`, once the package is installed) costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checks._lazy import lazy_exports

if TYPE_CHECKING:
    from checks.engine import (
        BlockRow,
        ComplexStepError,
        EntryError,
        Estimate,
        FunctionError,
        GradientReport,
        TaylorResult,
        assert_gradient_close,
        check_gradient,
        default_step,
        numerical_gradient,
        numerical_jacobian,
        taylor_test,
    )
    from checks.findings import Finding, fingerprint
    from checks.network import NetworkLoss, batched_loss, network_check

_ENGINE = (
    "BlockRow",
    "ComplexStepError",
    "EntryError",
    "Estimate",
    "FunctionError",
    "GradientReport",
    "TaylorResult",
    "assert_gradient_close",
    "check_gradient",
    "default_step",
    "numerical_gradient",
    "numerical_jacobian",
    "taylor_test",
)
_WHERE = {
    **dict.fromkeys(_ENGINE, "checks.engine"),
    **dict.fromkeys(("Finding", "fingerprint"), "checks.findings"),
    **dict.fromkeys(("NetworkLoss", "batched_loss", "network_check"), "checks.network"),
}

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

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
