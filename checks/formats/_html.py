"""A self-contained HTML class report: one file, no network, no external assets."""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable
from typing import Final

from checks.formats._diagnoses import explain
from checks.formats._escape import number, printable
from checks.formats._summary import Summary, summarize
from checks.grader.report import VERDICTS, FunctionResult, Report, check_reports

__all__ = ["to_html"]

_LETTER: Final[dict[str, str]] = {
    "pass": "P",
    "fail": "F",
    "error": "E",
    "timeout": "T",
    "missing": "M",
}

_CSS: Final = """
:root { font: 15px/1.45 system-ui, sans-serif; color: #1f2328; background: #fff; }
body { margin: 1.5rem 2rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; }
th, td { padding: .2rem .5rem; text-align: left; vertical-align: baseline; }
thead th { vertical-align: bottom; }
.grid td, .grid tfoot th { text-align: center; padding: 0; border: 1px solid #fff; }
.grid tbody th, .grid td.score { white-space: nowrap; border-bottom: 1px solid #eaeef2; }
.grid tbody th { max-width: 18rem; overflow: hidden; text-overflow: ellipsis; }
.grid thead th.fn { writing-mode: vertical-rl; transform: rotate(180deg); padding: .3rem 0;
  font: 600 .8rem ui-monospace, monospace; }
.grid td.v a { display: block; width: 2rem; line-height: 1.7rem; font-weight: 700;
  text-decoration: none; color: inherit; }
.grid tfoot th { font-size: .75rem; font-weight: 400; color: #57606a; }
.grid tfoot th[scope=row] { text-align: right; padding-right: .5rem; }
.grid td.ungraded { color: #953800; font-size: .85rem; text-align: left; padding-left: .5rem; }
th code { white-space: nowrap; }
.v.pass { background: #dafbe1; color: #116329; }
.v.fail { background: #ffcecb; color: #a40e26; }
.v.error { background: #ffd8b5; color: #953800; }
.v.timeout { background: #eddeff; color: #6639ba; }
.v.missing { background: #eaeef2; color: #57606a; }
.legend span.v { display: inline-block; padding: 0 .5rem; margin-right: .4rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; width: 6rem; height: .6rem; background: #ffcecb; }
.bar > span { display: block; height: 100%; background: #2da44e; }
code, pre { font: .85rem ui-monospace, monospace; }
pre { background: #f6f8fa; padding: .5rem .75rem; overflow-x: auto; white-space: pre-wrap;
  margin: .25rem 0 .75rem; }
details.student { border: 1px solid #d0d7de; border-radius: 6px; margin: .4rem 0;
  padding: .3rem .75rem; }
details.student > summary { cursor: pointer; font-weight: 600; }
details.student[open] { background: #fcfcfd; }
.fn-result { margin: .5rem 0 0; }
.fn-result .v { padding: 0 .4rem; margin-right: .4rem; font-weight: 700; }
.muted { color: #57606a; }
"""

# Opens the feedback a grid link points to. Allowed by the page's Content-Security-Policy
# through its hash, so no other script (say, one a submission smuggled in) could run.
_JS: Final = """
function openTarget() {
  var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
  for (var node = target; node; node = node.parentElement) {
    if (node.tagName === "DETAILS") node.open = true;
  }
  if (target) target.scrollIntoView();
}
window.addEventListener("hashchange", openTarget);
window.addEventListener("DOMContentLoaded", openTarget);
"""
_JS_HASH: Final = base64.b64encode(hashlib.sha256(_JS.encode()).digest()).decode()
_CSP: Final = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_JS_HASH}'"


def _e(text: str) -> str:
    return html.escape(printable(text), quote=True)


def _points(points: float, max_points: float) -> str:
    return f"{number(points)}&nbsp;/&nbsp;{number(max_points)}"


def _cell(student: int, column: int, name: str, result: FunctionResult | None) -> str:
    if result is None:
        return '<td class="v none" title="not graded">&nbsp;</td>'
    verdict = result["verdict"]
    title = f"{name}: {verdict}, {number(result['points'])} / {number(result['max_points'])}"
    if result["diagnosis"]:
        title += " (" + ", ".join(result["diagnosis"]) + ")"
    return (
        f'<td class="v {verdict}" title="{_e(title)}">'
        f'<a href="#s{student}-f{column}">{_LETTER[verdict]}</a></td>'
    )


def _grid(reports: list[Report], names: list[str], summary: Summary) -> list[str]:
    out = ['<table class="grid">', "<thead><tr><th>submission</th><th>score</th>"]
    out += [f'<th class="fn" scope="col">{_e(name)}</th>' for name in names]
    out.append("</tr></thead><tbody>")
    for i, report in enumerate(reports):
        out.append(
            f'<tr><th scope="row" title="{_e(report["submission"])}">'
            f'<a href="#s{i}">{_e(report["submission"])}</a></th>'
            f'<td class="score num">{_points(report["score"], report["max_score"])}</td>'
        )
        functions = report["functions"]
        if report.get("error") and not functions and names:
            out.append(f'<td class="ungraded" colspan="{len(names)}">grading failed</td>')
        else:
            out += [_cell(i, j, name, functions.get(name)) for j, name in enumerate(names)]
        out.append("</tr>")
    out.append('</tbody><tfoot><tr><th scope="row">pass rate</th><th></th>')
    out += [f"<th>{summary['functions'][name]['pass_rate']:.0%}</th>" for name in names]
    out.append("</tr></tfoot></table>")
    return out


