"""Benchmark of the numerical-gradient engine against its peers, on the notes' network.

Run ``python bench/engine.py`` (sizes S, M, L) or ``python bench/engine.py --xl`` (and
XL); ``--slow`` also runs numdifftools at L (about a minute) and ``--slower`` at XL
(many minutes), and
``--trials N`` sets the seeded trials of the statistical targets. It prints Markdown:
the tables of `docs/benchmarks.md` come from it.

Every function is the same: the notes' loss (binary cross-entropy of the softmax, from
logits) of `backprop.network` at a point with weights `~ N(0, 1/n_{l-1})`, as a
black box of a flat vector for the competitors. "2P fwd" is the time of `2P` calls of
that black box, measured in the same run: the cost of plain central differences.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop import formulas as fm
from backprop import network as net
from backprop.catalog import param_blocks
from checks import NetworkLoss, check_gradient

SIZES: dict[str, tuple[list[int], int]] = {
    "S": ([4, 5, 3], 3),
    "M": ([20, 16, 10], 8),
    "L": ([784, 32, 10], 16),
    "XL": ([784, 128, 64, 10], 32),
}
Array = np.ndarray


def make_point(
    sizes: list[int], m: int, seed: int = 0
) -> tuple[list[tuple[Array, Array]], Array, Array]:
    rng = np.random.default_rng(seed)
    params = [
        (rng.standard_normal((b, a)) / np.sqrt(a), 0.1 * rng.standard_normal((b, 1)))
        for a, b in itertools.pairwise(sizes)
    ]
    X = rng.standard_normal((sizes[0], m))
    Y = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], m)]
    return params, X, Y


class BlackBox:
    """The loss as a function of a flat vector, counting its calls."""

    def __init__(self, params: list[tuple[Array, Array]], X: Array, Y: Array) -> None:
        self.shapes = [(W.shape, b.shape) for W, b in params]
        self.X, self.Y, self.calls = X, Y, 0
        self.x0 = np.concatenate([np.concatenate([W.ravel(), b.ravel()]) for W, b in params])

    def unflatten(self, v: Any) -> list[tuple[Any, Any]]:
        out, i = [], 0
        for sw, sb in self.shapes:
            nw, nb = int(np.prod(sw)), int(np.prod(sb))
            out.append((v[i : i + nw].reshape(sw), v[i + nw : i + nw + nb].reshape(sb)))
            i += nw + nb
        return out

    def __call__(self, v: Array) -> float:
        self.calls += 1
        a = self.X
        for W, b in self.unflatten(v):
            a = np.maximum(W @ a + b, 0.0)
        return float(fm.loss_from_logits(a, self.Y))


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def accuracy(numerical: Array, analytic: Array) -> tuple[float, float]:
    d = numerical - analytic
    return float(np.max(np.abs(d))), float(np.linalg.norm(d) / np.linalg.norm(analytic))


def run_size(name: str, slow: set[str], rows: list[dict[str, Any]]) -> None:
    sizes, m = SIZES[name]
    params, X, Y = make_point(sizes, m)
    grads = param_blocks(net.backward(params, X, Y))
    g_flat = np.concatenate([v.ravel() for v in grads.values()])
    box = BlackBox(params, X, Y)
    P = box.x0.size
    t1, _ = timed(lambda: [box(box.x0) for _ in range(200)], repeat=3)
    fwd2P = 2 * P * t1 / 200
    x, F = param_blocks(params), NetworkLoss(X, Y)

    def add(
        tool: str, seconds: float, evals: int | str, err: tuple[float, float] | None, note: str = ""
    ) -> None:
        rows.append(
            dict(
                size=name,
                P=P,
                tool=tool,
                seconds=seconds,
                evals=evals,
                max_abs=err[0] if err else None,
                norm_rel=err[1] if err else None,
                ratio=seconds / fwd2P,
                note=note,
            )
        )
        print_row(rows[-1])

    add("2P black-box forward passes", fwd2P, 2 * P, None, "the unit of the last column")
    for method in ("central", "richardson", "complex", "forward"):
        t, rep = timed(lambda method=method: check_gradient(F, grads, x, method=method), 3)
        add(
            f"ours full, {method}",
            t,
            rep.evaluations,
            (rep.max_abs_error, rep.norm_rel_error),
            "pass" if rep.ok else "FAIL",
        )
    t, rep = timed(lambda: check_gradient(F, grads, x, mode="directional"), 3)
    add("ours directional (K=2)", t, rep.evaluations, None, "pass" if rep.ok else "FAIL")

    from scipy.optimize import approx_fprime, check_grad
    from scipy.optimize._numdiff import approx_derivative

    box.calls = 0
    t, v = timed(lambda: check_grad(box, lambda _: g_flat, box.x0))
    add(
        "scipy check_grad",
        t,
        box.calls,
        (float("nan"), v / np.linalg.norm(g_flat)),
        f"returns ‖Δ‖ = {v:.2g}",
    )
    box.calls = 0
    t, g = timed(lambda: approx_fprime(box.x0, box))
    add("scipy approx_fprime", t, box.calls, accuracy(g, g_flat))
    for scheme in ("2-point", "3-point"):
        box.calls = 0
        t, g = timed(lambda scheme=scheme: approx_derivative(box, box.x0, method=scheme))
        add(f"scipy approx_derivative {scheme}", t, box.calls, accuracy(g, g_flat))
    box.calls = 0

    def plain_loop() -> Array:
        v, out, h = box.x0.copy(), np.empty(P), 1e-6
        for i in range(P):
            old = v[i]
            v[i] = old + h
            up = box(v)
            v[i] = old - h
            out[i] = (up - box(v)) / (2 * h)
            v[i] = old
        return out

    t, g = timed(plain_loop)
    add("plain central loop, h=1e-6", t, box.calls, accuracy(g, g_flat))
    try:
        import numdifftools as nd
    except ImportError:
        add("numdifftools.Gradient", float("nan"), "-", None, "not installed")
    else:
        if name in ("S", "M") or name in slow:
            box.calls = 0
            t, g = timed(lambda: nd.Gradient(box)(box.x0))
            add("numdifftools.Gradient", t, box.calls, accuracy(g, g_flat))
        else:
            flag = "--slow" if name == "L" else "--slower"
            add("numdifftools.Gradient", float("nan"), "-", None, f"skipped: pass {flag}")
    torch_rows(name, params, X, Y, add)


def torch_rows(name: str, params: Any, X: Array, Y: Array, add: Callable[..., None]) -> None:
    try:
        import torch
    except ImportError:
        add("torch gradcheck", float("nan"), "-", None, "torch not installed")
        return
    torch.set_num_threads(1)  # its fastest setting at these sizes, measured: 3× faster than 2
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    inputs = tuple(
        torch.tensor(a, dtype=torch.float64, requires_grad=True) for W, b in params for a in (W, b)
    )

    def loss(*ps: Any) -> Any:
        a = Xt
        for W, b in zip(ps[::2], ps[1::2], strict=True):
            a = torch.relu(W @ a + b)
        log_y = torch.log_softmax(a, dim=0)
        log_1m = torch.log1p(-torch.exp(log_y))
        return -(Yt * log_y + (1 - Yt) * log_1m).sum() / Xt.shape[1]

    calls = [0]

    def counted(*ps: Any) -> Any:
        calls[0] += 1
        return loss(*ps)

    for fast in (False, True):
        calls[0] = 0
        t, ok = timed(
            lambda fast=fast: torch.autograd.gradcheck(
                counted,
                inputs,
                eps=1e-6,
                atol=1e-5,
                rtol=1e-3,
                fast_mode=fast,
                raise_exception=False,
            )
        )
        add(
            f"torch gradcheck{' fast_mode' if fast else ''}",
            t,
            calls[0],
            None,
            "pass" if ok else "FAIL",
        )


def directional_trials(trials: int) -> dict[str, Any]:
    """At L: a 1 % error in one entry of typical size, caught by how many seeded trials."""
    sizes, m = SIZES["L"]
    caught = passed = 0
    evals = []
    for seed in range(trials):
        params, X, Y = make_point(sizes, m, seed=1000 + seed)
        grads = param_blocks(net.backward(params, X, Y))
        F, x = NetworkLoss(X, Y), param_blocks(params)
        rng = np.random.default_rng(seed)
        name = rng.choice(list(grads))
        g = grads[name]
        typical = np.flatnonzero(np.abs(g) >= np.median(np.abs(g[g != 0])))
        wrong = dict(grads, **{name: g.copy()})
        wrong[name].reshape(-1)[rng.choice(typical)] *= 1.01
        right = check_gradient(F, grads, x, mode="directional", rng=seed)
        bad = check_gradient(F, wrong, x, mode="directional", rng=seed)
        passed += right.ok
        caught += not bad.ok
        evals.append(right.evaluations)
    return dict(trials=trials, passed=passed, caught=caught, evaluations=max(evals))


def float32_trials(trials: int) -> dict[str, Any]:
    """At M, in float32: the network computed and differentiated in float32 throughout."""
    caught = passed = 0
    for seed in range(trials):
        loss, kinks, grads, x = float32_problem(seed)
        passed += check_gradient(loss, grads, x, kinks=kinks).ok
        name = list(grads)[seed % len(grads)]
        wrong = dict(grads, **{name: grads[name] * np.float32(1.01)})
        caught += not check_gradient(loss, wrong, x, kinks=kinks).ok
    return dict(trials=trials, passed=passed, caught=caught)


def float32_problem(seed: int) -> tuple[Callable[..., Any], Callable[..., Any], Any, Any]:
    """The categorical loss of an M-size network in float32, its kinks and gradient."""
    sizes, m = SIZES["M"]
    params, X, Y = make_point(sizes, m, seed=2000 + seed)
    p32 = [(W.astype(np.float32), b.astype(np.float32)) for W, b in params]
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)

    def logits(blocks: Any) -> tuple[Array, list[Array]]:
        a, signs = X32, []
        for layer in range(1, len(p32) + 1):
            z = blocks[f"W_{layer}"] @ a + blocks[f"b_{layer}"]
            signs.append((z > 0).ravel())
            a = np.maximum(z, np.float32(0))
        return a, signs

    def loss(blocks: Any) -> Any:
        s = logits(blocks)[0]
        s = s - s.max(axis=0)
        log_y = s - np.log(np.exp(s).sum(axis=0))
        return -np.sum(Y32 * log_y, dtype=np.float32) / np.float32(m)

    def kinks(blocks: Any) -> Array:
        return np.concatenate(logits(blocks)[1])

    return loss, kinks, float32_backward(p32, X32, Y32), param_blocks(p32)


def float32_backward(params: Any, X: Array, Y: Array) -> dict[str, Array]:
    """The categorical-loss gradient of the notes' network, in float32 arithmetic."""
    zs, acts = [], [X]
    for W, b in params:
        zs.append(W @ acts[-1] + b)
        acts.append(np.maximum(zs[-1], np.float32(0)))
    s = acts[-1] - acts[-1].max(axis=0)
    y_hat = np.exp(s) / np.exp(s).sum(axis=0)
    da = (y_hat - Y) / np.float32(X.shape[1])
    out: dict[str, Array] = {}
    for layer in range(len(params), 0, -1):
        dz = da * (zs[layer - 1] > 0)
        out[f"W_{layer}"] = dz @ acts[layer - 1].T
        out[f"b_{layer}"] = dz.sum(axis=1, keepdims=True)
        da = params[layer - 1][0].T @ dz
    return {k: out[k] for k in sorted(out, key=lambda k: (int(k[2:]), k[0] != "W"))}


