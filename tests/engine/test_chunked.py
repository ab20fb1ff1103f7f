"""A full check in ranges of entries: within its memory budget, and the same report."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

from backprop.catalog import param_blocks
from checks import NetworkLoss, check_gradient
from checks.engine import _chunked
from checks.engine._numdiff import estimate
from checks.engine._problem import Problem
from tests.engine._points import grad_blocks, network

MiB = 1 << 20


class SumOfSines:
    """`Σ sin(x_i)` over two blocks, with an `along_axes` whose temporaries are `O(k)`:
    the memory measured is the engine's own."""

    def __init__(self, x: dict[str, np.ndarray]) -> None:
        self.f0 = sum(float(np.sin(v).sum()) for v in x.values())

    def __call__(self, x: dict[str, Any]) -> Any:
        return sum(np.sin(v).sum() for v in x.values())

    def along_axes(
        self, x: dict[str, np.ndarray], name: str, index: np.ndarray, delta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        v = x[name].reshape(-1)[index]
        return self.f0 + (np.sin(v + delta) - np.sin(v)), np.zeros(len(index), dtype=bool)


def _sines(size: int) -> tuple[SumOfSines, dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    x = {"a": rng.uniform(-3, 3, (size // 2, 2)), "b": rng.uniform(-3, 3, size - size // 2)}
    return SumOfSines(x), x, {k: np.cos(v) for k, v in x.items()}


def _peak(run: Any) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_full_check_stays_within_its_memory_budget() -> None:
    P, budget = 200_000, 4 * MiB
    f, x, g = _sines(P)
    # What the check held before: `estimate`'s arrays of every entry at once.
    before = _peak(lambda: estimate(Problem(f, x), "central", None))
    assert before > 4 * budget
    reports = []
    peak = _peak(lambda: reports.append(check_gradient(f, g, x, memory=budget)))
    assert reports[0].status == "passed", str(reports[0])
    assert peak - 8 * P <= budget  # beyond x, g and the flat copy of x


def test_a_failing_block_beyond_the_budget_is_reported_without_its_diagnosis() -> None:
    f, x, g = _sines(200_000)
    wrong = {"a": 2 * g["a"], "b": g["b"]}
    small = check_gradient(f, wrong, x, memory=MiB)
    large = check_gradient(f, wrong, x, memory=64 * MiB)
    assert small.status == large.status == "failed"
    assert [b.failed for b in small.blocks] == [b.failed for b in large.blocks]
    assert [e.where for e in small.worst] == [e.where for e in large.worst]
    assert [x.id for x in large.blocks[0].findings] == ["scaled"]
    assert small.blocks[0].findings == ()
    assert "no diagnosis of a" in small.tolerance_source


def _close(a: float, b: float) -> bool:
    """To rounding: the kernel's batches differ, so a numerical value may differ in its
    last bits, and so may an error of 1e-16 (the gradients here are 0.01 to 1); a
    difference of the error model (a truncation coefficient measured on other entries)
    is of the order of the tolerance itself, 1e-10 and above."""
    return bool(a == pytest.approx(b, rel=1e-9, abs=1e-13, nan_ok=True))


def _agree(got: Any, want: Any) -> None:
    """The same verdicts, rows, failing entries, skipped and one-sided entries; which
    entry is worst among correct ones is rounding's choice, not compared."""
    assert got.status == want.status
    assert got.skipped == want.skipped and got.one_sided == want.one_sided
    assert got.tolerance_source.startswith(want.tolerance_source)
    for name in ("max_abs_error", "norm_rel_error", "tolerance", "step"):
        assert _close(getattr(got, name), getattr(want, name)), name
    for a, b in zip(got.blocks, want.blocks, strict=True):
        assert (a.name, a.shape, a.ok, a.checked, a.failed, a.skipped) == (
            b.name, b.shape, b.ok, b.checked, b.failed, b.skipped
        )  # fmt: skip
        assert _close(a.max_abs_error, b.max_abs_error) and _close(
            a.norm_rel_error, b.norm_rel_error
        )
        if not a.ok:
            assert _close(a.max_rel_error, b.max_rel_error)
        assert a.findings == b.findings
    assert got.findings == want.findings
    bad = [[e for e in r.worst if not e.error <= e.tolerance] for r in (got, want)]
    assert [e.where for e in bad[0]] == [e.where for e in bad[1]]
    for a, b in zip(*bad, strict=True):
        assert a.analytic == b.analytic
        assert all(
            _close(u, v) for u, v in ((a.numerical, b.numerical), (a.tolerance, b.tolerance))
        )


def _cases(seed: int) -> Any:
    """A random network with a pre-activation at a kink (0 or 1e-9 away), its gradient
    right, a block off by 1 %, one entry off, and a bias of the wrong shape."""
    rng = np.random.default_rng(seed)
    sizes = [int(n) for n in rng.integers(2, 9, int(rng.integers(3, 5)))]
    params, X, Y = network(rng, sizes, int(rng.integers(1, 6)))
    W, b = params[0]
    b[0, 0] -= (W @ X + b)[0, 0] - (1e-9 if seed % 2 else 0.0)
    grads = grad_blocks(params, X, Y)
    one = grads["b_1"].copy()
    one[-1, 0] += 1e-4
    yield NetworkLoss(X, Y), param_blocks(params), grads
    yield NetworkLoss(X, Y), param_blocks(params), dict(grads, W_1=1.01 * grads["W_1"])
    yield NetworkLoss(X, Y), param_blocks(params), dict(grads, b_1=one)
    yield NetworkLoss(X, Y), param_blocks(params), dict(grads, b_2=grads["b_2"].ravel())


@pytest.mark.parametrize("room", [1 << 20, 0])
@pytest.mark.parametrize("seed", range(3))
def test_ranges_of_a_few_entries_in_one_pass_give_the_report_at_once(
    seed: int, room: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    methods = ("central", "complex")
    at_once = [[check_gradient(f, g, x, method=k) for k in methods] for f, x, g in _cases(seed)]
    # ranges of 5 entries (blocks cut anywhere), taken in one pass; `room` bytes for the
    # entries judged at the end: with none, a range with such an entry is computed again
    monkeypatch.setattr(_chunked, "plan", lambda memory: (5, room, memory))
    monkeypatch.setattr(_chunked.Chunks, "_kept_bytes", lambda self: room + 1)
    for (f, x, g), expected in zip(_cases(seed), at_once, strict=True):
        for method, want in zip(methods, expected, strict=True):
            got = check_gradient(f, g, x, method=method)
            _agree(got, want)
            assert "in one pass" in got.tolerance_source
            if room:  # each entry once, the same sample's steps 2h, the same refinements
                assert got.evaluations == want.evaluations
            else:
                assert got.evaluations >= want.evaluations
            if method == "central" and not got.ok and room:
                assert "re-estimated" in got.tolerance_source or got.blocks


def test_one_pass_evaluates_each_entry_once_plus_the_sample() -> None:
    P, budget = 200_000, 4 * MiB
    f, x, g = _sines(P)
    size = sum(v.size for v in x.values())
    report = check_gradient(f, g, x, memory=budget)
    assert report.status == "passed" and "in one pass" in report.tolerance_source
    # two evaluations an entry (central), two for each sampled entry (4 a block at
    # most), and f(x)
    assert 2 * size < report.evaluations <= 2 * size + 2 * 4 * len(x) + 1
    kept = check_gradient(f, g, x, memory=256 * MiB)
    assert "in one pass" not in kept.tolerance_source
    assert report.evaluations == kept.evaluations
    assert report.tolerance == pytest.approx(kept.tolerance, rel=1e-9)
    b = g["b"].copy()
    b[:1000] *= 1.001
    wrong = {"a": g["a"], "b": b}
    failed = check_gradient(f, wrong, x, memory=budget)
    # the failing entries held to the end (1000 fit in the budget's quarter) and judged
    # as at once: none computed again
    assert failed.status == "failed" and failed.blocks[1].failed == 1000
    at_once = check_gradient(f, wrong, x, memory=256 * MiB)
    assert failed.evaluations == at_once.evaluations
    assert [e.where for e in failed.worst] == [e.where for e in at_once.worst]


def test_a_block_seen_whole_is_settled_and_frees_its_room() -> None:
    # one pass in 2 MiB: room for 10,922 held entries; each block has 8,000 wrong ones,
    # which fit one block at a time: the first block is judged once all of it is seen
    # (its figures are its own), so neither block's ranges are computed again
    rng = np.random.default_rng(1)
    x = {"a": rng.uniform(-3, 3, 20_000), "b": rng.uniform(-3, 3, 20_000)}
    f, g = SumOfSines(x), {k: np.cos(v) for k, v in x.items()}
    for v in g.values():
        v[:8000] *= 1.001
    report = check_gradient(f, g, x, memory=2 * MiB)
    at_once = check_gradient(f, g, x, memory=64 * MiB)
    assert "in one pass" in report.tolerance_source
    assert [b.failed for b in report.blocks] == [b.failed for b in at_once.blocks]
    assert report.evaluations == at_once.evaluations


@pytest.mark.parametrize("memory", [1000, True, 2.5e6, "64 MiB"])
def test_a_budget_that_is_not_an_int_of_at_least_1_mib_is_refused(memory: Any) -> None:
    f, x, g = _sines(10)
    with pytest.raises(ValueError, match="`memory` must be an int of at least 1 MiB"):
        check_gradient(f, g, x, memory=memory)


def test_the_bound_of_tolerances_is_their_largest_at_any_coefficient() -> None:
    # the report's tolerance of entries judged before the figures were final: the
    # hull it keeps, range by range, gives the largest E + c·B exactly at every c ≥ 0,
    # also for points on a convex curve (all on the lower hull) or on one line
    rng = np.random.default_rng(3)
    for case in range(40):
        n = int(rng.integers(1, 200))
        B = rng.uniform(0, 1e-10, n)
        E = {0: rng.uniform(0, 1e-9, n), 1: 1e-15 / np.sqrt(B + 1e-14), 2: 3e-10 - B}[case % 3]
        if case % 4 == 0:
            B = np.round(B * 1e10) / 1e10  # a few steps only
        kind = np.full(n, _chunked.PLAIN, np.int8)
        bound = _chunked.Bound()
        for lo in range(0, n, 37):
            sl = slice(lo, lo + 37)
            bound.add(kind[sl], E[sl], B[sl], np.full(len(kind[sl]), -np.inf), np.zeros(len(B[sl])))
        assert bound.B.size <= (3 if case % 3 == 1 and case % 4 else n)  # a curve: its ends
        figures = _chunked.Figures(np.zeros(1), np.zeros(1), np.zeros(1), 0.0)
        for c in (0.0, 1.0, 1e3, 1e6, 1e9):
            assert bound.at(c, 1.0, figures) == pytest.approx(np.max(E + c * B), rel=1e-12)
