"""Beyond the first failure: a second, distinct failure that needs depth ≥ 2, and the
numbers of layers a submission that errors could handle.

The first failure is shrunk to the smallest case, which is usually one layer: a bug that
only shows with two layers or more (the weights updated before the error is propagated
back through them) then hides behind a mistake the one-layer case already shows (a
missing 1/m). After the first failure, the cases of two layers or more are run again;
one that fails with other diagnoses than the first (or none where the first had some) is
a second failure, shrunk on its own among points of two layers or more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from backprop.catalog import FORMULAS, Point
from checks.grader.judge._compare import compare, n_terms
from checks.grader.judge._diagnose import Diagnosis, diagnose
from checks.grader.judge._judge import Caller, Case, CaseResult, run_case
from checks.grader.judge._message import failure_message

__all__ = ["depths_note", "second_failure"]

Shrink = Callable[[Callable[[Point], bool]], Point | None]


def _depth(case: Case) -> int:
    return len(case.point.params) if case.point is not None else 0


def _ids(fid: str, result: CaseResult, kind: str) -> tuple[list[Diagnosis], set[str]]:
    if result.expected is None:
        return [], set()
    found = diagnose(fid, result.case.args, result.expected, result.got, kind=kind)
    return found, {d.id for d in found}


def _unexplained_blocks(fid: str, result: CaseResult, found: Sequence[Diagnosis]) -> list[str]:
    """`backward`'s wrong blocks that no diagnosis speaks of (one of the whole pass covers all).

    At two layers, a missing 1/m shows on the last layer's blocks while the first layer's
    are wrong another way: the same identifier, but only part of the result explained.
    """
    if fid != "backward" or not isinstance(result.got, list | tuple):
        return []
    text = " ".join(d.explanation for d in found)
    if "your backward " in text:
        return []
    wrong = []
    for layer, (pair, (dW, db)) in enumerate(zip(result.got, result.expected, strict=False), 1):
        for name, g, e in ((f"dW_{layer}", pair[0], dW), (f"db_{layer}", pair[1], db)):
            try:
                ok = compare(e, g, n_terms=n_terms(result.case.args)).ok
            except (TypeError, ValueError, IndexError):
                ok = False
            if not ok and name not in text:
                wrong.append(name)
    return wrong


def second_failure(
    fid: str,
    alias: str,
    caller: Caller,
    cases: Sequence[Case],
    kind: str,
    first: CaseResult,
    first_ids: Sequence[str],
    *,
    shrink: Shrink | None,
    epsilon: str,
    module: str | None,
) -> tuple[list[str], str] | None:
    """A failure at depth ≥ 2 distinct from `first` (a one-layer case): its ids and message."""
    if first.case.point is None or _depth(first.case) >= 2 or first.mutated:
        return None
    entry = FORMULAS[fid]
    known = set(first_ids)

    def distinct(result: CaseResult) -> bool:
        if result.status != "fail" or result.comparison is None or result.mutated:
            return False
        found, ids = _ids(fid, result, kind)
        return ids != known or bool(_unexplained_blocks(fid, result, found))

    found = None
    for case in cases:
        if _depth(case) >= 2:
            result = run_case(entry, alias, caller, case, kind, epsilon=epsilon)
            if distinct(result):
                found = result
                break
    if found is None:
        return None
    if shrink is not None:

        def failure_at(point: Point) -> CaseResult | None:
            for args in entry.sample(point):
                result = run_case(entry, alias, caller, Case(args, point), kind, epsilon=epsilon)
                if distinct(result):
                    return result
            return None

        smallest = shrink(lambda p: len(p.params) >= 2 and failure_at(p) is not None)
        if smallest is not None:
            found = failure_at(smallest) or found
    diagnoses = _ids(fid, found, kind)[0]
    message = (
        "A second failure, which needs two layers or more (so the smallest case above "
        "cannot show it):\n\n" + failure_message(fid, alias, found, diagnoses, module=module)
    )
    return [d.id for d in diagnoses], message


def depths_note(
    fid: str, alias: str, caller: Caller, cases: Sequence[Case], kind: str, depths: Sequence[int]
) -> str:
    """For an `error`: the numbers of layers at which the function did run, if any."""
    entry = FORMULAS[fid]
    ran: dict[int, bool] = {}
    for case in cases:
        d = _depth(case)
        if d and d not in ran:
            ran[d] = run_case(entry, alias, caller, case, kind).status in ("ok", "fail")
    handled = sorted(d for d, ok in ran.items() if ok)
    failed = sorted(d for d, ok in ran.items() if not ok)
    if not handled or not failed:
        return ""

    def words(ds: list[int]) -> str:
        return ", ".join(map(str, ds))

    return (
        f"`{alias}` ran on networks of {words(handled)} layer(s) but raised on "
        f"{words(failed)}: it seems to handle a fixed number of layers, where the contract "
        "takes any. If the course fixes the architecture, the instructor can grade on "
        f"those depths only: `depths = [{words(handled)}]` in the configuration."
    )
