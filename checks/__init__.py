"""Numerical checks of gradients, Hypothesis strategies, and the grader of submissions.

The numerical-gradient engine: `numerical_gradient`, `numerical_jacobian`,
`check_gradient` (-> `GradientReport`), `assert_gradient_close`, `taylor_test`, and
`fingerprint` for the shape of a difference. `NetworkLoss` is the notes' network as a
function of its named parameter blocks, with its kinks and a fast per-layer evaluation.

The names are imported on first use, so that importing `checks` (as pytest does for the
plugin `checks.pytest_plugin`, once the package is installed) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_MODULES = ("_fingerprint", "_gradcheck", "_network", "_numdiff", "_taylor")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module in _MODULES:
            found = getattr(importlib.import_module(f"checks.{module}"), name, None)
            if found is not None:
                globals()[name] = found
                return found
    raise AttributeError(f"module 'checks' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
