"""The errata regression suite: every erratum of the catalog, proven by the engine alone.

For each erratum, the notes' formula as written must fail its numerical check (or, for
E4 and E5, the shape contract), with the failure shrunk to a minimal counterexample and
named by that erratum; and the correct form must pass. Strict both ways: an erratum that
stops reproducing fails the suite, and so does a correction that stops holding. The
minimal counterexamples are printed in the run's summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pytest

from backprop.catalog import ERRATA, FORMULAS
from checks.cli._errata import disagreements
from checks.errata import Judgement, Verdict, check_formula, check_notes, judge

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
    # docs/formulas.md, E2: on a random 5-class, 4-example case the largest entry differs by ~0.076
    from backprop import as_written, dL_daL, softmax

    y_hat = softmax(rng.normal(size=(5, 4)))
    y = np.eye(5)[:, [0, 1, 2, 3]]
    gap = np.abs(as_written.dL_daL(y_hat, y) - dL_daL(y_hat, y)).max()
    assert 0.01 < gap < 0.2


@pytest.mark.parametrize("widths, m", [([2, 3], 5), ([8, 7, 6], 8)])
def test_a_truths_batch_gives_its_values_bit_for_bit(
    widths: list[int], m: int, rng: np.random.Generator
) -> None:
    # the verdict evaluates a truth that has a batch (relu_mask's, dL_da's, dL_dW's)
    # many points a call: the very values of its function, so the same differences,
    # errors and verdicts; at a test point's arguments, and at larger ones (numpy sums
    # in blocks of 128 entries)
    from backprop.catalog import Truth
    from checks.strategies._points import build_point

    point = build_point(rng, widths, m, "notes", margin=1e-2, min_probability=1e-2)
    assert point is not None
    args = [(entry, a) for entry in FORMULAS.values() for a in entry.sample(point)]
    big = rng.normal(size=(20, 30))
    args += [
        (FORMULAS["relu_mask"], {"z": big}),
        (FORMULAS["dL_da"], {"W_next": rng.normal(size=(20, 25)), "dL_dz_next": big}),
        (FORMULAS["dL_dW"], {"dL_dz": big, "a_prev": rng.normal(size=(25, 30))}),
    ]
    truths: dict[str, list[Truth]] = {}
    for entry, a in args:
        if entry.truth is not None and (truth := entry.truth(a, "notes")).batch is not None:
            truths.setdefault(entry.id, []).append(truth)
    assert sorted(truths) == ["dL_dW", "dL_da", "relu_mask"]
    for truth in (t for found in truths.values() for t in found):
        assert isinstance(truth.x, np.ndarray) and truth.batch is not None
        x = truth.x.ravel()
        moved = np.repeat(x[None, :], 2 * x.size, axis=0)  # each entry moved, as a check does
        moved[np.arange(x.size), np.arange(x.size)] += 6e-6 * np.maximum(1, np.abs(x))
        moved[x.size + np.arange(x.size), np.arange(x.size)] -= 1e-3
        points = np.concatenate([moved, rng.normal(size=(5, x.size))]).reshape(-1, *truth.x.shape)
        one_by_one = np.array([truth.f(p) for p in points])
        assert np.array_equal(truth.batch(points), one_by_one)


def test_a_new_erratum_is_reported_as_new() -> None:
    # A candidate wrong in a way no erratum describes: a sign error in dL_dW.
    verdict = check_formula("dL_dW", lambda dL_dz, a_prev: -(dL_dz @ a_prev.T), max_examples=10)
    assert not verdict.holds and verdict.new


def test_candidate_must_be_callable_and_formula_known() -> None:
    with pytest.raises(TypeError, match="`candidate` must be callable"):
        check_formula("dL_dW", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`formula` must be a formula id"):
        check_formula("dL_dX")


@pytest.mark.parametrize("fid", ["dL_dz", "dL_dyhat", "backward", "relu"])
def test_the_search_without_its_explain_phase_gives_the_same_verdicts(
    fid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the explain phase is skipped for speed: with it, the verdict, the errata named and
    # the shrunk counterexample are the same; only the points it tried are not counted
    from hypothesis import Phase

    import checks.errata as errata

    fast = check_formula(fid, seed=SEED, max_examples=20)
    monkeypatch.setattr(errata, "_PHASES", (*errata._PHASES, Phase.explain))
    full = check_formula(fid, seed=SEED, max_examples=20)
    assert (fast.holds, fast.errata, fast.method) == (full.holds, full.errata, full.method)
    assert fast.max_abs_error == full.max_abs_error
    if fast.holds:
        assert fast.examples == full.examples
        return
    assert fast.examples < full.examples
    a, b = fast.counterexample, full.counterexample
    assert a is not None and b is not None
    # the report in the detail gives its own wall time: the one thing that may differ
    untimed = [re.sub(r"evaluations; [0-9.e-]+ s", "", e.detail) for e in (a, b)]
    assert untimed[0] == untimed[1]
    assert dict(a.to_json(), detail="") == dict(b.to_json(), detail="")


def _untimed(verdict: Verdict) -> dict[str, object]:
    """`verdict` as JSON without the wall time that a failing report's detail gives."""
    found = verdict.to_json()
    if found["counterexample"] is not None:
        detail = re.sub(r"evaluations; [0-9.e-]+ s", "", found["counterexample"]["detail"])
        found["counterexample"] = dict(found["counterexample"], detail=detail)
    return found


