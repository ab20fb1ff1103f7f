"""Cascades: a function that is wrong only because a function of the submission it calls is.

A student's `backward` usually calls the student's own `softmax`, `dL_dyhat`, `dL_daL`,
`dL_dz`, ...: when one of those is wrong, `backward` is wrong too, and its own
derivation may be fine. The grader knows which functions failed; for each failed
component (and each pair), it recomputes the reference with that component replaced by
the submission's own (called in its sandbox, at the arguments the reference would give
it) and compares the result with what the submission returned, within the grader's own
tolerance. A match means: fix the component first, and once it is right, this function
is right at this case too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np

from backprop import formulas as f
from backprop import network as net
from backprop.catalog import FORMULAS
from checks.grader.judge._compare import compare, compare_pairs, n_terms
from checks.grader.judge._judge import Caller, CaseResult, FunctionGrade

__all__ = ["COMPONENTS", "Cascade", "cascade"]

#: The components of each composite function a student's code usually calls.
COMPONENTS: Final[dict[str, tuple[str, ...]]] = {
    "backward": ("softmax", "forward", "dL_dyhat", "dL_daL", "dL_dz", "dL_da", "dL_dW", "dL_db"),
    "dL_daL": ("dL_dyhat", "softmax_jacobian"),
    "forward": ("relu", "softmax"),
}


class _Failed(Exception):
    pass


class Cascade:
    """The failed components whose replacement explains the whole result."""

    def __init__(self, fid: str, components: Sequence[str]) -> None:
        self.fid, self.components = fid, tuple(components)

    def sentence(self, name_of: Callable[[str], str]) -> str:
        names = " and ".join(f"`{name_of(c)}`" for c in self.components)
        does = "does" if len(self.components) == 1 else "do"
        return (
            f"`{name_of(self.fid)}` fails because {names} {does}: fix "
            f"{'that' if len(self.components) == 1 else 'those'} first. "
            f"Computed with your {names} in place of the correct one(s), the rest of "
            f"`{name_of(self.fid)}` is right at this case: once {names} "
            f"{'is' if len(self.components) == 1 else 'are'} right, it should pass too."
        )


def _own(caller: Caller, name: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        outcome = caller.call(name, list(args))
        if outcome.status != "ok":
            raise _Failed(name)
        value = outcome.value
        if isinstance(value, list | tuple):
            return value
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise _Failed(name)
        return arr.astype(np.float64)

    return call


def _with(
    fid: str, args: Mapping[str, Any], own: Mapping[str, Callable[..., Any]], kind: str
) -> Any:
    """The reference of `fid` at `args` with the components in `own` replaced."""
    if fid == "forward":
        cache = net.forward_cache(args["params"], args["X"])
        a_L = cache.a[-1]
        if "relu" in own:
            a = np.asarray(args["X"], dtype=np.float64)
            for W, b in args["params"]:
                a = np.asarray(own["relu"](W @ a + b), dtype=np.float64)
            a_L = a
        return (own.get("softmax") or f.softmax)(a_L)
    if fid == "dL_daL":
        y_hat, y = args["y_hat"], args["y"]
        if "softmax_jacobian" in own:
            g = (own.get("dL_dyhat") or (lambda p, t: f.dL_dyhat(p, t, kind=kind)))(y_hat, y)
            g = np.asarray(g, dtype=np.float64)
            cols = [own["softmax_jacobian"](y_hat[:, k]).T @ g[:, k] for k in range(y.shape[1])]
            return np.stack(cols, axis=1)
        g = np.asarray(own["dL_dyhat"](y_hat, y), dtype=np.float64)
        return y_hat * (g - np.sum(g * y_hat, axis=0, keepdims=True))
    params, X, Y = args["params"], args["X"], args["Y"]
    cache = net.forward_cache(params, X)
    using: dict[str, Callable[..., Any]] = {
        k: own[k] for k in ("dL_dz", "dL_da", "dL_dW", "dL_db") if k in own
    }
    if any(k in own for k in ("softmax", "forward", "dL_dyhat", "dL_daL")):

        def daL(y_hat: Any, y: Any) -> Any:
            if "forward" in own:
                y_hat = np.asarray(own["forward"](params, X), dtype=np.float64)
            elif "softmax" in own:
                y_hat = np.asarray(own["softmax"](cache.a[-1]), dtype=np.float64)
            if "dL_daL" in own:
                return own["dL_daL"](y_hat, y)
            if "dL_dyhat" in own:
                g = np.asarray(own["dL_dyhat"](y_hat, y), dtype=np.float64)
                return y_hat * (g - np.sum(g * y_hat, axis=0, keepdims=True))
            return f.dL_daL(y_hat, y, kind=kind)

        using["dL_daL"] = daL
    compose = FORMULAS["backward"].compose
    assert compose is not None
    return compose(using)(params, X, Y, kind=kind)


def cascade(
    fid: str,
    failure: CaseResult,
    grades: Mapping[str, FunctionGrade],
    caller: Caller,
    name_of: Callable[[str], str],
    kind: str,
) -> Cascade | None:
    """The failed components of `fid` that explain its failure at `failure`, or None.

    Single components are tried first, then pairs; each is the submission's own function
    called in its sandbox. Nothing the submission returns can raise here.
    """
    parts = COMPONENTS.get(fid, ())
    failed = [c for c in parts if c in grades and grades[c].verdict == "fail"]
    # A component that passed with a log guard is the submission's own too: always used.
    guarded = [c for c in parts if c in grades and grades[c].verdict == "pass" and grades[c].guard]
    if not failed or failure.comparison is None:
        return None
    args = failure.case.args
    terms = n_terms(args)
    for size in (1, 2):
        for chosen in itertools.combinations(failed, size):
            own = {c: _own(caller, name_of(c)) for c in (*chosen, *guarded)}
            try:
                with np.errstate(all="ignore"):
                    template = _with(fid, args, own, kind)
                    if fid == "backward":
                        ok = compare_pairs(template, failure.got, n_terms=terms)[0].ok
                    else:
                        ok = compare(template, failure.got, n_terms=terms).ok
            except Exception:  # a component's odd result: no cascade through it
                continue
            if ok:
                return Cascade(fid, chosen)
    return None
