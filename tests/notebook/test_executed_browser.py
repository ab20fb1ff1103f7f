"""What the executed notebook displayed, in a real headless browser, as Jupyter shows it.

Needs Chromium (`apt-get install chromium`) and the `notebook` extra; without either,
these tests are skipped and say which is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tests.formats._png import read_png
from tests.formats.test_html_browser import _run
from tests.notebook._notebook import html_shown

_WIDTH, _HEIGHT = 1000, 1400
# The verdict badges' backgrounds (the class report's): pass, fail, error, missing.
_BADGES = {0xDAFBE1, 0xFFCECB, 0xFFD8B5, 0xEAEEF2}


def _page(tmp_path: Path, notebook: dict[str, Any]) -> Path:
    """The check cells' HTML outputs, one after the other, in a page as a notebook has them."""
    outputs = "\n".join(
        f'<div class="output_html">{html}</div>' for _, html in html_shown(notebook)
    )
    page = tmp_path / "notebook.html"
    page.write_text(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head><body>{outputs}'
        "</body></html>",
        encoding="utf-8",
    )
    return page


def test_the_checks_render_coloured_and_collapsed(tmp_path: Path, executed: dict[str, Any]) -> None:
    page = _page(tmp_path, executed)
    screenshot = tmp_path / "notebook.png"
    _run(tmp_path, f"--screenshot={screenshot}", f"--window-size={_WIDTH},{_HEIGHT}", page.as_uri())
    pixels = read_png(screenshot.read_bytes())
    rgb = pixels[..., :3].astype(np.uint32)
    colours = set(np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]).tolist())
    assert colours >= _BADGES, "the verdicts' colours are not on screen"
    assert len(colours) > 100, f"only {len(colours)} colours: a blank page?"


def test_no_script_from_a_students_exception_runs(tmp_path: Path, executed: dict[str, Any]) -> None:
    dom = _run(tmp_path, "--dump-dom", _page(tmp_path, executed).as_uri()).stdout
    assert 'data-pwned="1"' not in dom
    assert "&lt;script&gt;document.body.setAttribute" in dom
    assert dom.count('<details class="bc-detail">') >= 2  # rendered, and closed
    assert '<details class="bc-detail" open' not in dom