def _per_function(summary: Summary) -> list[str]:
    out = ["<h2>Per function</h2><table>", "<thead><tr><th>function</th>"]
    out.append('<th class="num">passed</th><th>pass rate</th>')
    out += [f'<th class="num">{verdict}</th>' for verdict in VERDICTS[1:]]
    out.append("<th>most common diagnoses</th></tr></thead><tbody>")
    for name, fn in summary["functions"].items():
        rate = fn["pass_rate"]
        common = ", ".join(
            f"<code>{_e(d)}</code>&nbsp;({n})" for d, n in list(fn["diagnoses"].items())[:3]
        )
        out.append(
            f"<tr><th><code>{_e(name)}</code></th>"
            f'<td class="num">{fn["passed"]}&nbsp;/&nbsp;{fn["graded"]}</td>'
            f'<td><span class="bar" role="img" aria-label="{rate:.0%}">'
            f'<span style="width: {100 * rate:.1f}%"></span></span> {rate:.0%}</td>'
        )
        out += [f'<td class="num">{fn["verdicts"][v] or ""}</td>' for v in VERDICTS[1:]]
        out.append(f"<td>{common}</td></tr>")
    out.append("</tbody></table>")
    return out


def _mistakes(summary: Summary) -> list[str]:
    out = ["<h2>Most common mistakes</h2>"]
    if not summary["diagnoses"]:
        return [*out, '<p class="muted">No recognised mistake.</p>']
    out.append('<table><thead><tr><th>diagnosis</th><th class="num">submissions</th>')
    out.append("<th>meaning</th><th>where (submissions)</th></tr></thead><tbody>")
    for diagnosis, seen in summary["diagnoses"].items():
        where = ", ".join(f"<code>{_e(f)}</code>&nbsp;({n})" for f, n in seen["functions"].items())
        out.append(
            f"<tr><th><code>{_e(diagnosis)}</code></th>"
            f'<td class="num">{seen["submissions"]}</td>'
            f"<td>{_e(explain(diagnosis))}</td><td>{where}</td></tr>"
        )
    out.append("</tbody></table>")
    return out


def _feedback(i: int, report: Report, names: list[str]) -> list[str]:
    score = _points(report["score"], report["max_score"])
    out = [
        f'<details class="student" id="s{i}">',
        f'<summary>{_e(report["submission"])} <span class="muted">{score}</span></summary>',
    ]
    if report.get("error"):
        out.append(
            f"<p><strong>Grading failed:</strong></p><pre>{_e(str(report.get('error')))}</pre>"
        )
    for name, result in report["functions"].items():
        verdict = result["verdict"]
        ids = " ".join(
            f'<code title="{_e(explain(d))}">{_e(d)}</code>' for d in result["diagnosis"]
        )
        hidden = ' <span class="muted">(hidden)</span>' if result.get("hidden", False) else ""
        out.append(
            f'<div class="fn-result" id="s{i}-f{names.index(name)}">'
            f'<span class="v {verdict}">{_LETTER[verdict]}&nbsp;{verdict}</span>'
            f"<code>{_e(name)}</code>{hidden} "
            f'<span class="muted">{_points(result["points"], result["max_points"])}</span> {ids}'
            "</div>"
        )
        if result["message"].strip():
            out.append(f"<pre>{_e(result['message'].strip(chr(10)))}</pre>")
    if report.get("isolation"):
        out.append(f'<p class="muted">Isolation: {_e(str(report.get("isolation")))}</p>')
    if report.get("output"):
        out.append("<details><summary>What the submission printed</summary>")
        out.append(f"<pre>{_e(str(report.get('output')))}</pre></details>")
    out.append("</details>")
    return out


def to_html(reports: Iterable[Report], *, title: str = "backprop-check: class report") -> str:
    """A self-contained HTML report of a class: the class at a glance, then each student.

    A students × functions grid of verdicts (coloured, and a letter in each cell, so it
    reads without colour: P pass, F fail, E error, T timeout, M missing) with the pass
    rate under each function; the pass rate, verdict counts and most common diagnoses
    per function; the most common mistakes with their meaning; and each student's
    feedback in a collapsed `<details>`, one click away from the grid.

    Parameters
    ----------
    reports : iterable of Report
        One report per submission, in the order of the grid's rows.
    title : str
        The page's title.

    Returns
    -------
    str
        One HTML document with its CSS and script inline, no external resource, and a
        Content-Security-Policy that forbids loading anything and runs no script but
        its own. Every text is HTML-escaped: submissions' output is hostile.
    """
    if not isinstance(title, str):
        raise TypeError(f"`title` must be str, got {type(title).__name__}")
    checked = check_reports(reports)
    summary = summarize(checked)
    names = list(summary["functions"])
    scores = [r["score"] / r["max_score"] for r in checked if r["max_score"] > 0]
    mean = f", mean score {sum(scores) / len(scores):.0%}" if scores else ""
    failed = sum(bool(r.get("error")) for r in checked)
    note = f", grading failed for {failed}" if failed else ""
    legend = " ".join(f'<span class="v {v}">{_LETTER[v]}</span>{v}' for v in VERDICTS)
    page = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style><script>{_JS}</script></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">{len(checked)} submissions, {len(names)} functions{mean}{note}.</p>',
        f'<p class="legend">{legend}</p>',
        *_grid(checked, names, summary),
        *_per_function(summary),
        *_mistakes(summary),
        "<h2>Feedback</h2>",
        '<p class="muted">Click a name or a cell of the grid to open that feedback.</p>',
    ]
    for i, report in enumerate(checked):
        page += _feedback(i, report, names)
    page.append("</body></html>")
    return "\n".join(page) + "\n"
