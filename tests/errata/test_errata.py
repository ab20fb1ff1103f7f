"""The errata regression suite: every erratum of the catalog, proven by the engine alone.

For each erratum, the notes' formula as written must fail its numerical check (or, for
E4 and E5, the shape contract), with the failure shrunk to a minimal counterexample and
named by that erratum; and the correct form must pass. Strict both ways: an erratum that
stops reproducing fails the suite, and so does a correction that stops holding. The
minimal counterexamples are printed in the run's summary.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from backprop.catalog import ERRATA, FORMULAS
from checks.cli._errata import disagreements
from checks.errata import Verdict, check_formula, check_notes

SEED = 0


@pytest.fixture(scope="module")
def notes_verdicts() -> dict[str, Verdict]:
    return check_notes(seed=SEED, max_examples=40)


@pytest.mark.parametrize("eid", sorted(ERRATA))
def test_erratum_reproduces_with_a_minimal_counterexample(
    eid: str, notes_verdicts: dict[str, Verdict], counterexamples: dict[str, str]
) -> None:
    erratum = ERRATA[eid]
    verdict = notes_verdicts[erratum.formula]
    assert not verdict.holds, f"{eid}: the notes' {erratum.formula} now passes its check"
    assert eid in verdict.errata, (eid, verdict.errata)
    example = verdict.counterexample
    assert example is not None
    assert example.reason == erratum.shows_as
    # Shrunk: the smallest network the strategies allow (one layer) shows every erratum.
    assert len(example.point.params) == 1
    point = example.point
    widths = [point.params[0][0].shape[1]] + [W.shape[0] for W, _ in point.params]
    counterexamples[eid] = (
        f"{erratum.formula} at widths {widths}, m = {point.X.shape[1]}: "
        f"{example.detail.splitlines()[0]}"
    )


@pytest.mark.parametrize("eid", sorted(ERRATA))
def test_erratum_correction_holds(eid: str) -> None:
    entry = FORMULAS[ERRATA[eid].formula]
    correct = partial(entry.correct, kind="notes") if entry.loss_dependent else entry.correct
    verdict = check_formula(entry, correct, seed=SEED, max_examples=25)
    assert verdict.holds, verdict.counterexample


def test_computed_verdicts_agree_with_the_catalog(notes_verdicts: dict[str, Verdict]) -> None:
    assert disagreements(notes_verdicts) == []
    for fid, verdict in notes_verdicts.items():
        assert verdict.holds == (not FORMULAS[fid].errata), fid


def test_backward_errata_are_traced_to_their_components(notes_verdicts: dict[str, Verdict]) -> None:
    assert set(notes_verdicts["backward"].errata) == {"E2", "E3", "E4"}


def test_E2_the_notes_shortcut_holds_under_the_categorical_loss() -> None:
    assert check_formula("dL_daL", kind="categorical", seed=SEED, max_examples=25).holds


def test_E2_the_gap_is_large_on_the_FORMULAS_case(rng: np.random.Generator) -> None:
    # FORMULAS.md: on a random 5-class, 4-example case the largest entry differs by ~0.076.
    from backprop import as_written, dL_daL, softmax

    y_hat = softmax(rng.normal(size=(5, 4)))
    y = np.eye(5)[:, [0, 1, 2, 3]]
    gap = np.abs(as_written.dL_daL(y_hat, y) - dL_daL(y_hat, y)).max()
    assert 0.01 < gap < 0.2


def test_a_new_erratum_is_reported_as_new() -> None:
    # A candidate wrong in a way no erratum describes: a sign error in dL_dW.
    verdict = check_formula("dL_dW", lambda dL_dz, a_prev: -(dL_dz @ a_prev.T), max_examples=10)
    assert not verdict.holds and verdict.new


def test_candidate_must_be_callable_and_formula_known() -> None:
    with pytest.raises(TypeError, match="`candidate` must be callable"):
        check_formula("dL_dW", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`formula` must be a formula id"):
        check_formula("dL_dX")


def test_unchecked_points_are_reported_not_hidden_behind_holds() -> None:
    from checks.cli._errata import render
    from checks.errata import Verdict

    verdict = Verdict("dL_dz", True, (), 0.0, "central", 60, unchecked=3)
    assert verdict.to_json()["unchecked_points"] == 3
    text = render({"dL_dz": verdict}, seed=0, examples=60)
    assert "UNCHECKED entries at 3 of 60 points" in text
