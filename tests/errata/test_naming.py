"""Naming a failure: an erratum only when the result is exactly what it predicts.

Each candidate is judged at one fixed test point (the first set of arguments the point
gives the formula), and `_name_errata` is asked which errata the failure is an
instance of: the notes' forms as written are named; the same forms with anything
beyond them (a factor 2, a sign flip, a lost 1/m) are new. One end-to-end check runs
the whole search for the headline case, a factor 2 on the notes' backward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from backprop import as_written as aw
from backprop.catalog import FORMULAS, Point
from checks.cli._errata import disagreements
from checks.errata import _name_errata, check_formula, judge
from tests import oracle


def _scaled(c: float) -> Callable[..., Any]:
    return lambda **a: [(c * dW, c * db) for dW, db in aw.backward(**a)]


CASES = [
    ("backward", aw.backward, ("E2", "E3", "E4")),
    ("backward", _scaled(2.0), ()),
    ("backward", _scaled(-1.0), ()),
    ("dL_daL", aw.dL_daL, ("E2",)),
    ("dL_daL", lambda y_hat, y: y_hat - y, ()),  # the 1/m gone too
    ("dL_db", aw.dL_db, ("E4",)),
    ("dL_db", lambda dL_dz: np.sum(dL_dz, axis=1) / 2, ()),  # E4's values are right
    ("dL_dz", aw.dL_dz, ("E3",)),
    ("dL_dz", lambda dL_da, z: 2 * aw.dL_dz(dL_da, z), ()),
    ("softmax_jacobian", aw.softmax_jacobian, ("E1",)),
    ("dL_dyhat", aw.dL_dyhat, ("E5",)),
    ("dL_dyhat", lambda y_hat, y: -aw.dL_dyhat(y_hat, y), ()),
]


@pytest.fixture(scope="module")
def point() -> Point:
    params, X, Y = oracle.network(np.random.default_rng(5), [4, 5, 3], 4)
    return Point(params, X, Y)


@pytest.mark.parametrize(
    ("fid", "candidate", "named"),
    CASES,
    ids=[f"{c[0]}-{'+'.join(c[2]) or 'new'}-{i}" for i, c in enumerate(CASES)],
)
def test_an_erratum_names_only_what_it_predicts(
    point: Point, fid: str, candidate: Callable[..., Any], named: tuple[str, ...]
) -> None:
    entry = FORMULAS[fid]
    failure = judge(entry, candidate, point)
    assert not failure.ok
    assert _name_errata(entry, failure, point, "notes") == named


def test_a_factor_two_on_the_notes_backward_is_new_and_disagrees_with_the_catalog() -> None:
    verdict = check_formula("backward", _scaled(2.0), seed=0, max_examples=3)
    assert not verdict.holds and verdict.errata == () and verdict.new
    problems = disagreements({"backward": verdict})
    assert any("no erratum of the catalog names" in p for p in problems)
    assert any("E2 no longer reproduces" in p for p in problems)
