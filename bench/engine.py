"""Benchmark of the numerical-gradient engine against its peers, on the notes' network.

Run ``OPENBLAS_NUM_THREADS=1 python bench/engine.py`` (sizes S, M, L; ``--sizes
S,M,L,XL`` for more). Every tool checks the gradient of the same function, the notes'
loss (binary cross-entropy of the softmax, from logits) of `backprop.network` at a point
with weights `~ N(0, 1/n_{l-1})`, and gets its leanest form of it:

- ours on three code paths: ``NetworkLoss`` (structured: `along_axes` reuses the forward
  pass; once with its numpy kernel and, where numba is installed, once with its compiled
  kernel, loaded by an untimed first check whose cost is printed), a plain callable of a
  flat vector, and the same function batched (``batched=True``);
- the peers on the plain callable, a numpy function of a flat vector with its slices
  computed once (its per-call cost is printed): `scipy.optimize.check_grad`,
  `numdifftools.Gradient`, a plain central-difference loop; and `torch.autograd.gradcheck`
  (slow mode, float64, one thread) on the same network written in torch.

Runs are interleaved (every tool once, then every tool again, ...) and each tool's
best time is kept; the ratios come from the same run. Times are the CPU time of the
process (`time.process_time`; every tool runs on one thread), which a machine shared
with other jobs inflates far less than wall-clock time; the wall-clock time of the
same best run is printed beside it. ``--scaling`` times a structured check from P = 1e3
to `--scaling-max` beside `check_grad` (up to `--scaling-peer-max`), with its peak memory
(tracemalloc) and the fitted exponents of its time against P and P·m.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import platform
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from backprop import network as net
from backprop.catalog import param_blocks
from checks import NetworkLoss, check_gradient
from checks.network import MEMORY

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


def lean_losses(
    sizes: list[int], X: Array, Y: Array
) -> tuple[Callable[[Array], float], Callable[[Array], Array]]:
    """The loss of a flat vector, plain and batched, with the slices computed once."""
    cuts, lo = [], 0
    for a, b in itertools.pairwise(sizes):
        cuts.append((slice(lo, lo + a * b), slice(lo + a * b, lo + a * b + b), (b, a)))
        lo += a * b + b
    m = X.shape[1]

    def loss(v: Array) -> float:
        a = X
        for w, c, shape in cuts:
            a = np.maximum(v[w].reshape(shape) @ a + v[c, None], 0.0)
        s = a - a.max(axis=0)
        log_y = s - np.log(np.exp(s).sum(axis=0))
        return float(-(Y * log_y + (1 - Y) * np.log1p(-np.exp(log_y))).sum() / m)

    def loss_batched(V: Array) -> Array:
        a = X
        for w, c, shape in cuts:
            a = np.maximum(V[:, w].reshape(-1, *shape) @ a + V[:, c, None], 0.0)
        s = a - a.max(axis=1, keepdims=True)
        log_y = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        return np.asarray(-(Y * log_y + (1 - Y) * np.log1p(-np.exp(log_y))).sum(axis=(1, 2)) / m)

    return loss, loss_batched


def torch_loss(params: Any, X: Array, Y: Array) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    import torch

    torch.set_num_threads(1)  # its fastest setting at these sizes (measured: 3× faster than 2)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    inputs = tuple(
        torch.tensor(a, dtype=torch.float64, requires_grad=True) for W, b in params for a in (W, b)
    )

    def loss(*ps: Any) -> Any:
        a = Xt
        for W, b in zip(ps[::2], ps[1::2], strict=True):
            a = torch.relu(W @ a + b)
        log_y = torch.log_softmax(a, dim=0)
        return -(Yt * log_y + (1 - Yt) * torch.log1p(-torch.exp(log_y))).sum() / Xt.shape[1]

    return loss, inputs


def per_call(fn: Callable[[], Any], budget: float = 0.3) -> float:
    """Seconds per call of `fn`, the best of a few batches of calls."""
    n, best = 1, np.inf
    while True:
        t = time.process_time()
        for _ in range(n):
            fn()
        dt = time.process_time() - t
        if dt > budget / 3 or n > 1 << 16:
            best = min(best, dt / n)
            break
        n *= 4
    for _ in range(2):
        t = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - t) / n)
    return best


class Tool:
    def __init__(self, name: str, path: str, run: Callable[[], tuple[Any, str]], evals: str):
        self.name, self.path, self.run, self.evals = name, path, run, evals
        self.best, self.wall = np.inf, np.inf
        self.result: tuple[Any, str] = (None, "")


def tools_for(size: str, args: argparse.Namespace) -> tuple[list[Tool], dict[str, float], int]:
    sizes, m = SIZES[size]
    params, X, Y = make_point(sizes, m)
    blocks, grads = param_blocks(params), param_blocks(net.backward(params, X, Y))
    g = np.concatenate([v.ravel() for v in grads.values()])
    x0 = np.concatenate([v.ravel() for v in blocks.values()])
    P = x0.size
    loss, loss_batched = lean_losses(sizes, X, Y)
    assert abs(loss(x0) - net.network_loss(params, X, Y)) < 1e-12
    F = NetworkLoss(X, Y, kernel="numpy")
    costs = {"numpy loss of a flat vector": per_call(lambda: loss(x0))}

    def ours(f: Any, grad: Any, x: Any, **kw: Any) -> Callable[[], tuple[Any, str]]:
        def run() -> tuple[Any, str]:
            rep = check_gradient(f, grad, x, **kw)
            return rep.norm_rel_error, ("pass" if rep.ok else "FAIL") + f", {rep.evaluations} evals"

        return run

    tools = [
        Tool("ours, central", "NetworkLoss, numpy", ours(F, grads, blocks), "2P + 4/block"),
    ]
    if importlib.util.find_spec("numba") is None:
        print(f"- {size}: numba not installed: no row for the compiled kernel")
    else:
        F_jit = NetworkLoss(X, Y, kernel="numba")
        t = time.process_time()
        check_gradient(F_jit, grads, blocks)  # loads (or compiles) the kernel: not timed
        costs["first structured check with numba (import, load or compile)"] = (
            time.process_time() - t
        )
        tools.append(
            Tool("ours, central", "NetworkLoss, numba", ours(F_jit, grads, blocks), "2P + 4/block")
        )
    tools += [
        Tool(
            "ours, complex step",
            "NetworkLoss, numpy",
            ours(F, grads, blocks, method="complex"),
            "P",
        ),
        Tool("ours, central", "plain callable", ours(loss, g, x0), "2P + 4/block"),
        Tool(
            "ours, central",
            "batched callable",
            ours(loss_batched, g, x0, batched=True),
            "2P + 4/block",
        ),
    ]
    from scipy.optimize import check_grad

    def scipy_run() -> tuple[Any, str]:
        v = check_grad(loss, lambda _: g, x0)
        return v / np.linalg.norm(g), "forward differences, returns ‖Δ‖ only"

    tools.append(Tool("scipy check_grad", "plain callable", scipy_run, "P + 1"))

    def loop() -> tuple[Any, str]:
        v, out, h = x0.copy(), np.empty(P), 1e-6
        for i in range(P):
            old = v[i]
            v[i] = old + h
            up = loss(v)
            v[i] = old - h
            out[i] = (up - loss(v)) / (2 * h)
            v[i] = old
        return np.linalg.norm(out - g) / np.linalg.norm(g), "h = 1e-6"

    tools.append(Tool("plain central loop", "plain callable", loop, "2P"))
    try:
        import numdifftools as nd
    except ImportError:
        print(f"- {size}: numdifftools not installed")
    else:
        if size in ("S", "M") or size in args.slow:

            def nd_run() -> tuple[Any, str]:
                d = nd.Gradient(loss)(x0)
                return np.linalg.norm(d - g) / np.linalg.norm(g), "Richardson, its defaults"

            tools.append(Tool("numdifftools Gradient", "plain callable", nd_run, "~30P"))
    try:
        import torch
    except ImportError:
        print(f"- {size}: torch not installed")
    else:
        tloss, inputs = torch_loss(params, X, Y)
        costs["torch loss (forward only)"] = per_call(lambda: tloss(*inputs))

        def torch_run() -> tuple[Any, str]:
            ok = torch.autograd.gradcheck(
                tloss, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=False
            )
            return None, "pass" if ok else "FAIL"

        tools.append(
            Tool("torch gradcheck, slow mode", "torch function", torch_run, "2P + backward")
        )
    return tools, costs, P


def run_size(size: str, args: argparse.Namespace) -> list[str]:
    tools, costs, P = tools_for(size, args)
    for name, c in costs.items():
        if name.startswith("first"):
            print(f"- {size}: {name}: {c:.2f} s of CPU")
        else:
            print(f"- {size}: one call of the {name}: {c * 1e6:.1f} µs")
    repeats = args.repeat if size != "XL" else 1
    for r in range(repeats):  # interleaved: every tool once per round, order rotated
        order = tools[r % len(tools) :] + tools[: r % len(tools)]
        for tool in order:
            t, w = time.process_time(), time.perf_counter()
            tool.result = tool.run()
            cpu, wall = time.process_time() - t, time.perf_counter() - w
            if cpu < tool.best:
                tool.best, tool.wall = cpu, wall
    lines = []
    for tool in tools:
        err, note = tool.result
        lines.append(
            f"| {size} | {P:,} | {tool.name} | {tool.path} | {tool.best:.4g} | {tool.wall:.4g} | "
            f"{'-' if err is None else format(err, '.1e')} | {tool.evals} | {note} |"
        )
        print(lines[-1], flush=True)
    ours = {t.path: t.best for t in tools if t.name == "ours, central"}
    for peer in tools:
        if peer.name.startswith("ours"):
            continue
        parts = [f"{path} {ratio(peer.best, t)}" for path, t in ours.items()]
        print(f"- {size}: ours against {peer.name} ({peer.best:.3g} s): " + "; ".join(parts))
    return lines


def ratio(peer: float, ours: float) -> str:
    r = peer / ours
    return f"{r:.3g}× faster" if r >= 1 else f"{1 / r:.3g}× slower"


def structured_run(n: int, m: int) -> tuple[int, float, float, int, bool]:
    """A full central check of `[n, n, 10]`, `m` examples: P, CPU s, peak bytes,
    evaluations, passed.

    The peak is tracemalloc's over the check, the inputs (`x`, the gradient) allocated
    before: it includes the engine's flat copy of `x` (8·P bytes).
    """
    params, X, Y = make_point([n, n, 10], m)
    blocks, grads = param_blocks(params), param_blocks(net.backward(params, X, Y))
    P = sum(v.size for v in blocks.values())
    F = NetworkLoss(X, Y, kernel="numpy")
    tracemalloc.start()
    t = time.process_time()
    rep = check_gradient(F, grads, blocks)
    dt = time.process_time() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return P, dt, peak, rep.evaluations, rep.ok


def scaling(args: argparse.Namespace) -> None:
    """A structured full check from P = 1e3 to `--scaling-max`, beside `check_grad`;
    then at P = 1e5 with m = 4, 16, 64, for the exponent of P·m."""
    from scipy.optimize import check_grad

    print(
        f"\nbudget {MEMORY / 2**20:.0f} MiB (NetworkLoss's `memory`, the check's default)\n"
        "\n| P | network, m | ours, NetworkLoss central (CPU s) | peak memory (MiB) "
        "| beyond x's flat copy (MiB) | evaluations / P | check_grad (CPU s) |"
    )
    print("|---|---|---|---|---|---|---|")
    ps, ms, ts, cps, cts = [], [], [], [], []
    runs: list[tuple[int, int]] = []
    for target in (1e3, 1e4, 1e5, 1e6, 1e7):
        if target > args.scaling_max:
            break
        n = round((-11 + float(np.sqrt(121 + 4 * (target - 10)))) / 2)  # P = n² + 11n + 10
        runs.append((n, 16))
    if args.scaling_max >= 1e5:
        n5 = runs[2][0]
        runs += [(n5, 4), (n5, 64)]
    for n, m in runs:
        sizes = [n, n, 10]
        P, dt, peak, evals, ok = structured_run(n, m)
        assert ok
        ps.append(P)
        ms.append(m)
        ts.append(dt)
        cg = "-"
        if args.scaling_peer_max >= P and m == 16:
            params, X, Y = make_point(sizes, m)
            blocks, grads = param_blocks(params), param_blocks(net.backward(params, X, Y))
            loss, _ = lean_losses(sizes, X, Y)
            x0 = np.concatenate([v.ravel() for v in blocks.values()])
            g = np.concatenate([v.ravel() for v in grads.values()])
            t = time.process_time()
            check_grad(loss, lambda _, g=g: g, x0)
            cps.append(P)
            cts.append(time.process_time() - t)
            cg = f"{cts[-1]:.3g}"
        print(
            f"| {P:,} | {sizes}, {m} | {dt:.3g} | {peak / 2**20:.1f} "
            f"| {(peak - 8 * P) / 2**20:.1f} | {evals / P:.2f} | {cg} |",
            flush=True,
        )
    at16 = [i for i, m in enumerate(ms) if m == 16]
    p16, t16 = [ps[i] for i in at16], [ts[i] for i in at16]
    for name, p, t in (("ours, NetworkLoss", p16, t16), ("check_grad", cps, cts)):
        if len(p) >= 2:
            slope = np.polyfit(np.log(p), np.log(t), 1)[0]
            print(f"- {name}: time ∝ P^{slope:.2f} over P = {p[0]:,} .. {p[-1]:,} (m = 16)")
    if len(p16) >= 3:
        slope = np.polyfit(np.log(p16[-2:]), np.log(t16[-2:]), 1)[0]
        print(f"- ours, NetworkLoss: time ∝ P^{slope:.2f} over its last two sizes")
    if len(ps) > len(p16):
        same = [i for i, p in enumerate(ps) if p == ps[at16[2]]]
        slope = np.polyfit(np.log([ms[i] for i in same]), np.log([ts[i] for i in same]), 1)[0]
        print(f"- ours, NetworkLoss: time ∝ m^{slope:.2f} at P = {ps[same[0]]:,}, m = 4, 16, 64")
        pm = np.array(ps, dtype=float) * np.array(ms)
        slope = np.polyfit(np.log(pm), np.log(ts), 1)[0]
        print(f"- ours, NetworkLoss: time ∝ (P·m)^{slope:.2f} over every run above")


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L", help="comma-separated sizes of S,M,L,XL")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (XL: 1)")
    parser.add_argument("--slow", default="", help="sizes where numdifftools runs beyond S,M")
    parser.add_argument("--scaling", action="store_true", help="time P = 1e3 .. --scaling-max")
    parser.add_argument("--scaling-max", type=float, default=1e6)
    parser.add_argument("--scaling-peer-max", type=float, default=3e4)
    parser.add_argument("--trials", type=int, default=0, help="seeded trials of the targets")
    args = parser.parse_args(argv)
    args.slow = set(filter(None, args.slow.split(",")))
    print(
        f"machine: {platform.machine()}, numpy {np.__version__}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
    )
    if args.sizes:
        print(
            "| size | P | tool | code path | CPU (s) | wall (s) | norm-rel err | evaluations "
            "| note |\n|---|---|---|---|---|---|---|---|---|"
        )
        for size in args.sizes.split(","):
            run_size(size, args)
    if args.scaling:
        scaling(args)
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
