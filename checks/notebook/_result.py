"""What a notebook check returns: an object to inspect, shown as HTML in Jupyter.

`Result` is one function's verdict, `Results` those of every contract function. Both
render as HTML in Jupyter (`_repr_html_`) and as plain text elsewhere (`str`, `repr`).

Everything in them that the student's code controls (messages quoting exceptions,
printed output, names) is made inert before it is shown: `printable` (the formats'
escape of terminal controls and bidirectional overrides), then `html.escape` in HTML.
The colours are the class report's, set in `style` attributes rather than a
stylesheet, since notebook front ends (JupyterLab's sanitizer, GitHub's viewer) drop
`<style>` elements from untrusted output but keep what is written inline.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from checks.formats import DIAGNOSES, number, printable, to_text
from checks.grader.report import FunctionResult, Report, Verdict

__all__ = ["Result", "Results"]

# The verdicts' colours of the HTML class report (`checks.formats._html`): background, text.
_COLOURS: Final[dict[str, tuple[str, str]]] = {
    "pass": ("#dafbe1", "#116329"),
    "fail": ("#ffcecb", "#a40e26"),
    "error": ("#ffd8b5", "#953800"),
    "timeout": ("#eddeff", "#6639ba"),
    "missing": ("#eaeef2", "#57606a"),
}
_BOX: Final = (
    "font: 14px/1.45 system-ui, sans-serif; color: #1f2328; margin: .3rem 0; "
    "padding: .35rem .75rem; border-left: 4px solid {fg}; background: #fff"
)
_PRE: Final = (
    "font: 12.5px/1.4 ui-monospace, monospace; background: #f6f8fa; padding: .4rem .6rem; "
    "margin: .25rem 0 .5rem; white-space: pre-wrap; overflow-x: auto"
)
_MUTED: Final = "color: #57606a"
_HIDDEN: Final = "Feedback on this function is hidden by your course's configuration."


def _explain(identifier: str) -> str:
    return DIAGNOSES.get(identifier, "")


def _one_line(text: str) -> str:
    r"""`printable(text)` on one line, newlines and tabs shown as `\n` and `\t`."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")


def _e(text: str) -> str:
    return html.escape(printable(text), quote=True)


def _array_text(value: Any) -> str:
    """A value as numpy prints it, short: arrays summarised past 100 entries."""
    if isinstance(value, list | tuple):
        return "\n".join(f"[{i}] {_array_text(v)}" for i, v in enumerate(value))
    return np.array2string(
        np.asarray(value), precision=6, suppress_small=False, threshold=100, max_line_width=80
    ) + (f"  shape {np.shape(value)}" if np.ndim(value) else "")


def _badge(verdict: str) -> str:
    bg, fg = _COLOURS[verdict]
    return (
        f'<span class="bc-verdict bc-{verdict}" style="background: {bg}; color: {fg}; '
        f'font-weight: 700; padding: 0 .45rem; border-radius: 3px">{verdict.upper()}</span>'
    )