@pytest.mark.parametrize("fid", ["softmax", "dL_da", "dL_dz"])
def test_the_notes_verdict_is_each_formulas_own_search(
    fid: str, notes_verdicts: dict[str, Verdict]
) -> None:
    # check_notes judges a formula on the points of the first one that held (relu)
    # instead of searching again: a formula that holds (softmax: a reference; dL_da: a
    # gradient check) or is an erratum (dL_dz, searched and shrunk) gets the verdict
    # of its own search, to the last digit of its error and its counterexample
    own = check_formula(fid, seed=SEED, max_examples=40)
    assert _untimed(notes_verdicts[fid]) == _untimed(own)


def test_the_notes_verdict_judges_copies_of_the_points_it_keeps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # forms that write into their arguments (the point's own arrays, its forward pass's,
    # its gradients'), judged on the points kept from relu's search: each fails (the
    # reference is computed from what it left) and is searched on its own; the formulas
    # after them are judged on copies none of them touched, the very points their own
    # searches try, with the same verdicts
    from dataclasses import replace

    import checks.errata as errata
    from backprop import formulas, network
    from backprop.catalog import Formula, Point

    def forward_then_zero(params: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray) -> object:
        result = network.forward(params, X)
        X[...] = 0.0
        for W, b in params:
            W[...], b[...] = 0.0, 0.0
        return result

    def softmax_then_zero(a: np.ndarray) -> object:
        result = formulas.softmax(a)
        a[...] = 0.0
        return result

    def sum_then_zero(dL_dz: np.ndarray) -> object:
        result = np.sum(dL_dz, axis=1, keepdims=True)
        dL_dz[...] = 0.0
        return result

    judged: list[tuple[str, str]] = []

    def spy(entry: Formula, candidate: Callable[..., Any], point: Point) -> Judgement:
        # what the formula is judged on: the point, and the arguments it gives the form
        seen = [
            errata._plain([point.params, point.X, point.Y]),
            *map(errata._plain, entry.sample(point)),
        ]
        judged.append((entry.id, repr(seen)))
        return judge(entry, candidate, point)

    writers = {"forward": forward_then_zero, "softmax": softmax_then_zero, "dL_db": sum_then_zero}
    keep = {fid: FORMULAS[fid] for fid in ("relu", *writers, "dL_dW", "decide")}
    keep.update({fid: replace(keep[fid], as_written=form) for fid, form in writers.items()})
    monkeypatch.setattr(errata, "FORMULAS", keep)
    monkeypatch.setattr(errata, "judge", spy)
    verdicts = {v.formula: v for v in errata.iter_notes(seed=SEED, max_examples=10)}
    assert verdicts["relu"].holds and not any(verdicts[fid].holds for fid in writers)
    in_notes = {fid: [point for f, point in judged if f == fid] for fid in ("dL_dW", "decide")}
    for fid, points in in_notes.items():
        judged.clear()
        assert _untimed(verdicts[fid]) == _untimed(check_formula(fid, max_examples=10))
        assert points == list(dict.fromkeys(point for _, point in judged))  # each once


def test_the_notes_verdict_streams_each_formula_as_soon_as_it_is_known(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    import checks.cli._errata as cli
    from checks.cli._main import main

    printed: list[str] = []

    def verdicts(**_: object) -> object:
        for fid in FORMULAS:
            # all the previous verdict prints is out before the next one is computed
            printed.append(capsys.readouterr().out)
            yield Verdict(fid, True, (), 0.0, "reference", 1)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(cli, "iter_notes", verdicts)
    assert main([]) == 1  # the catalog's errata "no longer reproduce": exit 1
    first = printed[1]
    assert first.count(" holds ") == 1 and next(iter(FORMULAS)) in first
    assert all(p.count(" holds ") == 1 for p in printed[2:])
    assert capsys.readouterr().err == ""  # no progress in a pipe
    terminal = Terminal()
    monkeypatch.setattr(cli.sys, "stderr", terminal)
    main([])
    assert f"checking {list(FORMULAS)[-1]} ({len(FORMULAS)}/{len(FORMULAS)})" in (
        terminal.getvalue()
    )
    assert terminal.getvalue().endswith("\r")  # and the line erased at the end


def test_unchecked_points_are_reported_not_hidden_behind_holds() -> None:
    from checks.cli._errata import render
    from checks.errata import Verdict

    verdict = Verdict("dL_dz", True, (), 0.0, "central", 60, unchecked=3)
    assert verdict.to_json()["unchecked_points"] == 3
    text = render({"dL_dz": verdict}, seed=0, examples=60)
    assert "UNCHECKED entries at 3 of 60 points" in text
