"""The edges sweep: do the engine's verdicts hold over random networks, kinks and saturation?

Run ``python bench/sweep.py`` (10,000 correct cases and 1,000 corrupted cases per
perturbation; ``--cases N --corrupted K`` for fewer, ``--seed S``). It prints Markdown:
the figures of `docs/benchmarks.md`'s section "The edges sweep" come from it.

Every case is the notes' network at a random point: depth 1 to 4, widths 1 to 20
(`n_L = 1` included), `m` 1 to 8, both losses alternately, half the cases in float32
(the parameters and `X`), half with pre-activations planted at 0 exactly or within
1e-9 to 1e-7 of it (one per layer), and a quarter with a last-layer logit pushed 30
to 60 above the others, or 800 (`ŷ` rounds to 1; a naive softmax overflows).

- *Correct*: the reference gradient (`backprop.network.backward`) against the loss,
  `network_check` in full mode. A *false alarm* is a "failed" verdict, a *crash* any
  exception; "unchecked" (entries no difference could reach) is counted apart.
- *Corrupted*: one entry of the reference gradient off by 1 % of itself (an entry of
  typical size, at least 1e-3 of its block's largest and 1e-6 of the gradient's
  largest), the entry drawn at random, or drawn
  among the entries of a unit planted at 0 (whose central difference crosses the
  kink); and a whole block off by a factor 2 or its sign. *Missed* is a "passed"
  verdict: an "unchecked" one says so explicitly and is counted apart. The 1 % cases
  are also checked in directional mode (2 directions), which checks no entry by itself:
  its report states the error of one entry it catches with probability ≥ 99 % (its
  *resolution*); a pass over a smaller error is counted apart, as said, and a pass
  over a larger one is a miss.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import time
import traceback
from collections import Counter
from typing import Any

import numpy as np

from backprop import network as net
from checks import network_check

Array = np.ndarray
Params = list[tuple[Array, Array]]


def make_case(seed: int) -> dict[str, Any]:
    """One random case: the point, and how it was drawn."""
    rng = np.random.default_rng(seed)
    depth = int(rng.integers(1, 5))
    widths = [int(w) for w in rng.integers(1, 21, size=depth + 1)]
    m = int(rng.integers(1, 9))
    kind = ("notes", "categorical")[seed % 2]
    float32 = bool(rng.integers(2))
    kink = bool(rng.integers(2))
    saturate = rng.random() < 0.25
    params: Params = [
        (rng.standard_normal((b, a)) / np.sqrt(a), 0.3 * rng.standard_normal((b, 1)))
        for a, b in itertools.pairwise(widths)
    ]
    X = rng.standard_normal((widths[0], m))
    if saturate:
        b_L = params[-1][1]
        b_L[int(rng.integers(len(b_L)))] += 800.0 if rng.random() < 0.2 else rng.uniform(30, 60)
    if float32:
        params = [(W.astype(np.float32), b.astype(np.float32)) for W, b in params]
        X = X.astype(np.float32)
    planted: list[tuple[int, int]] = []  # (layer index, unit) of the units planted at 0
    if kink:
        for l in range(depth):
            z = net.forward_cache(params, X).z[l]
            i, j = int(rng.integers(z.shape[0])), int(rng.integers(m))
            offset = 0.0 if rng.random() < 0.5 else rng.choice([-1, 1]) * 10 ** rng.uniform(-9, -7)
            b = params[l][1]
            b[i] = (b[i] - (z[i, j] - offset)).astype(b.dtype)
            planted.append((l, i))
    Y = np.eye(widths[-1])[:, rng.integers(0, widths[-1], m)]
    return {
        "params": params,
        "X": X,
        "Y": Y,
        "kind": kind,
        "float32": float32,
        "kink": kink,
        "saturate": saturate,
        "planted": planted,
        "depth": depth,
    }


def classify(
    case: dict[str, Any], grads: Params, mode: str = "full", error: float = float("inf")
) -> str:
    """The verdict; a directional pass over a one-entry `error` below the resolution
    the report states (caught with probability ≥ 99 % above it) is "below resolution"."""
    try:
        report = network_check(
            case["params"], case["X"], case["Y"], grads, kind=case["kind"], mode=mode
        )
    except Exception:  # a crash is a finding of the sweep, counted and shown
        traceback.print_exc(limit=3)
        return "crash"
    if report.status == "passed" and mode == "directional" and error < report.resolution:
        return "below resolution"
    return report.status


def corrupt(
    case: dict[str, Any], grads: Params, rng: np.random.Generator, how: str
) -> tuple[Params, float] | None:
    """The gradient with one corruption, and its size for a one-entry error (else inf)."""
    out = [(dW.copy(), db.copy()) for dW, db in grads]
    if how in ("sign", "factor 2"):
        l = int(rng.integers(len(out)))
        c = -1.0 if how == "sign" else 2.0
        if not np.any(out[l][0]):
            return None  # a zero block is unchanged by a factor: not a corruption
        out[l] = (c * out[l][0], out[l][1])
        return out, float("inf")
    if how == "1 % at a kink":
        if not case["planted"]:
            return None
        l, i = case["planted"][int(rng.integers(len(case["planted"])))]
        block = int(rng.integers(2))
        target = out[l][block]
        idx = (i, int(rng.integers(target.shape[1])))
    else:
        l, block = int(rng.integers(len(out))), int(rng.integers(2))
        target = out[l][block]
        idx = tuple(int(rng.integers(s)) for s in target.shape)
    value = float(target[idx])
    # an entry of typical size: at least 1e-3 of the largest of its block and 1e-6 of
    # the gradient's largest (1 % of a far smaller one is below the rounding of a
    # difference with real steps, ~1e-10 of |f| in float64: an entry of 1.8e-10 in a
    # gradient whose largest is 0.13 passed with 1 % off under a stated tolerance of
    # 2.6e-10; only method="complex" resolves those)
    largest = max(float(np.max(np.abs(a))) for pair in grads for a in pair)
    if value == 0 or not abs(value) >= max(1e-3 * float(np.max(np.abs(target))), 1e-6 * largest):
        return None
    target[idx] = 1.01 * value
    return out, abs(float(target[idx]) - value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--corrupted", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    correct: Counter[str] = Counter()
    by_region: dict[str, Counter[str]] = {
        r: Counter() for r in ("float64", "float32", "kink", "saturated", "n_L = 1")
    }
    for k in range(args.cases):
        case = make_case(args.seed * 1_000_003 + k)
        grads = net.backward(case["params"], case["X"], case["Y"], kind=case["kind"])
        verdict = classify(case, grads)
        correct[verdict] += 1
        regions = ["float32" if case["float32"] else "float64"]
        regions += ["kink"] * case["kink"] + ["saturated"] * case["saturate"]
        regions += ["n_L = 1"] * (case["Y"].shape[0] == 1)
        for r in regions:
            by_region[r][verdict] += 1
        if verdict in ("failed", "crash"):
            print(f"<!-- case {k}: {verdict} -->", flush=True)
        if (k + 1) % 1000 == 0:
            print(f"<!-- {k + 1} correct cases: {dict(correct)} -->", flush=True)
    seconds_correct = time.perf_counter() - start
    rng = np.random.default_rng(args.seed)
    corrupted: dict[str, Counter[str]] = {}
    for how, mode in [
        ("1 %", "full"),
        ("1 % at a kink", "full"),
        ("sign", "full"),
        ("factor 2", "full"),
        ("1 %", "directional"),
        ("1 % at a kink", "directional"),
    ]:
        tally: Counter[str] = Counter()
        k = 0
        while sum(tally.values()) < args.corrupted:
            case = make_case(10_000_019 * (args.seed + 1) + k)
            k += 1
            grads = net.backward(case["params"], case["X"], case["Y"], kind=case["kind"])
            bad = corrupt(case, grads, rng, how)
            if bad is not None:
                tally[classify(case, bad[0], mode, bad[1])] += 1
        corrupted[f"{how}, {mode}"] = tally
    seconds = time.perf_counter() - start
    print(
        f"Edges sweep, seed {args.seed}: {args.cases} correct cases in "
        f"{seconds_correct:.0f} s, {args.corrupted} corrupted per row; {seconds:.0f} s in all "
        f"(Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()})\n"
    )
    print("| correct cases | passed | unchecked | failed (false alarm) | crash |")
    print("|---|---|---|---|---|")
    for name, tally in [("all", correct), *by_region.items()]:
        print(
            f"| {name} ({sum(tally.values())}) | {tally['passed']} | {tally['unchecked']} | "
            f"{tally['failed']} | {tally['crash']} |"
        )
    print(
        "\n| corrupted cases | failed (caught) | unchecked (said) | below the stated "
        "resolution (said) | passed (missed) | crash |"
    )
    print("|---|---|---|---|---|---|")
    for name, tally in corrupted.items():
        print(
            f"| {name} | {tally['failed']} | {tally['unchecked']} | "
            f"{tally['below resolution']} | {tally['passed']} | {tally['crash']} |"
        )
    bad = correct["failed"] + correct["crash"] + sum(t["passed"] for t in corrupted.values())
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
