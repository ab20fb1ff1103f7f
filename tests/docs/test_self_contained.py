"""The clone is self-contained: nothing in it points to a file it does not hold.

The submission contract, the notes' formulas and the diagnoses are the project's own
documents (docs/contract.md, docs/formulas.md, docs/diagnoses.md); a reader of a clone or
of an installed package must never be sent to a folder that only existed where the
project was written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs._files import ROOT, markdown_files, tracked_files

# Spelled in pieces, so that this file does not match itself.
_OUTSIDE = re.compile(
    r"\b"
    + "shared"
    + r"/|\b(?:"
    + "|".join(("SUBMISSION", "FORMULAS", "MISTAKES", "FORMATS"))
    + r")\.md\b"
)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None


def test_no_file_points_outside_the_project() -> None:
    found = []
    for path in tracked_files():
        text = _text(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if _OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "points outside the project:\n" + "\n".join(found)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.MULTILINE)}


def _links(path: Path) -> list[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)
    return [a or b for a, b in _LINK.findall(text)]


@pytest.mark.parametrize(
    "page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)).replace("/", "-")
)
def test_every_relative_link_resolves_in_the_clone(page: Path) -> None:
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        if not linked.is_relative_to(ROOT) or not linked.exists():
            broken.append(f"{target}: no such file in the clone")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading `#{anchor}` in {linked.name}")
    assert not broken, f"{page.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_every_diagnosis_is_documented_with_its_evidence() -> None:
    from checks.findings import DIAGNOSES

    text = (ROOT / "docs" / "diagnoses.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## `([\w-]+)`\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    undocumented = sorted(set(DIAGNOSES) - set(sections))
    assert not undocumented, f"docs/diagnoses.md has no section for {undocumented}"
    no_evidence = sorted(i for i in DIAGNOSES if "**Evidence:**" not in sections[i])
    assert not no_evidence, f"docs/diagnoses.md gives no evidence for {no_evidence}"


def test_every_formula_and_erratum_is_in_docs_formulas() -> None:
    from backprop.catalog import ERRATA, FORMULAS

    text = (ROOT / "docs" / "formulas.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `?(\w+)`? \|.*$", text, re.M)}
    assert sorted(set(FORMULAS) - set(rows)) == []
    for eid, erratum in ERRATA.items():
        assert eid in rows, f"docs/formulas.md has no row for erratum {eid}"
        assert f"`{erratum.formula}`" in rows[eid]
    for fid, formula in FORMULAS.items():
        for erratum in formula.errata:
            assert erratum.id in rows[fid], f"docs/formulas.md: `{fid}` does not name {erratum.id}"
