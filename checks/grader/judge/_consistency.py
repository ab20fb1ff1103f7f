"""Gradients judged the second way: against the submission's own `loss` and `forward`.

The verdict of a gradient comes from the reference. This second check tells the student
*where* the mistake is: a `backward` that is the exact derivative of the student's own
`loss ∘ forward` is differentiated right, and what is wrong is what it differentiates;
one that is not is differentiated wrong. The derivative of the submission's own
functions is taken numerically (the engine's directional mode: a few random directions,
a few calls each), by calling them in the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from backprop import formulas as fm
from backprop import network as net
from backprop.catalog import param_blocks, params_from_blocks
from checks import check_gradient
from checks.grader.config import Config
from checks.grader.judge._judge import Caller, FunctionGrade

__all__ = ["consistency"]

# The submission's own functions each gradient is the derivative of.
_NEEDS: dict[str, tuple[str, ...]] = {
    "dL_dyhat": ("loss",),
    "dL_daL": ("loss", "softmax"),
    "backward": ("loss", "forward"),
}
_DIRECTIONS = 4


class _OwnFunctionFailed(Exception):
    pass


def _value(caller: Caller, name: str, args: list[Any]) -> Any:
    outcome = caller.call(name, args)
    if outcome.status != "ok":
        raise _OwnFunctionFailed(f"your `{name}` did not return a result ({outcome.status})")
    value = outcome.value
    if isinstance(value, np.ndarray) and value.dtype.kind not in "biuf":
        raise _OwnFunctionFailed(f"your `{name}` did not return numbers")
    return value


def _own_function(
    fid: str, caller: Caller, config: Config, args: Mapping[str, Any]
) -> tuple[Callable[[Any], float], Any]:
    """The submission's own function whose gradient `fid` claims to be, and the point."""
    loss = config.name_of("loss")

    def scalar(value: Any) -> float:
        arr = np.asarray(value, dtype=np.float64)
        if arr.size != 1:
            raise _OwnFunctionFailed(f"your `{loss}` returned shape {arr.shape}, not a scalar")
        return float(arr.reshape(()))

    if fid == "dL_dyhat":
        y = args["y"]
        return (lambda y_hat: scalar(_value(caller, loss, [y_hat, y]))), args["y_hat"]
    if fid == "dL_daL":
        y, softmax = args["y"], config.name_of("softmax")
        return (
            lambda a: scalar(
                _value(caller, loss, [np.asarray(_value(caller, softmax, [a]), float), y])
            ),
            np.log(args["y_hat"]),
        )
    X, Y, forward = args["X"], args["Y"], config.name_of("forward")

    def network_loss(blocks: Mapping[str, Any]) -> float:
        y_hat = _value(caller, forward, [params_from_blocks(blocks), X])
        return scalar(_value(caller, loss, [np.asarray(y_hat, float), Y]))

    return network_loss, param_blocks(args["params"])


#: Beyond this relative difference from the exact loss, the submission's own functions are
#: not exact (a log guard, float32): its derivative is judged at their precision.
_EXACT = 1e-10


def _own_precision(
    fid: str, f: Callable[[Any], float], x: Any, args: Mapping[str, Any], kind: str
) -> float | None:
    """A relative tolerance fitting the precision of the submission's own functions.

    Notes
    -----
    If the submission's own loss differs from the exact one by `r` relative at the
    point (a guard `np.log(ŷ + ε)` gives `r ≈ ε/ŷ`), its derivative differs from the
    exact derivative by up to about `r / min ŷ` relative (each term's `log ŷ` becomes
    `1/ŷ` in the derivative), and a numerical derivative of the submission's functions
    differs from a right derivation by as much. Ten times that is allowed; below
    `_EXACT` the engine's own error model applies (None).
    """
    if fid == "backward":
        y_hat = net.forward(args["params"], args["X"])
        exact = float(net.network_loss(args["params"], args["X"], args["Y"], kind=kind))
    else:
        y_hat = np.asarray(args["y_hat"], dtype=np.float64)
        exact = float(fm.loss(y_hat, args["y"], kind=kind))
    own = f(x)
    r = abs(own - exact) / max(abs(exact), 1e-300)
    if not np.isfinite(r) or r <= _EXACT:
        return None
    return max(1e-6, 10.0 * r / max(float(np.min(y_hat)), 1e-3))


def consistency(
    fid: str,
    caller: Caller,
    config: Config,
    grades: Mapping[str, FunctionGrade],
    grade: FunctionGrade,
    seed: int,
) -> str:
    """For a failed gradient: is it the derivative of the submission's own functions?

    Returns a sentence for the student, or "" where the check does not apply (not a
    gradient, not a failure on values, or the submission's own functions are missing or
    broken).
    """
    needs = _NEEDS.get(fid)
    failure = grade.failure
    if needs is None or grade.verdict != "fail" or failure is None or failure.comparison is None:
        return ""
    if failure.comparison.problem != "values" or failure.guard is not None:
        return ""
    if any(grades.get(n) is None or grades[n].verdict not in ("pass", "fail") for n in needs):
        return ""
    own = " and ".join(f"`{config.name_of(n)}`" for n in needs)
    try:
        f, x = _own_function(fid, caller, config, failure.case.args)
        if fid == "backward":
            grad: Any = param_blocks([(np.asarray(dW), np.asarray(db)) for dW, db in failure.got])
        else:
            grad = np.asarray(failure.got, dtype=np.float64)
        rtol = _own_precision(fid, f, x, failure.case.args, config.loss)
        report = check_gradient(
            f,
            grad,
            x,
            mode="directional",
            directions=_DIRECTIONS,
            rng=np.random.default_rng(seed),
            rtol=rtol,
            atol=None if rtol is None else 0.0,
        )
    except (_OwnFunctionFailed, TypeError, ValueError) as exc:
        return f"Could not check it against your own {own}: {exc}."
    if report.status == "unchecked":
        return (
            f"Could not check it against your own {own}: every step along "
            f"{len(report.skipped)} of {_DIRECTIONS} random directions crossed a kink."
        )
    if not report.ok:
        return (
            f"It is not the derivative of your own {own} either (checked numerically along "
            f"{_DIRECTIONS} random directions): the mistake is in the derivation itself."
        )
    wrong = [n for n in needs if grades[n].verdict == "fail"]
    if wrong:
        names = " and ".join(f"`{config.name_of(n)}`" for n in wrong)
        return (
            f"It is the exact derivative of your own {own}: your differentiation is "
            f"consistent, and what is wrong is your {names}, which it differentiates."
        )
    return (
        f"It agrees with the numerical derivative of your own {own}: the mistake is in "
        "what is differentiated, not in how."
    )
