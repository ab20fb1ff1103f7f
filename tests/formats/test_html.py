"""The HTML class report, parsed with `html.parser`: grid, summaries, feedback, safety."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest

from checks.formats import to_html
from checks.formats._escape import printable
from tests.formats._dom import Node, parse
from tests.formats._reports import BOB, BROKEN, CLASS, FUNCTIONS, HOSTILE, MALLORY, fresh


@pytest.fixture(scope="module")
def page() -> Node:
    return parse(to_html(CLASS))


def _grid_rows(page: Node) -> list[list[Node]]:
    body = page.find("table", cls="grid").find("tbody")
    return [[c for c in row.children if isinstance(c, Node)] for row in body.iter("tr")]


def test_grid_has_a_row_per_student_and_a_column_per_function(page: Node) -> None:
    grid = page.find("table", cls="grid")
    header = [th.find("button").text for th in grid.find("thead").iter("th")]
    assert header == ["submission", "score", *FUNCTIONS]
    rows = _grid_rows(page)
    assert [row[0].text for row in rows] == [printable(r["submission"]) for r in CLASS]
    assert [row[1].text for row in rows][:3] == ["7\xa0/\xa07", "2.5\xa0/\xa07", "3\xa0/\xa07"]


def test_each_cell_has_a_verdict_colour_class_and_letter(page: Node) -> None:
    rows = _grid_rows(page)
    letters = ["".join(cell.text for cell in row[2:]) for row in rows]
    assert letters[:4] == ["PPPPPP", "PPFFFE", "PTPFPM", "FEPPPP"]
    bob = rows[1][2:]
    assert [sorted(cell.classes) for cell in bob] == [
        ["pass", "v"], ["pass", "v"], ["fail", "v"], ["fail", "v"], ["fail", "v"], ["error", "v"],
    ]  # fmt: skip
    assert bob[3].attrs["title"] == "dL_dW: fail, 0 / 1 (factor-m, mutates-input)"
    (ungraded,) = rows[4][2:]
    assert ungraded.text == "grading failed" and ungraded.attrs["colspan"] == "6"


def test_pass_rate_under_each_function(page: Node) -> None:
    footer = [th.text for th in page.find("table", cls="grid").find("tfoot").iter("th")]
    assert footer == ["pass rate", "", "75%", "50%", "75%", "50%", "75%", "50%"]


def test_per_function_and_most_common_mistakes(page: Node) -> None:
    tables = list(page.iter("table"))
    per_function = {
        row.find("th").text: [td.text for td in row.iter("td")]
        for row in tables[1].find("tbody").iter("tr")
    }
    assert per_function["dL_dW"][0] == "2\xa0/\xa04"
    assert per_function["dL_dW"][1].strip() == "50%"
    assert per_function["dL_dW"][-1] == "factor-m\xa0(2), mutates-input\xa0(1)"
    assert per_function["softmax"][2:6] == ["", "1", "1", ""]  # fail, error, timeout, missing
    mistakes = [
        [c.text for c in row.children if isinstance(c, Node)] for row in tables[2].iter("tr")
    ]
    assert mistakes[1][:2] == ["factor-m", "2"] and "factor m or 1/m" in mistakes[1][2]


def test_every_student_feedback_is_one_click_from_the_grid(page: Node) -> None:
    feedback = [d for d in page.iter("details") if "student" in d.classes]
    assert [d.attrs["id"] for d in feedback] == [f"s{i}" for i in range(len(CLASS))]
    assert all("open" not in d.attrs for d in feedback)  # collapsed until asked for
    ids = {node.attrs["id"] for node in page.iter() if "id" in node.attrs}
    links = [a.attrs["href"] for a in page.find("table", cls="grid").iter("a")]
    assert len(links) == len(CLASS) + 4 * len(FUNCTIONS)  # names, and cells of graded rows
    assert all(href.startswith("#") and href[1:] in ids for href in links)

    bob = feedback[1]
    assert bob.find("summary").text == "bob/solution.py 2.5\xa0/\xa07"
    messages = [pre.text for pre in bob.iter("pre")]
    assert BOB["functions"]["dL_daL"]["message"] in messages
    assert BOB["output"] in messages  # what the submission printed, in its own <details>
    assert bob.find("div", id="s1-f4").text.startswith("F\xa0faildL_db (hidden)")
    assert "grading failed" in feedback[4].text.lower()


def test_hostile_text_is_escaped_everywhere() -> None:
    document = to_html([MALLORY])
    page = parse(document)  # a stray </details> or </pre> in the text would unbalance it
    assert [s.text for s in page.iter("script")] == [page.find("script").text]  # ours alone
    assert not list(page.iter("img"))
    assert not [a for n in page.iter() for a in n.attrs if a.startswith("on")]
    assert '<script>alert("pwned")</script>' not in document
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in document
    relu = page.find("details", id="s0").find("pre")
    assert relu.text == printable(HOSTILE).strip("\n")  # shown as written, made inert
    assert "\x1b" not in document and "\x00" not in document
    document.encode("utf-8")


def test_the_page_is_self_contained_and_runs_only_its_own_script(page: Node) -> None:
    for node in page.iter():
        assert "src" not in node.attrs, node
        assert node.attrs.get("href", "#").startswith("#"), node
    assert not list(page.iter("link"))
    (style,) = list(page.iter("style"))
    assert "url(" not in style.text and "@import" not in style.text
    policy = page.find("meta", **{"http-equiv": "Content-Security-Policy"}).attrs["content"]
    assert "default-src 'none'" in policy
    (script,) = list(page.iter("script"))
    digest = base64.b64encode(hashlib.sha256(script.text.encode()).digest()).decode()
    assert re.search(rf"script-src 'sha256-{re.escape(digest)}'(;|$)", policy)


def test_an_empty_class_still_makes_a_page() -> None:
    page = parse(to_html([], title="Week 3 <empty>"))
    assert page.find("h1").text == "Week 3 <empty>"
    assert _grid_rows(page) == []


def test_a_class_where_nothing_was_graded_still_makes_a_page() -> None:
    page = parse(to_html([BROKEN]))
    (row,) = _grid_rows(page)
    assert [cell.text for cell in row] == ["dave.py", "0\xa0/\xa07"]
    assert "grading failed" in page.find("details", id="s0").text.lower()
    with pytest.raises(TypeError, match="`title` must be str, got int"):
        to_html([BROKEN], title=3)  # type: ignore[arg-type]


def test_the_header_gives_each_functions_points_and_whether_it_is_hidden(page: Node) -> None:
    heads = list(page.find("table", cls="grid").find("thead").iter("th"))[2:]
    labels = {th.find("button").text: th.find("span", cls="pts").text for th in heads}
    assert labels["relu"] == "1 pt"
    assert labels["backward"] == "2 pt"
    assert labels["dL_db"] == "1 pt · hidden"  # hidden for bob


def test_a_row_of_errors_with_one_cause_shows_the_cause_once() -> None:
    reports: list[Any] = fresh()
    message = "the submission did not load: SyntaxError: invalid syntax (hw.py, line 3)"
    for result in reports[2]["functions"].values():
        result.update(verdict="error", points=0.0, diagnosis=[], message=message)
    page = parse(to_html(reports))
    (cell,) = _grid_rows(page)[2][2:]
    assert cell.attrs["colspan"] == str(len(FUNCTIONS))
    assert "error" in cell.classes
    assert cell.text == "E\xa0every function: " + message
    # Errors of different causes keep their own cells.
    reports[2]["functions"]["relu"]["message"] = "ZeroDivisionError"
    assert len(_grid_rows(parse(to_html(reports)))[2][2:]) == len(FUNCTIONS)


def test_the_histogram_counts_scores_in_tenths(page: Node) -> None:
    hist = page.find("div", cls="hist")
    bins = [int(b.attrs["data-count"]) for b in hist.iter("div") if "bin" in b.classes]
    # 7/7, 2.5/7 (35%), 3/7 (42%), 5/7 (71%: MALLORY), 0/7 (the broken one)
    expected = [0] * 10
    for report in CLASS:
        expected[min(9, int(10 * report["score"] / report["max_score"]))] += 1
    assert bins == expected and sum(bins) == len(CLASS)


def test_the_filters_offer_every_function_and_verdict(page: Node) -> None:
    options = [o.attrs["value"] for o in page.find("select", id="f-function").iter("option")]
    assert options == ["", *FUNCTIONS]
    verdicts = [o.attrs["value"] for o in page.find("select", id="f-verdict").iter("option")]
    assert verdicts == ["", "pass", "fail", "error", "timeout", "missing"]
    rows = page.find("table", cls="grid").find("tbody").iter("tr")
    assert next(rows).attrs["data-verdicts"] == " ".join(f"{f}=pass" for f in FUNCTIONS)
