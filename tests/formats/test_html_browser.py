"""The HTML class report in a real headless browser: it renders, and its script runs.

Needs Chromium from the system's packages (`apt-get install chromium` on Debian); where
no Chromium binary is found, these tests are skipped and say so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from checks.formats import to_html
from tests.formats._png import read_png
from tests.formats._reports import CLASS, fresh

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_WIDTH, _HEIGHT = 1200, 800
# The backgrounds of the verdicts in the grid (`_html._CSS`): pass, fail, error, timeout,
# missing. Flat fills, so the screenshot holds them exactly.
_VERDICT_COLOURS = {0xDAFBE1, 0xFFCECB, 0xFFD8B5, 0xEDDEFF, 0xEAEEF2}
# Sets an attribute on <body> if it ever runs: it must stay text.
_PAYLOAD = (
    "<script>document.body.setAttribute('data-pwned','1')</script>"
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
)


def _chromium() -> str:
    for name in _NAMES:
        if path := shutil.which(name):
            return path
    pytest.skip(
        f"no Chromium binary on PATH (looked for {', '.join(_NAMES)}): the HTML report is "
        "not tested in a browser here; `apt-get install -y chromium` enables this test"
    )


def _run(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        *arguments,
    ]
    return subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
    )


def test_the_class_report_renders_its_grid_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "class.html"
    page.write_text(to_html(CLASS), encoding="utf-8")
    screenshot = tmp_path / "class.png"
    _run(tmp_path, f"--screenshot={screenshot}", f"--window-size={_WIDTH},{_HEIGHT}", page.as_uri())

    assert screenshot.is_file(), "Chromium wrote no screenshot"
    pixels = read_png(screenshot.read_bytes())
    assert pixels.shape[:2] == (_HEIGHT, _WIDTH)
    rgb = pixels[..., :3].astype(np.uint32)
    colours = rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]
    distinct = set(np.unique(colours).tolist())
    # Anti-aliased text alone gives hundreds of colours; a blank or unstyled page, a few.
    assert len(distinct) > 100, f"only {len(distinct)} colours: a blank page?"
    assert distinct >= _VERDICT_COLOURS, "the grid's verdict colours are not on screen"
    inked = np.mean(colours != 0xFFFFFF)
    assert 0.05 < inked < 0.6, f"{inked:.0%} of the page is not white"


def test_a_grid_link_opens_that_feedback_and_no_smuggled_script_runs(tmp_path: Path) -> None:
    reports: list[Any] = fresh()
    reports[1]["functions"]["dL_daL"]["message"] = _PAYLOAD
    reports[1]["submission"] = _PAYLOAD
    page = tmp_path / "class.html"
    page.write_text(to_html(reports), encoding="utf-8")
    dom = _run(tmp_path, "--dump-dom", page.as_uri() + "#s1-f2").stdout

    # The page's own script ran (the Content-Security-Policy let it, by its hash) ...
    assert '<details class="student" id="s1" open="">' in dom
    assert '<details class="student" id="s0">' in dom
    # ... and the submission's did not: its text is still text.
    assert 'data-pwned="1"' not in dom
    assert "&lt;script&gt;document.body.setAttribute" in dom


def _shown_rows(dom: str) -> list[str]:
    """The grid's rows a reader sees, by name, in order (hidden rows left out)."""
    body = dom[dom.index('<table class="grid">') :]
    body = body[body.index("<tbody>") : body.index("</tbody>")]
    return re.findall(r'<tr data-name="([^"]*)"(?![^>]*\bhidden\b)', body)


def test_filtering_and_sorting_run_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "class.html"
    page.write_text(to_html(CLASS, title="Homework 3"), encoding="utf-8")
    everyone = _shown_rows(_run(tmp_path, "--dump-dom", page.as_uri()).stdout)
    assert len(everyone) == 5 and everyone[4] == "dave.py"  # [3] is MALLORY's hostile name
    assert everyone[:3] == [r["submission"] for r in CLASS[:3]]

    failing_dW = _run(tmp_path, "--dump-dom", page.as_uri() + "?function=dL_dW&verdict=fail")
    assert _shown_rows(failing_dW.stdout) == ["bob/solution.py", "carol.ipynb"]
    assert "2 of 5 shown" in failing_dW.stdout

    any_timeout = _run(tmp_path, "--dump-dom", page.as_uri() + "?verdict=timeout&student=CAR")
    assert _shown_rows(any_timeout.stdout) == ["carol.ipynb"]

    by_score = _run(tmp_path, "--dump-dom", page.as_uri() + "?sort=score&order=descending")
    assert _shown_rows(by_score.stdout)[:3] == ["alice.py", everyone[3], "carol.ipynb"]
    assert 'data-sort="score" aria-sort="descending"' in by_score.stdout