@dataclass(frozen=True, repr=False)
class Result:
    """The verdict on one function, as the grader would give it.

    Attributes
    ----------
    function : str
        The contract name (`dL_dW`).
    name : str
        The name in the notebook (the configuration may rename it).
    verdict : {"pass", "fail", "error", "timeout", "missing"}
    points, max_points : float
    diagnoses : tuple of str
        The recognised mistake shapes (`docs/diagnoses.md`), empty when none.
    message : str
        The grader's message: what is wrong, where, and a snippet to reproduce it.
    expected, got : object
        On a failure, the correct result and the function's, on the (shrunk) failing
        case; None otherwise.
    reproduction : str
        Python that reproduces the failure in a new cell ("" when there is none).
    output : str
        What the function printed while it was checked.
    hidden : bool
        The configuration hides this function's feedback: `message`, `diagnoses`,
        `expected`, `got` and `reproduction` are then empty.
    seconds : float
        How long the check took.
    """

    function: str
    name: str
    verdict: Verdict
    points: float
    max_points: float
    diagnoses: tuple[str, ...] = ()
    message: str = ""
    expected: Any = None
    got: Any = None
    reproduction: str = ""
    output: str = ""
    hidden: bool = False
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether the function passed."""
        return self.verdict == "pass"

    def as_report(self) -> FunctionResult:
        """This result as the grader's report entry (`checks.grader.FunctionResult`)."""
        entry: FunctionResult = {
            "verdict": self.verdict,
            "points": self.points,
            "max_points": self.max_points,
            "diagnosis": list(self.diagnoses),
            "message": _HIDDEN if self.hidden else self.message,
        }
        if self.hidden:
            entry["hidden"] = True
        return entry

    def _title(self) -> str:
        alias = "" if self.name == self.function else f" (the contract's {self.function})"
        points = f"{number(self.points)} / {number(self.max_points)} point"
        return f"{_one_line(self.name)}{alias}: {points}{'s' * (self.max_points != 1)}"

    def __str__(self) -> str:
        lines = [f"{self.verdict.upper()}  {self._title()}"]
        if self.diagnoses:
            lines.append("  diagnoses: " + ", ".join(_one_line(d) for d in self.diagnoses))
        if self.hidden:
            lines.append("  " + _HIDDEN)
        elif self.message.strip():
            lines.append(textwrap.indent(printable(self.message.strip("\n")), "  "))
        if self.output:
            lines.append("  it printed:")
            lines.append(textwrap.indent(printable(self.output.rstrip("\n")), "    "))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Result {self.name}: {self.verdict}, {number(self.points)} / "
            f"{number(self.max_points)}>\n{self}"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def html(self) -> str:
        """The HTML a notebook shows: the verdict, then the detail, collapsed."""
        fg = _COLOURS[self.verdict][1]
        ids = " ".join(
            f'<code title="{_e(_explain(d))}" style="{_MUTED}">{_e(d)}</code>'
            for d in self.diagnoses
        )
        head = (
            f'<div class="bc-result" data-verdict="{self.verdict}" '
            f'style="{_BOX.format(fg=fg)}">'
            f"<div>{_badge(self.verdict)} <code>{_e(self.name)}</code>"
            + (
                f' <span style="{_MUTED}">(the contract\'s <code>{_e(self.function)}</code>)</span>'
                if self.name != self.function
                else ""
            )
            + f' <span style="{_MUTED}">{number(self.points)}&nbsp;/&nbsp;'
            f"{number(self.max_points)}</span> {ids}</div>"
        )
        parts = [head]
        if self.hidden:
            parts.append(f'<p style="{_MUTED}; margin: .25rem 0">{_e(_HIDDEN)}</p>')
        elif self.verdict != "pass" and self.message.strip():
            first = self.message.strip().splitlines()[0]
            parts.append(f'<p style="margin: .25rem 0">{_e(first)}</p>')
            parts.append(self._details())
        if self.output:
            parts.append(
                f'<details><summary style="cursor: pointer; {_MUTED}">What it printed'
                f'</summary><pre style="{_PRE}">{_e(self.output)}</pre></details>'
            )
        parts.append("</div>")
        return "".join(parts)

    def _details(self) -> str:
        """The collapsed detail: expected versus got, the diagnoses, the whole message.

        The message is the grader's, reproduction snippet included, so it is shown once.
        """
        values = self.expected is not None or self.got is not None
        message = self.message.strip()
        if not values and not self.diagnoses and "\n" not in message:
            return ""  # the one line above says it all (a missing function)
        inside = ["expected versus got"] * values + ["diagnoses"] * bool(self.diagnoses)
        inside.append("reproduction" if self.reproduction else "the whole message")
        out = [
            '<details class="bc-detail"><summary style="cursor: pointer">'
            f"Details: {', '.join(inside)}</summary>"
        ]
        if values:
            out.append(
                '<table class="bc-values" style="border-collapse: collapse"><tr>'
                '<th style="text-align: left; padding-right: 1rem">expected</th>'
                '<th style="text-align: left">got</th></tr><tr>'
                f'<td style="vertical-align: top; padding-right: 1rem"><pre style="{_PRE}">'
                f"{_e(_array_text(self.expected))}</pre></td>"
                f'<td style="vertical-align: top"><pre style="{_PRE}">'
                f"{_e(_array_text(self.got))}</pre></td></tr></table>"
            )
        if self.diagnoses:
            out.append('<ul class="bc-diagnoses" style="margin: .25rem 0">')
            out += [
                f"<li><code>{_e(d)}</code>: {_e(_explain(d) or 'a recognised mistake')}</li>"
                for d in self.diagnoses
            ]
            out.append("</ul>")
        out.append(f'<pre class="bc-message" style="{_PRE}">{_e(message)}</pre>')
        out.append("</details>")
        return "".join(out)


@dataclass(frozen=True, repr=False)
class Results(Mapping[str, Result]):
    """The verdicts on every contract function, keyed by contract name, in its order.

    A mapping of `Result`; `passed` when every function passed; `score` and `max_score`
    as the grader adds them up; `report()` is the grader's report, for any writer of
    `checks.formats`.
    """

    results: Mapping[str, Result] = field(default_factory=dict)
    output: str = ""
    seconds: float = 0.0

    def __getitem__(self, function: str) -> Result:
        return self.results[function]

    def __iter__(self) -> Iterator[str]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results.values())

    @property
    def score(self) -> float:
        return sum(r.points for r in self.results.values())

    @property
    def max_score(self) -> float:
        return sum(r.max_points for r in self.results.values())

    def report(self, submission: str = "notebook") -> Report:
        """The grader's report of these results (the contract's JSON report)."""
        report: Report = {
            "submission": submission,
            "score": self.score,
            "max_score": self.max_score,
            "functions": {f: r.as_report() for f, r in self.results.items()},
        }
        if self.output:
            report["output"] = self.output
        return report

    def __str__(self) -> str:
        return to_text(self.report(), color=False).rstrip("\n")

    def __repr__(self) -> str:
        return f"<Results: {number(self.score)} / {number(self.max_score)} points>\n{self}"

    def _repr_html_(self) -> str:
        return self.html()

    def html(self) -> str:
        """A line per function, failures first opened to their message."""
        counts = {v: 0 for v in _COLOURS}
        for r in self.results.values():
            counts[r.verdict] += 1
        summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        head = (
            f'<div class="bc-results" style="font: 14px/1.45 system-ui, sans-serif">'
            f"<div><strong>{number(self.score)} / {number(self.max_score)} points</strong>"
            f' <span style="{_MUTED}">({summary})</span></div>'
        )
        printed = (
            f'<details><summary style="cursor: pointer; {_MUTED}">What your functions printed'
            f'</summary><pre style="{_PRE}">{_e(self.output)}</pre></details>'
            if self.output
            else ""
        )
        return head + "".join(r.html() for r in self.results.values()) + printed + "</div>"
