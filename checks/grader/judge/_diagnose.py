"""Diagnoses: the shape of a wrong result, recognised from plain arrays, in the notes' words.

`diagnose(fid, args, expected, got)` compares a submission's result `G` for the contract
function `fid` with the reference `R` and returns every known mistake whose signature
(docs/diagnoses.md) the difference fits. Three kinds of evidence:

- a constant factor: `c = ⟨G, R⟩/⟨R, R⟩` with `‖G - cR‖` tiny (``factor-m``, ``sign``,
  ``scaled``), also once `G` is transposed or reshaped to the contract's shape;
- a shape: the contract's against the one returned (``wrong-shape``, ``bias-shape``,
  ``a-for-a-prev``, sums over the wrong axis);
- a template: the result of a known wrong formula at the same arguments, among them the
  notes' formulas as written (`backprop.as_written`, errata E1-E5); for `backward`, the
  reference pass with one of its steps replaced (the catalog's ``compose``).

Thresholds come from the result's own precision (`tolerance`): a correct result, in
float64 or float32, never gets a diagnosis. Nothing here raises on an odd `got`.
docs/diagnoses.md documents every identifier, its evidence and an example.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from backprop import LOSSES
from backprop import network as net
from backprop.catalog import FORMULAS
from checks.findings import (
    DIAGNOSES,
    Finding,
    as_float64,
    fit_factor,
    rel_diff,
    relative_tolerance,
)
from checks.grader.judge._compare import n_terms
from checks.grader.judge._epsilon import find_guard
from checks.grader.judge._templates import Template, backward_templates, templates

__all__ = ["Diagnosis", "diagnose"]

Array = npt.NDArray[Any]
Finding3 = tuple[str, str, str]  # (id, subject, detail)

#: A candidate explanation must differ from the reference by this many tolerances.
DISTINCT: Final = 10.0


@dataclass(frozen=True)
class Diagnosis:
    """One recognised mistake: an identifier of `DIAGNOSES` and a specific explanation."""

    id: str
    explanation: str


# --- fingerprints: generic comparisons of two arrays --------------------------------


def _matches(G: Array, T: Array, tol: float) -> bool:
    """`G ≈ T`: one shape, NaN and infinities at the same places, the rest within `tol`."""
    if G.shape != T.shape:
        return False
    fg, ft = np.isfinite(G), np.isfinite(T)
    if not np.array_equal(fg, ft) or not np.array_equal(G[~fg], T[~ft], equal_nan=True):
        return False
    return rel_diff(G[fg], T[ft]) <= tol


def _fits(G: Array, T: Array, R: Array, tol: float) -> bool:
    """`G` matches `T`, a candidate that certainly differs from the reference `R`."""
    return _matches(G, T, tol) and not _matches(T, R, DISTINCT * tol)


def _detail(t: Template, fid: str) -> str:
    """`is <what>`, or for the notes' formula as written, which erratum it carries."""
    if not t.erratum:
        return f"is {t.what}"
    verb = (
        "follows the notes as written" if fid == "backward" else "is the notes' formula as written"
    )
    return f"{verb}, erratum {t.erratum}: {t.what}"


def _qualified(detail: str, how: str) -> str:
    """`detail` of `G` once `how` (transposed, reshaped): "is, once transposed, ..."."""
    verb, _, rest = detail.partition(" ")
    return f"{verb}, {how}, {rest}"


# --- one result -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Case:
    fid: str  # the formula whose templates and shapes apply
    args: Mapping[str, Any]
    R: Array
    tol: float
    kind: str
    context: str  # whose words explain a factor m: `fid`, or "backward" for its blocks


def _numeric(got: object) -> Array | str:
    """`got` as a float64 array, or what it is instead."""
    try:
        arr = np.asarray(got)
    except Exception:  # ragged, or a foreign object: never the checker's failure
        return "is not an array (a ragged or non-numeric sequence)"
    if arr.dtype.kind not in "biuf":
        return f"is not a numeric array (dtype {arr.dtype})"
    return np.asarray(arr, dtype=np.float64).view(np.ndarray)


