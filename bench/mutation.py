"""The property suite's power: does it fail on every typical mistake?

Each mutant is one source-level change: to the reference (`backprop/`), of the kind of
the typical mistakes, or to the checker itself (the engine, the findings, the network
loss, the errata naming and command). For each, a copy of the repository gets the
change and pytest runs on it (`--suite properties`: tests/properties alone; `--suite
whole`: every test directory, with `-x`); the mutant is *killed* when the suite fails.
Results go to stdout as a Markdown table (docs/mutation.md keeps the last run's).

    python bench/mutation.py [--profile dev|ci] [--suite properties|whole] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    mistake: str
    file: str
    before: str
    after: str


MUTANTS = [
    Mutant(
        "sign",
        "sign of ∂L/∂W flipped",
        "backprop/formulas.py",
        "    return dL_dz @ a_prev.T",
        "    return -(dL_dz @ a_prev.T)",
    ),
    Mutant(
        "factor-m-dyhat",
        "the 1/m of ∂L/∂ŷ forgotten",
        "backprop/formulas.py",
        "    return g / m\n",
        "    return g\n",
    ),
    Mutant(
        "factor-m-daL",
        "the 1/m of ∂L/∂a_L forgotten",
        "backprop/formulas.py",
        "        yhat_g = -y / m\n",
        "        m = 1\n        yhat_g = -y / m\n",
    ),
    Mutant(
        "transpose",
        "∂L/∂W transposed",
        "backprop/formulas.py",
        "    return dL_dz @ a_prev.T",
        "    return (dL_dz @ a_prev.T).T",
    ),
    Mutant(
        "wrong-axis",
        "bias gradient summed over examples' axis 0",
        "backprop/formulas.py",
        "    return np.sum(dL_dz, axis=1, keepdims=True)",
        "    return np.sum(dL_dz, axis=0, keepdims=True)",
    ),
    Mutant(
        "mask-ge",
        "ReLU mask z >= 0 instead of z > 0",
        "backprop/formulas.py",
        "    return (z.real > 0).astype(np.float64)",
        "    return (z.real >= 0).astype(np.float64)",
    ),
    Mutant(
        "no-mask",
        "ReLU mask missing in ∂L/∂z",
        "backprop/formulas.py",
        "    return dL_da * relu_mask(z)",
        "    return dL_da",
    ),
    Mutant(
        "no-last-mask",
        "mask forgotten on the last layer",
        "backprop/network.py",
        '        dz[l - 1] = step["dL_dz"](da[l - 1], cache.z[l - 1])',
        '        dz[l - 1] = da[l - 1] if l == L else step["dL_dz"](da[l - 1], cache.z[l - 1])',
    ),
    Mutant(
        "diagonal-jacobian",
        "softmax Jacobian's diagonal alone (E1)",
        "backprop/formulas.py",
        "    return np.diag(y_hat) - np.outer(y_hat, y_hat)",
        "    return np.diag(y_hat * (1 - y_hat))",
    ),
    Mutant(
        "notes-daL",
        "∂L/∂a_L = (ŷ - y)/m under the notes' loss (E2)",
        "backprop/formulas.py",
        "    return yhat_g - y_hat * yhat_g.sum(axis=0, keepdims=True)",
        "    return (y_hat - y) / m",
    ),
    Mutant(
        "a-for-a-prev",
        "a_l used for a_{l-1} in ∂L/∂W_l",
        "backprop/network.py",
        'dW=[step["dL_dW"](dz[l - 1], cache.a[l - 1]) for l in range(1, L + 1)]',
        'dW=[step["dL_dW"](dz[l - 1], cache.a[min(l, L - 1)]) for l in range(1, L + 1)]',
    ),
    Mutant(
        "mask-added",
        "the boxed + of ∂L/∂z (E3)",
        "backprop/formulas.py",
        "    return dL_da * relu_mask(z)",
        "    return dL_da + relu_mask(z)",
    ),
    Mutant(
        "softmax-axis",
        "softmax over the wrong axis",
        "backprop/formulas.py",
        "    return e / e.sum(axis=0, keepdims=True)",
        "    return e / e.sum(axis=1, keepdims=True)",
    ),
    Mutant(
        "loss-one-term",
        "the (1-y) log(1-ŷ) term of the notes' loss dropped",
        "backprop/formulas.py",
        '        if kind == "notes":\n            g = g + _ratio(1 - y, 1 - y_hat)',
        "        if False:\n            g = g + _ratio(1 - y, 1 - y_hat)",
    ),
]


ENGINE_MUTANTS = [
    Mutant(
        "softmax-no-shift",
        "softmax without its max shift (overflows at large logits)",
        "backprop/formulas.py",
        "    e = np.exp(a - a.real.max(axis=0, keepdims=True))",
        "    e = np.exp(a)",
    ),
    Mutant(
        "decide-argmax",
        "`decide` through argmax (one 1 per column, ties lost)",
        "backprop/formulas.py",
        "    return (a == a.max(axis=0, keepdims=True)).astype(np.float64)",
        "    return np.eye(a.shape[0])[:, np.argmax(a, axis=0)]",
    ),
    Mutant(
        "float32-dW",
        "∂L/∂W cast to float32",
        "backprop/formulas.py",
        "    return dL_dz @ a_prev.T",
        "    return (dL_dz @ a_prev.T).astype(np.float32)",
    ),
    Mutant(
        "float32-forward",
        "the forward pass's z_l cast to float32",
        "backprop/network.py",
        "        z = W @ a_prev + b\n",
        "        z = (W @ a_prev + b).astype(np.float32)\n",
    ),
    Mutant(
        "dyhat-kind",
        "the loss kind not passed to ∂L/∂ŷ in backward",
        "backprop/network.py",
        "        dyhat=f.dL_dyhat_from_logits(cache.a[-1], Y, kind=kind),",
        "        dyhat=f.dL_dyhat_from_logits(cache.a[-1], Y),",
    ),
    Mutant(
        "loss-of-probabilities",
        "the network's loss from probabilities, not logits",
        "backprop/network.py",
        "    return f.loss_from_logits(cache.a[-1], Y, kind=kind)",
        "    return f.loss(cache.y_hat, Y, kind=kind)",
    ),
    Mutant(
        "daL-of-probabilities",
        "backward's ∂L/∂a_L from ŷ, not the logits (NaN where ŷ rounds to 1)",
        "backprop/network.py",
        "        da[L - 1] = f.dL_daL_from_logits(cache.a[-1], Y, kind=kind)",
        "        da[L - 1] = f.dL_daL(cache.y_hat, Y, kind=kind)",
    ),
    Mutant(
        "nan-left-out",
        "engine: NaN gradient entries left out of the comparison",
        "checks/engine/_block.py",
        "            bad = known & ~(diff <= tol)\n            redo = None",
        "            bad = known & (diff > tol)\n            redo = None",
    ),
    Mutant(
        "unchecked-passes",
        "engine: entries left unchecked still give a pass",
        "checks/engine/_gradcheck.py",
        "    if ok_all and (skips or not any(r.checked for r in rows)):",
        "    if ok_all and not any(r.checked for r in rows):",
    ),
    Mutant(
        "no-one-sided",
        "engine: no one-sided differences at kinks (entries skipped instead)",
        "checks/engine/_chunked.py",
        "        if redo.size:\n            v1, e1, ok1 = one_sided(",
        "        if False:\n            v1, e1, ok1 = one_sided(",
    ),
    Mutant(
        "no-complex-on-piece",
        "engine: no complex step on x's own piece at kinks (one-sided differences instead)",
        "checks/engine/_chunked.py",
        '    if redo.size and getattr(p.f, "complex_safe", False) is True:',
        "    if False:",
    ),
    Mutant(
        "rounding-floor-eps",
        "engine: a declared rounding scale floored at ε (a gradient of 1e-27 under 3e-26)",
        "checks/engine/_problem.py",
        "        if self.conditioning > 0:\n            return self.scale\n",
        "        if False:\n            return self.scale\n",
    ),
    Mutant(
        "float32-steps",
        "engine: steps actually taken formed in float32",
        "checks/engine/_numdiff.py",
        "    return (x + h).astype(p.layout.dtype).astype(np.float64) - x.astype(np.float64)",
        "    return (x + h).astype(p.layout.dtype) - x",
    ),
    Mutant(
        "factor-fit-loose",
        "findings: the factor fit accepts 1000× looser matches",
        "checks/findings.py",
        "_close(G, c * R, tol * max(1.0, abs(c)))",
        "_close(G, c * R, 1000 * tol * max(1.0, abs(c)))",
    ),
    Mutant(
        "one-class-crash",
        "NetworkLoss: log r of no other class, -inf - (-inf)",
        "checks/network.py",
        "        s2 = np.where(np.isfinite(s2), s2, 0.0)",
        "        s2 = s2",
    ),
    Mutant(
        "errata-names-all",
        "errata: naming always accepts",
        "checks/errata.py",
        "    return _same(expected, failure.got)",
        "    return True",
    ),
    Mutant(
        "errata-exit-0",
        "errata command: always exits 0",
        "checks/cli/_errata.py",
        "    return 0 if not disagreements(verdicts) else 1",
        "    return 0",
    ),
]
MUTANTS += ENGINE_MUTANTS

#: The whole suite, fastest and most numerical first, so that `-x` stops a killed
#: mutant early; then every other test directory and module, so that all are run.
FIRST = [
    "tests/reference",
    "tests/engine",
    "tests/properties",
    "tests/strategies",
    "tests/errata/test_naming.py",
    "tests/cli",
    "tests/errata/test_errata.py",  # not "tests/errata": overlapping arguments reorder
]


def _is_test_path(path: Path) -> bool:
    if path.is_dir():
        return path.name not in ("errata", "__pycache__") and (path / "__init__.py").exists()
    return path.name.startswith("test_") and path.suffix == ".py"


WHOLE = FIRST + sorted(
    str(path.relative_to(REPO))
    for path in (REPO / "tests").iterdir()
    if _is_test_path(path) and str(path.relative_to(REPO)) not in FIRST
)
SUITES = {"properties": ["tests/properties"], "whole": WHOLE}


def run(mutant: Mutant, profile: str, suite: str = "properties") -> tuple[bool, float, str]:
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        root = Path(tmp)
        for part in (
            "backprop",
            "checks",
            "tests",
            "pyproject.toml",
            "README.md",
            "examples",
            "docs",
            "bench",
            ".ci",
        ):
            if not (REPO / part).exists():
                continue
            source = REPO / part
            if source.is_dir():
                shutil.copytree(source, root / part, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, root / part)
        target = root / mutant.file
        text = target.read_text()
        if text.count(mutant.before) != 1:
            raise SystemExit(f"mutant {mutant.name}: the original text is not found exactly once")
        target.write_text(text.replace(mutant.before, mutant.after))
        env = {**os.environ, "PYTHONPATH": str(root), "HYPOTHESIS_PROFILE": profile}
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-x",
                "-p",
                "no:cacheprovider",
                *SUITES[suite],
            ],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - start
        failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
        return (
            proc.returncode != 0,
            seconds,
            failed[0][7:] if failed else proc.stdout.strip()[-200:],
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="dev", choices=["dev", "ci", "thorough"])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument(
        "--suite",
        default="properties",
        choices=sorted(SUITES),
        help="tests/properties alone, or the whole suite (every test directory)",
    )
    parser.add_argument(
        "--skip-baseline",
        action="store_true",
        help="do not run the unchanged suite first (only right after it was run green)",
    )
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if args.only is None or m.name in args.only]
    baseline = Mutant("none", "no change", "backprop/formulas.py", "__all__", "__all__")
    passes, seconds = False, float("nan")
    if not args.skip_baseline:
        passes, seconds, first = run(baseline, args.profile, args.suite)
    if passes:  # "killed" by the unchanged code: the suite itself fails
        print(f"The suite fails without any mutant ({first}); fix it first.")
        return 2
    what = {"properties": "Property suite (tests/properties", "whole": "Whole suite (tests"}[
        args.suite
    ]
    print(
        f"{what}, Hypothesis profile {args.profile}) against "
        f"{len(chosen)} mutants; unchanged, it passes in {seconds:.1f} s\n"
    )
    print("| mutant | mistake | killed | seconds | first failing test |")
    print("|---|---|---|---|---|")
    killed = 0
    for mutant in chosen:
        dead, seconds, first = run(mutant, args.profile, args.suite)
        killed += dead
        print(
            f"| `{mutant.name}` | {mutant.mistake} | {'yes' if dead else '**no**'} | "
            f"{seconds:.1f} | {first.replace('|', '/')} |",
            flush=True,
        )
    print(f"\n{killed} of {len(chosen)} mutants killed.")
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    raise SystemExit(main())
