"""The numerical-gradient engine: finite differences with their error, and checks.

Layers, each using only those above it in this list:

- `_problem`: `f` near `x`, flattened (`Problem`), its evaluations counted, its kinks watched;
- `_numdiff`: difference schemes with their error model (`numerical_gradient`,
  `numerical_jacobian`, `estimate`);
- `_chunked`: the same estimate for a full check, in ranges of entries within a memory
  budget (`Chunks`);
- `_report`: what a check found (`GradientReport`, `BlockRow`, `EntryError`);
- `_directional`: the cheap check along random directions;
- `_gradcheck`: `check_gradient`, per entry or along directions, and `assert_gradient_close`;
- `_taylor`: the Taylor-remainder test.

The engine knows nothing of the notes' network: `checks.network` builds on it.
"""

from checks.engine._gradcheck import assert_gradient_close, check_gradient
from checks.engine._numdiff import Estimate, default_step, numerical_gradient, numerical_jacobian
from checks.engine._problem import ComplexStepError, FunctionError
from checks.engine._report import BlockRow, EntryError, GradientReport
from checks.engine._taylor import TaylorResult, taylor_test

__all__ = [
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
]
