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
from checks.grader.report import NOT_LOADED, VERDICTS, FunctionResult, Report, check_reports

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
.grid thead th.fn .pts { display: block; font: 400 .7rem system-ui, sans-serif; color: #57606a; }
.grid thead button { font: inherit; background: none; border: 0; padding: 0; cursor: pointer;
  color: inherit; }
.grid thead button[aria-sort]::after { content: " ▲"; }
.grid thead button[aria-sort=descending]::after { content: " ▼"; }
.grid td.reason { text-align: left; padding: 0 .5rem; font-size: .85rem; }
.grid td.reason a { display: inline; width: auto; font-weight: 400; }
.controls { margin: .75rem 0; display: flex; gap: 1rem; flex-wrap: wrap; align-items: center; }
.controls label { font-size: .85rem; color: #57606a; }
.hist { display: flex; align-items: flex-end; gap: 4px; height: 8rem; margin: .5rem 0 1.5rem; }
.hist .bin { width: 3.2rem; height: 100%; display: flex; flex-direction: column;
  justify-content: flex-end; text-align: center; font-size: .75rem; }
.hist .bin .fill { background: #0969da; min-height: 1px; }
.hist .bin .lbl { color: #57606a; }
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

// Filter and sort the grid. The state also comes from the page's query string
// (?student=bob&function=dL_dW&verdict=fail&sort=score&order=descending), so that a
// link can share a view.
var RANK = {fail: 0, error: 1, timeout: 2, missing: 3, pass: 4};
function gridRows() {
  return Array.prototype.slice.call(document.querySelectorAll("table.grid tbody tr"));
}
function pairs(row) {
  return row.getAttribute("data-verdicts").split(" ").map(function (pair) {
    var cut = pair.lastIndexOf("=");
    return [pair.slice(0, cut), pair.slice(cut + 1)];
  });
}
function verdictOf(row, fn) {
  var found = pairs(row).filter(function (pair) { return pair[0] === fn; });
  return found.length ? found[0][1] : "";
}
function applyFilter() {
  var who = document.getElementById("f-student").value.toLowerCase();
  var fn = document.getElementById("f-function").value;
  var verdict = document.getElementById("f-verdict").value;
  var rows = gridRows(), shown = 0;
  rows.forEach(function (row) {
    var keep = row.getAttribute("data-name").toLowerCase().indexOf(who) !== -1;
    if (keep && verdict) {
      keep = fn ? verdictOf(row, fn) === verdict
                : pairs(row).some(function (pair) { return pair[1] === verdict; });
    }
    row.hidden = !keep;
    if (keep) shown += 1;
  });
  document.getElementById("f-count").textContent = shown + " of " + rows.length + " shown";
}
function sortBy(key, order) {
  var body = document.querySelector("table.grid tbody");
  var sign = order === "descending" ? -1 : 1;
  var keyOf = function (row) {
    if (key === "submission") return row.getAttribute("data-name").toLowerCase();
    if (key === "score") return parseFloat(row.getAttribute("data-score"));
    var v = verdictOf(row, key);
    return v in RANK ? RANK[v] : 5;
  };
  gridRows().sort(function (a, b) {
    var x = keyOf(a), y = keyOf(b);
    return sign * (x < y ? -1 : x > y ? 1 : 0);
  }).forEach(function (row) { body.appendChild(row); });
  Array.prototype.forEach.call(document.querySelectorAll("table.grid thead button"), function (b) {
    if (b.getAttribute("data-sort") === key) b.setAttribute("aria-sort", order);
    else b.removeAttribute("aria-sort");
  });
}
window.addEventListener("DOMContentLoaded", function () {
  if (!document.getElementById("f-student")) return;
  var query = new URLSearchParams(location.search);
  ["student", "function", "verdict"].forEach(function (name) {
    var control = document.getElementById("f-" + name);
    if (query.get(name)) control.value = query.get(name);
    control.addEventListener("input", applyFilter);
    control.addEventListener("change", applyFilter);
  });
  Array.prototype.forEach.call(document.querySelectorAll("table.grid thead button"), function (b) {
    b.addEventListener("click", function () {
      var again = b.getAttribute("aria-sort") === "ascending";
      sortBy(b.getAttribute("data-sort"), again ? "descending" : "ascending");
    });
  });
  if (query.get("sort")) sortBy(query.get("sort"), query.get("order") || "ascending");
  applyFilter();
});
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


def _header(name: str, reports: list[Report]) -> str:
    """A function's column header: its name, its points, and whether it is hidden."""
    results = [r["functions"][name] for r in reports if name in r["functions"]]
    points = sorted({r["max_points"] for r in results})
    shown = "–".join(number(p) for p in (points[0], points[-1]) if points) if points else ""
    if len(points) == 1:
        shown = number(points[0])
    label = f"{shown} pt" if shown else ""
    hidden = any(r.get("hidden", False) for r in results)
    label += " · hidden" if hidden else ""
    title = f"{name}: {label}" if label else name
    return (
        f'<th class="fn" scope="col" title="{_e(title)}">'
        f'<button type="button" data-sort="{_e(name)}">{_e(name)}</button>'
        f'<span class="pts">{_e(label)}</span></th>'
    )


def _one_reason(report: Report) -> str | None:
    """The one reason every function of `report` has, when a row is errors alone.

    A submission that does not load (a syntax error) gets `error` on every function:
    the reason in full with the first, `NOT_LOADED` with the others (or one message
    for all). The grid shows that reason once instead of a row of E.
    """
    results = list(report["functions"].values())
    if len(results) < 2 or any(r["verdict"] != "error" for r in results):
        return None
    rest = {r["message"] for r in results[1:]}
    if rest != {results[0]["message"]} and rest != {NOT_LOADED}:
        return None
    first = results[0]["message"].strip().splitlines()
    return first[0] if first else None


def _grid(reports: list[Report], names: list[str], summary: Summary) -> list[str]:
    out = [
        '<table class="grid">',
        '<thead><tr><th><button type="button" data-sort="submission">submission</button></th>'
        '<th><button type="button" data-sort="score">score</button></th>',
    ]
    out += [_header(name, reports) for name in names]
    out.append("</tr></thead><tbody>")
    for i, report in enumerate(reports):
        functions = report["functions"]
        verdicts = " ".join(f"{name}={r['verdict']}" for name, r in functions.items())
        fraction = report["score"] / report["max_score"] if report["max_score"] > 0 else 0.0
        out.append(
            f'<tr data-name="{_e(report["submission"])}" data-score="{fraction!r}" '
            f'data-verdicts="{_e(verdicts)}">'
            f'<th scope="row" title="{_e(report["submission"])}">'
            f'<a href="#s{i}">{_e(report["submission"])}</a></th>'
            f'<td class="score num">{_points(report["score"], report["max_score"])}</td>'
        )
        reason = _one_reason(report)
        if report.get("error") and not functions and names:
            out.append(f'<td class="ungraded" colspan="{len(names)}">grading failed</td>')
        elif reason is not None and len(functions) == len(names):
            out.append(
                f'<td class="v error reason" colspan="{len(names)}" '
                f'title="every function: error">E&nbsp;every function: '
                f'<a href="#s{i}">{_e(reason)}</a></td>'
            )
        else:
            out += [_cell(i, j, name, functions.get(name)) for j, name in enumerate(names)]
        out.append("</tr>")
    out.append('</tbody><tfoot><tr><th scope="row">pass rate</th><th></th>')
    out += [f"<th>{summary['functions'][name]['pass_rate']:.0%}</th>" for name in names]
    out.append("</tr></tfoot></table>")
    return out


def _controls(names: list[str]) -> list[str]:
    functions = "".join(f'<option value="{_e(n)}">{_e(n)}</option>' for n in names)
    verdicts = "".join(f'<option value="{v}">{v}</option>' for v in VERDICTS)
    return [
        '<div class="controls">',
        '<label>student <input id="f-student" type="search" placeholder="name"></label>',
        f'<label>function <select id="f-function"><option value="">any</option>{functions}'
        "</select></label>",
        f'<label>verdict <select id="f-verdict"><option value="">any</option>{verdicts}'
        "</select></label>",
        '<span id="f-count" class="muted" aria-live="polite"></span>',
        '<span class="muted">Click a column\'s name to sort by it.</span>',
        "</div>",
    ]


def _histogram(reports: list[Report]) -> list[str]:
    """The scores, in ten bins of the maximum: 0-9%, ..., 90-100% (a full score in the last)."""
    counts = [0] * 10
    for report in reports:
        if report["max_score"] > 0:
            counts[min(9, int(10 * report["score"] / report["max_score"]))] += 1
    tallest = max(counts) or 1
    out = ["<h2>Scores</h2>", '<div class="hist" role="img" aria-label="score histogram">']
    for k, count in enumerate(counts):
        label = f"{10 * k}–{10 * k + 9 if k < 9 else 100}%"
        out.append(
            f'<div class="bin" title="{label}: {count}" data-count="{count}">'
            f"<span>{count or ''}</span>"
            f'<span class="fill" style="height: {100 * count / tallest:.1f}%"></span>'
            f'<span class="lbl">{label}</span></div>'
        )
    out.append("</div>")
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
    reads without colour: P pass, F fail, E error, T timeout, M missing) with each
    function's points and whether it is hidden in its header, the pass rate under each
    function, and one cell with the reason for a row of errors alone (a submission that
    did not load); controls that filter the rows by student, function and verdict and
    sort them by any column (also from the query string, `?verdict=fail&sort=score`); a
    histogram of the scores; the pass rate, verdict counts and most common diagnoses
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
        *_controls(names),
        *_grid(checked, names, summary),
        *_histogram(checked),
        *_per_function(summary),
        *_mistakes(summary),
        "<h2>Feedback</h2>",
        '<p class="muted">Click a name or a cell of the grid to open that feedback.</p>',
    ]
    for i, report in enumerate(checked):
        page += _feedback(i, report, names)
    page.append("</body></html>")
    return "\n".join(page) + "\n"