def print_row(r: dict[str, Any]) -> None:
    print(
        f"| {r['size']} | {r['P']} | {r['tool']} | {fmt(r['seconds'], '.4g')} | "
        f"{r['evals']} | {fmt(r['max_abs'], '.1e')} | {fmt(r['norm_rel'], '.1e')} | "
        f"{fmt(r['ratio'], '.3g')} | {r['note']} |",
        flush=True,
    )


def fmt(v: Any, spec: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    return format(v, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xl", action="store_true", help="also run size XL")
    parser.add_argument("--slow", action="store_true", help="numdifftools at L")
    parser.add_argument("--slower", action="store_true", help="numdifftools at XL")
    parser.add_argument("--trials", type=int, default=100, help="seeded trials of the targets")
    parser.add_argument("--sizes", default="S,M,L", help="comma-separated sizes")
    args = parser.parse_args(argv)
    names = args.sizes.split(",") + (["XL"] if args.xl else [])
    print(f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}\n")
    rows: list[dict[str, Any]] = []
    print(
        "| size | P | tool | time (s) | evaluations | max abs err | norm-rel err "
        "| × 2P fwd | note |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    slow = ({"L"} if args.slow else set()) | ({"XL"} if args.slower else set())
    for name in names:
        run_size(name, slow, rows)
    print()
    for name in names:
        by = {r["tool"]: r for r in rows if r["size"] == name}
        ours = by["ours full, central"]["seconds"]
        parts = [f"{name}: ours central full = {ours:.3g} s"]
        for peer in ("torch gradcheck", "scipy check_grad", "2P black-box forward passes"):
            if peer in by and not np.isnan(by[peer]["seconds"]):
                parts.append(f"{by[peer]['seconds'] / ours:.1f}× faster than {peer}")
        print("- " + "; ".join(parts))
    if args.trials:
        d = directional_trials(args.trials)
        print(
            f"\ndirectional at L: a correct gradient passed {d['passed']}/{d['trials']}; a 1 % "
            f"error in one entry caught {d['caught']}/{d['trials']}; "
            f"{d['evaluations']} evaluations"
        )
        f32 = float32_trials(args.trials)
        print(
            f"float32 at M: a correct gradient passed {f32['passed']}/{f32['trials']}; a 1 % "
            f"error in one block caught {f32['caught']}/{f32['trials']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