def _shapes(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    has = "is a scalar" if got == () else f"has shape {got}"
    return f"{has} where the contract's " + ("is a scalar" if want == () else f"shape is {want}")


_EXAMPLES_FROM = {
    "loss": "y",
    "dL_dyhat": "y",
    "dL_daL": "y",
    "dL_dz": "z",
    "relu": "z",
    "relu_mask": "z",
    "dL_da": "dL_dz_next",
    "dL_dW": "dL_dz",
    "dL_db": "dL_dz",
    "forward": "X",
    "backward": "X",
    "softmax": "a",
    "decide": "a",
}


def _named_factors(case: _Case) -> list[tuple[float, str, str]]:
    """Constants with a meaning here: (value, name, why)."""
    fid = "backward" if case.context == "backward" else case.fid
    shape = np.shape(case.args.get(_EXAMPLES_FROM.get(fid, ""), ()))
    m = shape[1] if len(shape) == 2 else None
    n_L = None
    if fid in ("loss", "dL_dyhat", "dL_daL", "softmax", "decide"):
        n_L = shape[0] if len(shape) == 2 else None
    elif fid in ("forward", "backward"):
        n_L = np.shape(case.args["params"][-1][0])[0]
    named: list[tuple[float, str, str]] = []
    if m is not None and m > 1:
        named += [
            (m, f"m (m = {m})", _why_m(case, "m")),
            (1 / m, f"1/m (m = {m})", _why_m(case, "1/m")),
            (m * m, f"m² (m = {m})", "the 1/m is missing twice"),
            (1 / m**2, f"1/m² (m = {m})", "1/m applied twice too often (at every layer?)"),
            (1 / m**3, f"1/m³ (m = {m})", "1/m applied three times too often (at every layer?)"),
        ]
    if n_L is not None and n_L > 1:
        named += [
            (
                1 / n_L,
                f"1/n_L (n_L = {n_L})",
                "a mean over the classes too (np.mean over "
                "the whole array, where the notes sum over the classes)",
            ),
            (n_L, f"n_L (n_L = {n_L})", ""),
        ]
    return [*named, (2.0, "2", ""), (0.5, "1/2", "")]


def _why_m(case: _Case, which: str) -> str:
    if case.context == "loss" and which == "m":
        return "the sum over the m examples, not their mean: the 1/m of the loss is missing"
    if case.context in ("loss", "dL_dyhat", "dL_daL", "forward", "backward"):
        return (
            "the 1/m of the loss (the mean over the m examples) is missing"
            if which == "m"
            else "the 1/m of the mean is applied twice"
        )
    arg = {"dL_dz": "dL_da", "dL_da": "dL_dz_next", "dL_dW": "dL_dz", "dL_db": "dL_dz"}.get(
        case.context
    )
    if arg is None:
        return ""
    if which == "m":
        return f"a factor m too many: `{arg}` already holds the loss's 1/m (from dL_daL)"
    return f"the 1/m of the mean is applied twice: `{arg}` already holds it (from dL_daL)"


def _factor_findings(case: _Case, c: float) -> list[Finding]:
    """What `G ≈ cR` means, for a fitted constant `c`."""
    mag, tol = abs(c), case.tol
    if abs(mag - 1) <= DISTINCT * tol:
        if c > 0:
            return []
        return [
            Finding(
                "sign",
                "is the negative of the correct one: a sign is flipped (e.g. y - ŷ "
                "for ŷ - y, or the minus of the loss dropped)",
            )
        ]
    ident, label, why = "scaled", f"{mag:.6g}", "a constant factor"
    for value, name, reason in _named_factors(case):
        if abs(mag - value) <= DISTINCT * tol * value:
            ident = "factor-m" if name.startswith(("m (", "1/m (")) else "scaled"
            label, why = name, reason
            break
    else:
        if case.R.size <= 1:  # any scalar is a multiple of another: only a named factor counts
            return []
    sign = "-" if c < 0 else ""
    found = [Finding(ident, f"is {sign}{label} × the correct one" + (f": {why}" if why else ""))]
    if c < 0:
        found.append(Finding("sign", f"is {sign}{label} × the correct one: its sign is flipped"))
    return found


def _not_finite(case: _Case, G: Array) -> Finding | None:
    bad = ~np.isfinite(G) & np.isfinite(case.R)
    if not bad.any():
        return None
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    hint = {
        "softmax": ": exp overflowed; subtract each column's maximum first, "
        "softmax(a) = softmax(a - max_i a_i)",
        "forward": ": exp overflowed in the softmax; subtract each column's maximum first",
        "loss": ": log(0) where a probability is 0 or 1; a term whose weight (y or 1 - y) is "
        "0 must count 0",
        "dL_dyhat": ": a division by ŷ or 1 - ŷ where it is 0; a term whose weight is 0 must "
        "count 0",
    }.get(case.fid, "")
    return Finding(
        "not-finite",
        f"has {int(bad.sum())} NaN or infinite entries where the correct "
        f"result is finite (the first at index {where}){hint}",
    )


def _values(case: _Case, G: Array) -> tuple[bool, list[Finding]]:
    """Whether `G`, of the reference's shape, is right, and what it is if it is not."""
    R, tol = case.R, case.tol
    if _matches(G, R, tol):
        return True, []
    findings: list[Finding] = []
    bad = _not_finite(case, G)
    if bad is not None:
        findings.append(bad)
    elif np.isfinite(R).all():
        c, residual = fit_factor(G, R)
        if residual <= tol and abs(c) > tol:
            findings += _factor_findings(case, c)
    known = templates(case.fid, case.args, case.kind)
    for t in known:
        if _fits(G, as_float64(t.value), R, tol):
            findings.append(Finding(t.id, _detail(t, case.fid)))
    if not findings:
        findings += _composed(case, G, [(t, as_float64(t.value)) for t in known])
    return False, findings


def _named(case: _Case, c: float) -> tuple[str, str, str] | None:
    """The named factor `c` is (identifier, name, why), or None; a sign is allowed."""
    mag = abs(c)
    for value, name, reason in _named_factors(case):
        if abs(mag - value) <= DISTINCT * case.tol * value:
            ident = "factor-m" if name.startswith(("m (", "1/m (")) else "scaled"
            return ident, ("-" if c < 0 else "") + name, reason
    return None


def _composed(case: _Case, G: Array, known: list[tuple[Template, Array]]) -> list[Finding]:
    """Two mistakes at once: a named factor (m, 1/m, ...) times a template, or its transpose.

    Notes
    -----
    Course code that sums over the examples *and* carries a known mistake (the notes'
    E2, the other loss's derivative) is `c·T` for a template `T`: `c` is fitted as for a
    plain factor, and accepted only when it is one of the factors with a meaning here
    and the residual is within the result's precision.
    """
    found: list[Finding] = []
    for t, T in known:
        if T.shape == case.R.shape and _matches(T, case.R, DISTINCT * case.tol):
            continue  # not a mistake at this case
        if T.shape == G.shape and np.isfinite(T).all():
            c, residual = fit_factor(G, T)
            named = _named(case, c) if residual <= case.tol and abs(abs(c) - 1) > case.tol else None
            if named is not None and not _matches(c * T, case.R, DISTINCT * case.tol):
                ident, label, why = named
                detail = _detail(t, case.fid)
                found.append(Finding(t.id, f"{_qualified(detail, f'up to a factor {label}')}"))
                found.append(
                    Finding(
                        ident,
                        f"is {label} × what that mistake alone gives" + (f": {why}" if why else ""),
                    )
                )
                break
        if (
            T.ndim == 2
            and T.shape == G.shape[::-1]
            and T.shape == case.R.shape
            and _fits(G.T, T, case.R, case.tol)
        ):
            found.append(Finding(t.id, _qualified(_detail(t, case.fid), "once transposed")))
            found.append(Finding("transposed", "is the transpose of a known mistake"))
            break
    return found


def _shape_findings(case: _Case, G: Array) -> list[Finding]:
    """What a `G` whose shape is not the reference's is."""
    R, tol, args = case.R, case.tol, case.args
    n = R.shape[0] if R.ndim == 2 else -1
    if case.fid == "dL_db" and G.shape in ((n,), (1, n)):
        right, found = _values(case, G.reshape(R.shape))
        # In n_l's words, not numbers: a backward's blocks then share one explanation.
        if G.shape == (1, n):
            how = "has shape (1, n_l), a row, where b_l is a column (n_l, 1)"
        else:
            how = (
                "has shape (n_l,), not (n_l, 1) like b_l: np.sum(dL_dz, axis=1) without "
                "keepdims=True"
            )
            if right:
                how = f"is the notes' formula as written, erratum E4: it {how}"
        values = "its values are right" if right else "its values are wrong too"
        return [
            Finding(
                "bias-shape", f"{how}; b_l -= lr * db would then broadcast to (n_l, n_l); {values}"
            ),
            *found,
        ]
    shapes = _shapes(G.shape, R.shape)
    findings: list[Finding] = []
    if G.ndim == 2 and R.ndim == 2 and G.shape == R.shape[::-1]:
        right, found = _values(case, G.T)
        if right and case.fid == "dL_dyhat":
            findings.append(
                Finding(
                    "transposed",
                    "is the notes' formula as written, erratum E5: 'a "
                    "matrix of size m × 10', one row per example, where the examples "
                    "are columns",
                )
            )
        elif right:
            findings.append(Finding("transposed", "is the transpose of the correct one"))
        elif found:
            findings.append(Finding("transposed", "is transposed, and wrong besides"))
            findings += [Finding(x.id, _qualified(x.detail, "once transposed")) for x in found]
    elif G.size == R.size and G.squeeze().shape == R.squeeze().shape:
        found = _values(case, G.reshape(R.shape))[1]
        findings += [
            Finding(x.id, _qualified(x.detail, f"once reshaped to {R.shape}")) for x in found
        ]
    if case.fid == "dL_db":
        dz = as_float64(args["dL_dz"])
        for how, total in (("summed", np.sum), ("averaged", np.mean)):
            for axis, words in (
                (0, "over the rows (axis=0), not over the examples (axis=1)"),
                (None, "over both axes, not over the examples (axis=1) alone"),
            ):
                T = as_float64(total(dz, axis=axis))
                if G.size == T.size and _matches(G.reshape(T.shape), T, tol):
                    findings.append(Finding("wrong-axis", f"is ∂L/∂z_l {how} {words}"))
        if _matches(G, dz, tol):
            shapes += ": it is dL_dz itself, not summed over the examples (axis=1)"
    if case.fid == "dL_dW" and G.ndim == 2 and R.ndim == 2:
        n_l, n_prev = R.shape
        if G.shape == (n_l, n_l) and n_l != n_prev:
            findings.append(
                Finding(
                    "a-for-a-prev",
                    f"has shape ({n_l}, {n_l}) = (n_l, n_l): a_l was "
                    "used where ∂L/∂W_l = ∂L/∂z_l a_{l-1}ᵀ has a_{l-1}",
                )
            )
        n_0 = np.shape(args["X"])[0] if "X" in args else n_prev
        if G.shape == (n_l, n_0) and n_0 not in (n_prev, n_l):
            findings.append(
                Finding(
                    "a-for-a-prev",
                    f"has shape ({n_l}, {n_0}) = (n_l, n_0): X was "
                    "used for a_{l-1}, as if every layer were the first",
                )
            )
    return [Finding("wrong-shape", shapes), *findings]


def _single(case: _Case, got: object) -> list[Finding]:
    G = _numeric(got)
    if isinstance(G, str):
        want = "a scalar" if case.R.shape == () else f"an array of shape {case.R.shape}"
        return [Finding("wrong-shape", f"{G}, where the contract's is {want}")]
    if G.shape != case.R.shape:
        return _shape_findings(case, G)
    right, findings = _values(case, G)
    R, tol = case.R, case.tol
    square = R.ndim == 2 and R.shape[0] == R.shape[1]
    if not right and square and _fits(G.T, R, R.T, tol):  # a transpose of the right shape
        findings.append(Finding("transposed", "is the transpose of the correct one"))
    return findings


def _tolerance_of(values: Sequence[object]) -> float:
    """The tolerance of the least precise of `values`."""
    dtypes = [v.dtype for v in values if isinstance(v, np.ndarray | np.generic)]
    return max(
        (relative_tolerance(d) for d in dtypes), default=relative_tolerance(np.dtype(np.float64))
    )


# --- backward: per block, then merged -------------------------------------------------


def _pairs(got: object, L: int) -> list[tuple[object, object]] | str:
    """`got` as `L` pairs `(dW_l, db_l)`, or what it is instead."""
    if not isinstance(got, list | tuple):
        return f"is a {type(got).__name__}, not a list of {L} (dW_l, db_l) pairs, one per layer"
    if len(got) != L:
        items = f"{len(got)} item" + ("" if len(got) == 1 else "s")
        return f"has {items} where the contract has {L} (dW_l, db_l) pairs, one per layer"
    for layer, item in enumerate(got, start=1):
        if not isinstance(item, list | tuple) or len(item) != 2:
            return f"has an item {layer - 1} that is not a pair (dW_{layer}, db_{layer})"
    return [(item[0], item[1]) for item in got]


def _same_blocks(G: list[Array], T: list[Array], tol: float) -> bool:
    """Every block of `G` matches `T`'s, a bias by its values whatever its shape."""
    return all(
        _matches(g.reshape(t.shape) if g.size == t.size else g, t, tol)
        for g, t in zip(G, T, strict=True)
    )


def _backward(args: Mapping[str, Any], expected: Any, got: object, kind: str) -> list[Finding3]:
    R = [as_float64(x) for pair in expected for x in pair]
    L = len(R) // 2
    pairs = _pairs(got, L)
    if isinstance(pairs, str):
        return [("wrong-shape", "backward", pairs)]
    raw = [x for pair in pairs for x in pair]
    tol = _tolerance_of(raw)
    arrays = [_numeric(x) for x in raw]
    G = [a for a in arrays if not isinstance(a, str)]
    found: list[Finding3] = []
    if len(G) == len(R) and not _same_blocks(G, R, tol):
        flipped = [x for j in range(L - 1, -1, -1) for x in G[2 * j : 2 * j + 2]]
        if L > 1 and _same_blocks(flipped, R, tol):
            return [
                (
                    "reversed-layers",
                    "backward",
                    "lists the layers from L down to 1: the "
                    "loop runs l = L..1, so reverse the list before returning it",
                )
            ]
        known = backward_templates(args, kind)
        for t in known:
            if _same_blocks(G, t.value, tol) and not _same_blocks(t.value, R, DISTINCT * tol):
                found.append((t.id, "backward", _detail(t, "backward")))
        if not found and all(g.size == r.size for g, r in zip(G, R, strict=True)):
            found += _composed_backward(args, G, R, known, tol, kind)
    params, X = args["params"], args["X"]
    cache = net.forward_cache(params, X)
    dz = net.gradients(params, X, args["Y"], kind=kind).dz
    for j in range(L):  # layer l = j + 1
        block = {"dL_dz": dz[j], "a_prev": cache.a[j], "X": X, "params": params}
        for k, (fid, name) in enumerate((("dL_dW", f"dW_{j + 1}"), ("dL_db", f"db_{j + 1}"))):
            case = _Case(fid, block, R[2 * j + k], tol, kind, "backward")
            found += [(x.id, name, x.detail) for x in _single(case, pairs[j][k])]
    return found


def _composed_backward(
    args: Mapping[str, Any],
    G: list[Array],
    R: list[Array],
    known: list[Template],
    tol: float,
    kind: str,
) -> list[Finding3]:
    """A named factor times a whole wrong pass (every block scaled alike)."""
    flat_g = np.concatenate([g.ravel() for g in G])
    case = _Case("backward", args, np.concatenate([r.ravel() for r in R]), tol, kind, "backward")
    for t in known:
        flat_t = np.concatenate([as_float64(x).ravel() for x in t.value])
        if flat_t.shape != flat_g.shape or not np.isfinite(flat_t).all():
            continue
        if _matches(flat_t, case.R, DISTINCT * tol):  # not a mistake at this case
            continue
        c, residual = fit_factor(flat_g, flat_t)
        named = _named(case, c) if residual <= tol and abs(abs(c) - 1) > tol else None
        if named is not None and not _matches(c * flat_t, case.R, DISTINCT * tol):
            ident, label, why = named
            detail = _detail(t, "backward")
            return [
                (t.id, "backward", _qualified(detail, f"up to a factor {label}")),
                (
                    ident,
                    "backward",
                    f"is {label} × what it would be otherwise" + (f": {why}" if why else ""),
                ),
            ]
    return []


def _merge(found: list[Finding3]) -> list[Diagnosis]:
    """One diagnosis per id, in `DIAGNOSES` order, grouping the subjects of one detail."""
    by_id: dict[str, dict[str, list[str]]] = {}
    for ident, subject, detail in found:
        subjects = by_id.setdefault(ident, {}).setdefault(detail, [])
        if subject not in subjects:
            subjects.append(subject)
    return [
        Diagnosis(
            ident,
            "; ".join(
                f"your {names[0]} {detail}"
                if len(names) == 1
                else f"your {', '.join(names)}: each {detail}"
                for detail, names in by_id[ident].items()
            ),
        )
        for ident in DIAGNOSES
        if ident in by_id
    ]


# --- the entry point ------------------------------------------------------------------


def diagnose(
    fid: str, args: Mapping[str, Any], expected: Any, got: Any, *, kind: str = "notes"
) -> list[Diagnosis]:
    """Every known mistake whose signature the difference of `got` from `expected` fits.

    Parameters
    ----------
    fid : str
        A contract function (``"dL_dW"``, ``"backward"``, ...).
    args : mapping
        The arguments it was called with, named as in the contract (float64).
    expected : array_like or list of pairs
        The reference result, ``FORMULAS[fid].reference(args, kind)``.
    got : object
        The submission's result as plain data: any shape, dtype or length.
    kind : {"notes", "categorical"}
        The course's loss.

    Returns
    -------
    list of Diagnosis
        One per identifier, in the order of `DIAGNOSES`; empty when `got` is right or
        fits no known mistake. ``mutates-input`` is the caller's to decide.

    Raises
    ------
    ValueError
        For an unknown `fid` or `kind`; never for anything in `got`.
    """
    if fid not in FORMULAS:
        raise ValueError(f"`fid` must be a contract function, got {fid!r}")
    if kind not in LOSSES:
        known = " or ".join(repr(k) for k in LOSSES)
        raise ValueError(f"`kind` must be {known}, got {kind!r}")
    with np.errstate(all="ignore"):
        guard = find_guard(fid, args, got, kind, n_terms(dict(args)))
        if guard is not None:
            return [Diagnosis("log-epsilon", guard.sentence(f"your {fid}"))]
        if fid == "backward":
            return _merge(_backward(args, expected, got, kind))
        case = _Case(fid, args, as_float64(expected), _tolerance_of([got]), kind, fid)
        return _merge([(x.id, fid, x.detail) for x in _single(case, got)])
