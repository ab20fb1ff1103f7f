"""Grading under a course's conventions: arguments, references and diagnoses.

A course that is the notes' network (columns, `b` `(n, 1)`, ReLU on every layer, one-hot
labels, a mean, no L2; either of the notes' losses) is graded by the notes' catalog, its
templates and its errata, unchanged (`is_notes_network`). Any other course goes through
here: the test points, drawn in the notes' conventions, are converted to the course's;
the reference is `CourseReference`; and the diagnoses that depend on conventions are
re-derived from the course (transpose, factor m, bias shape, missing last ReLU).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from backprop import LOSSES
from backprop.catalog import Point
from backprop.course import Course
from backprop.course_reference import CourseReference
from checks.findings import as_float64, fit_factor, rel_diff, relative_tolerance
from checks.grader.judge._diagnose import Diagnosis

__all__ = ["course_cases", "course_reference", "diagnose_course", "is_notes_network"]

Args = dict[str, Any]

#: A candidate explanation must differ from the reference by this many tolerances.
_DISTINCT = 10.0


def is_notes_network(course: Course) -> bool:
    """Whether `course` is the notes' network under one of the notes' losses."""
    return course.loss in LOSSES and replace(course, loss="notes", layers=None) == Course()


def course_cases(course: Course, fid: str, point: Point) -> list[Args]:
    """The arguments of `fid` at `point` (notes' conventions), in the course's conventions."""
    ref = CourseReference(course)
    params, X, Y = ref.from_canonical(point.params, point.X, point.Y)
    p = ref.gradients(params, X, Y)
    C = ref.from_columns
    L = len(params)
    # the layers whose activation is the contract's `relu`: the hidden ones, and the
    # last one under the notes' ReLU-then-softmax when the hidden activation is ReLU too
    active = [
        l for l in range(1, L + 1) if l < L or (course.has_last_relu and course.hidden == "relu")
    ]
    y_hat_y = [{"y_hat": C(p.y_hat), "y": Y}]
    cases: dict[str, list[Args]] = {
        "relu": [{"z": C(p.z[l - 1])} for l in active],
        "relu_mask": [{"z": C(p.z[l - 1])} for l in active],
        "softmax": [{"a": C(p.a_L)}],
        "decide": [{"a": C(p.a_L)}],
        "loss": y_hat_y,
        "dL_dyhat": y_hat_y,
        "dL_daL": y_hat_y,
        "softmax_jacobian": [{"y_hat": col} for col in p.y_hat.T],
        "dL_dz": [{"dL_da": C(p.da[l - 1]), "z": C(p.z[l - 1])} for l in active],
        "dL_da": [{"W_next": params[l][0], "dL_dz_next": C(p.dz[l])} for l in range(1, L)],
        "dL_dW": [{"dL_dz": C(p.dz[l - 1]), "a_prev": C(p.a[l - 1])} for l in range(1, L + 1)],
        "dL_db": [{"dL_dz": C(dz)} for dz in p.dz],
        "forward": [{"params": params, "X": X}],
        "backward": [{"params": params, "X": X, "Y": Y}],
    }
    return cases[fid]


def course_reference(course: Course, fid: str, args: Mapping[str, Any]) -> Any:
    """The correct result of `fid` at `args` under `course`."""
    return getattr(CourseReference(course), fid)(**args)


def course_special(course: Course, fid: str, args: Args) -> Args:
    """A special input of the notes (columns) in the course's layout."""
    if course.layout == "columns":
        return args
    return {
        k: (v.T if k in ("a", "dL_da", "z") and np.ndim(v) == 2 else v) for k, v in args.items()
    }


# --- diagnoses ------------------------------------------------------------------------


def _examples(course: Course, args: Mapping[str, Any]) -> int | None:
    """`m`, the number of examples of a call, read from its arguments."""
    for name in ("X", "y", "dL_dz", "dL_dz_next", "a", "z"):
        if name in args:
            shape = np.shape(args[name])
            if name == "y" and course.labels == "integers":
                return int(shape[0]) if shape else None
            if len(shape) == 2:
                return int(shape[0] if course.layout == "rows" else shape[1])
    return None


def _close(G: np.ndarray, R: np.ndarray, tol: float) -> bool:
    return G.shape == R.shape and bool(np.all(np.isfinite(G))) and rel_diff(G, R) <= tol


def _factor(
    course: Course, G: np.ndarray, R: np.ndarray, tol: float, m: int | None
) -> list[Diagnosis]:
    if not np.all(np.isfinite(G)) or not np.all(np.isfinite(R)) or R.size == 0:
        return []
    c, residual = fit_factor(G, R)
    if residual > tol or abs(c) <= tol:
        return []
    found: list[Diagnosis] = []
    if c < 0:
        found.append(Diagnosis("sign", "is the negative of the correct one: a sign is flipped"))
    mag = abs(c)
    if abs(mag - 1) <= _DISTINCT * tol:
        return found
    if m is not None and m > 1 and abs(mag - m) <= _DISTINCT * tol * m:
        why = (
            "the 1/m of the mean over the m examples is missing (this course's `reduction` "
            'is "mean")'
            if course.reduction == "mean"
            else "a factor m too many"
        )
        return [*found, Diagnosis("factor-m", f"is m × the correct one (m = {m}): {why}")]
    if m is not None and m > 1 and abs(mag - 1 / m) <= _DISTINCT * tol / m:
        why = (
            'divided by m where this course sums over the examples (`reduction = "sum"`)'
            if course.reduction == "sum"
            else "the 1/m of the mean is applied twice"
        )
        return [*found, Diagnosis("factor-m", f"is 1/m × the correct one (m = {m}): {why}")]
    if R.size > 1:
        found.append(Diagnosis("scaled", f"is {mag:.6g} × the correct one: a constant factor"))
    return found


def _block(
    course: Course, fid: str, R: np.ndarray, got: Any, tol: float, m: int | None
) -> list[Diagnosis]:
    try:
        G = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return [Diagnosis("wrong-shape", "is not a numeric array")]
    if G.shape == R.shape:
        if _close(G, R, tol):
            return []
        found = _factor(course, G, R, tol, m)
        if R.ndim == 2 and R.shape[0] == R.shape[1] and _close(G.T, R, tol):
            found.append(Diagnosis("transposed", "is the transpose of the correct one"))
        return found
    layout = "rows" if course.layout == "rows" else "columns"
    if fid == "dL_db" and G.size == R.size:
        values = (
            "its values are right"
            if _close(G.reshape(R.shape), R, tol)
            else "its values are wrong too"
        )
        return [
            Diagnosis(
                "bias-shape",
                f"has shape {G.shape} where this course's biases have shape {course.bias}, "
                f"here {R.shape}; {values}",
            )
        ]
    if G.ndim == 2 and R.ndim == 2 and G.shape == R.shape[::-1] and _close(G.T, R, tol):
        detail = (
            f"is the transpose of the correct one: in this course the examples are "
            f'{layout} (`layout = "{course.layout}"`)'
        )
        return [
            Diagnosis("wrong-shape", f"has shape {G.shape}, not {R.shape}"),
            Diagnosis("transposed", detail),
        ]
    return [Diagnosis("wrong-shape", f"has shape {G.shape} where the course's shape is {R.shape}")]


def _merge(found: list[tuple[str, Diagnosis]]) -> list[Diagnosis]:
    by_id: dict[str, list[str]] = {}
    text: dict[str, str] = {}
    for subject, d in found:
        by_id.setdefault(d.id, [])
        if subject not in by_id[d.id]:
            by_id[d.id].append(subject)
        text.setdefault(d.id, d.explanation)
    return [
        Diagnosis(ident, f"your {', '.join(subjects)} {text[ident]}")
        for ident, subjects in by_id.items()
    ]


def diagnose_course(
    course: Course, fid: str, args: Mapping[str, Any], expected: Any, got: Any
) -> list[Diagnosis]:
    """The diagnoses of a wrong result under `course`; never raises for `got`."""
    tol = relative_tolerance(np.dtype(np.float64))
    if isinstance(got, np.ndarray | np.generic) and got.dtype.kind == "f":
        tol = relative_tolerance(got.dtype)
    m = _examples(course, args)
    with np.errstate(all="ignore"):
        if fid != "backward":
            return _merge(
                [(fid, d) for d in _block(course, fid, as_float64(expected), got, tol, m)]
            )
        if not isinstance(got, list | tuple) or len(got) != len(expected):
            return [
                Diagnosis(
                    "wrong-shape",
                    f"your backward is not a list of {len(expected)} (dW_l, db_l) pairs",
                )
            ]
        found: list[tuple[str, Diagnosis]] = []
        for l, ((eW, eb), pair) in enumerate(zip(expected, got, strict=True), start=1):
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                return [Diagnosis("wrong-shape", f"your backward's item {l - 1} is not a pair")]
            found += [
                (f"dW_{l}", d) for d in _block(course, "dL_dW", as_float64(eW), pair[0], tol, m)
            ]
            found += [
                (f"db_{l}", d) for d in _block(course, "dL_db", as_float64(eb), pair[1], tol, m)
            ]
        if course.has_last_relu and _no_last_relu(course, args, got, tol):
            found.append(
                (
                    "backward",
                    Diagnosis(
                        "no-last-relu",
                        "is the gradient of a network without the ReLU of the last layer",
                    ),
                )
            )
        return _merge(found)


def _no_last_relu(course: Course, args: Mapping[str, Any], got: Any, tol: float) -> bool:
    """Whether `got` is the backward pass of the course without its last ReLU."""
    other = CourseReference(replace(course, output="softmax")).backward(**args)
    try:
        return all(
            _close(np.asarray(g, dtype=np.float64).reshape(np.shape(t)), t, tol)
            for pair, tpair in zip(got, other, strict=True)
            for g, t in zip(pair, tpair, strict=True)
        )
    except (TypeError, ValueError):
        return False
