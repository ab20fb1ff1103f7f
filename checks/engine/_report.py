"""The report of `check_gradient`: one row per block, the worst entries, a summary."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from checks.findings import Finding

__all__ = ["STATUSES", "BlockRow", "EntryError", "GradientReport"]

#: The verdicts of a check: every entry checked and agreeing; some entry disagreeing;
#: no disagreement, but entries (or directions) left unchecked, which is not a pass.
STATUSES = ("passed", "failed", "unchecked")


@dataclass(frozen=True)
class EntryError:
    """One compared entry: where, both values, the error and the tolerance."""

    block: str
    index: tuple[int, ...]
    analytic: float
    numerical: float
    error: float
    tolerance: float

    @property
    def where(self) -> str:
        return f"{self.block}[{', '.join(map(str, self.index))}]" if self.index else self.block


@dataclass(frozen=True)
class BlockRow:
    """The comparison of one block (array) of the gradient."""

    name: str
    shape: tuple[int, ...]
    expected_shape: tuple[int, ...]
    ok: bool
    max_abs_error: float = float("nan")
    max_rel_error: float = float("nan")
    norm_rel_error: float = float("nan")
    checked: int = 0
    failed: int = 0
    skipped: int = 0
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class GradientReport:
    """The result of `check_gradient`; ``str(report)`` is a terminal-sized summary.

    `status` is the verdict, one of `STATUSES`; `ok` is true for ``"passed"`` only. An
    ``"unchecked"`` check found no disagreement but left entries unchecked (`skipped`
    says which and why): it proves nothing about them, so it is not a pass, and it is
    not a failure either. `worst` holds the entries with the largest error relative to
    their tolerance (at most 5); `skipped` the entries (or directions) left out because
    every step tried crossed a kink, with why; `blocks` one row per block; `findings`
    the shape of the whole difference (see `fingerprint`); `tolerance_source` where the
    tolerance came from; `scipy` the figures of `scipy.optimize.check_grad` when
    ``method="scipy"``; `directional` the `(analytic, numerical, tolerance)` of each
    direction in directional mode.
    """

    ok: bool
    method: str
    mode: str
    max_abs_error: float
    max_rel_error: float
    norm_rel_error: float
    where_abs: str
    where_rel: str
    tolerance: float
    tolerance_source: str
    step: float
    evaluations: int
    seconds: float
    worst: tuple[EntryError, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    blocks: tuple[BlockRow, ...] = ()
    findings: tuple[Finding, ...] = ()
    scipy: Mapping[str, float] = field(default_factory=dict)
    directional: tuple[tuple[float, float, float], ...] = ()
    status: str = ""
    one_sided: tuple[str, ...] = ()
    #: Directional mode only: an error of one entry larger than this is caught with
    #: probability at least 99 % (smaller ones may pass: not every entry is checked).
    resolution: float = float("nan")

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", "passed" if self.ok else "failed")
        if self.status not in STATUSES:
            raise ValueError(f"`status` must be one of {STATUSES}, got {self.status!r}")
        if self.ok != (self.status == "passed"):
            raise ValueError(f"`ok` is {self.ok} but `status` is {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        """The report as plain Python values (for JSON): nested dicts, tuples and floats.

        Unmeasured figures are NaN, which `json.dumps` writes as ``NaN``.
        """
        return asdict(self)

    def __str__(self) -> str:
        head = "gradient check passed" if self.ok else "gradient check FAILED"
        nbad = sum(not b.ok for b in self.blocks)
        if self.status == "unchecked":
            what = "entries" if self.mode == "full" else "directions"
            head = (
                f"gradient check UNCHECKED: no disagreement, but {len(self.skipped)} "
                f"{what} could not be checked"
            )
        elif not self.ok and self.mode == "full":
            head += f": {nbad} of {len(self.blocks)} block(s) wrong"
        elif not self.ok:
            bad = sum(abs(a - n) > t for a, n, t in self.directional)
            head += f": {bad} of {len(self.directional)} direction(s) disagree"
        lines = [f"{head} ({self.method} differences, {self.mode} mode)"]
        lines.append(
            f"  max abs error {self.max_abs_error:.3g} at {self.where_abs}; max rel error "
            f"{self.max_rel_error:.3g} at {self.where_rel}; norm-relative {self.norm_rel_error:.3g}"
        )
        lines.extend(
            textwrap.wrap(
                f"tolerance up to {self.tolerance:.3g}: {self.tolerance_source}",
                width=100,
                initial_indent="  ",
                subsequent_indent="    ",
            )
        )
        lines.append(
            f"  step {self.step:.3g} (typical); {self.evaluations} evaluations; "
            f"{self.seconds:.3g} s"
        )
        for f in self.findings:
            lines.append(f"  diagnosis: {f}")
        for k, v in self.scipy.items():
            lines.append(f"  scipy {k}: {v:.3g}")
        if self.mode == "directional" and np.isfinite(self.resolution):
            lines.append(
                "  not every entry is checked: one wrong entry is caught with probability "
                "≥ 99 % if it is off by"
            )
            lines.append(f"    more than {self.resolution:.2g} (mode='full' checks each entry)")
        for i, (a, n, t) in enumerate(self.directional):
            mark = "ok" if abs(a - n) <= t else "MISMATCH"
            lines.append(
                f"  direction {i}: analytic {a:.10g}, numerical {n:.10g}, tolerance {t:.3g} {mark}"
            )
        if self.blocks and (self.mode == "full" or nbad):
            lines.append(
                f"  {'block':<10}{'shape':<14}{'max abs':>10}{'norm rel':>10}{'fail':>7}"
                f"{'skip':>6}  diagnosis"
            )
            shown = [b for b in self.blocks if not b.ok] + [b for b in self.blocks if b.ok]
            for b in shown[:12]:
                shape = "x".join(map(str, b.shape)) or "()"
                if b.shape != b.expected_shape:
                    shape += "!"
                diag = ", ".join(f.id for f in b.findings) or ("" if b.ok else "?")
                lines.append(
                    f"  {b.name[:10]:<10}{shape[:14]:<14}{b.max_abs_error:>10.2e}"
                    f"{b.norm_rel_error:>10.2e}{b.failed:>7}{b.skipped:>6}  {diag}"
                )
            if len(shown) > 12:
                lines.append(f"  ... {len(shown) - 12} more block(s), all passed")
            for b in self.blocks:
                for f in b.findings:
                    lines.append(f"  {b.name}: {f}")
        if self.worst and not self.ok:
            lines.append("  worst entries (analytic, numerical, error, tolerance):")
            for e in self.worst:
                lines.append(
                    f"    {e.where:<16} {e.analytic:>14.7g} {e.numerical:>14.7g} "
                    f"{e.error:>10.2e} {e.tolerance:>10.2e}"
                )
        if self.one_sided:
            names = ", ".join(self.one_sided[:4])
            more = f" and {len(self.one_sided) - 4} more" if len(self.one_sided) > 4 else ""
            lines.append(
                f"  checked on x's own piece {len(self.one_sided)} (central crossed a kink): "
                f"{names}{more}"
            )
        if self.skipped:
            shown_skips = ", ".join(w for w, _ in self.skipped[:4])
            more = f" and {len(self.skipped) - 4} more" if len(self.skipped) > 4 else ""
            lines.append(
                f"  unchecked {len(self.skipped)} ({self.skipped[0][1]}): {shown_skips}{more}"
            )
        return "\n".join(lines)
