"""Shared fixtures and the Hypothesis profiles of the suite.

Profiles: ``dev`` (the default, quick), ``ci`` (more examples, derandomized, so a run
is reproducible) and ``thorough`` (for a nightly run). Choose one with the environment
variable ``HYPOTHESIS_PROFILE`` or pytest's ``--hypothesis-profile``; under CI (``CI``
set) the default is ``ci``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator: never numpy's global seed."""
    return np.random.default_rng(20261128)


_COUNTEREXAMPLES: dict[str, str] = {}


@pytest.fixture(scope="session")
def counterexamples() -> dict[str, str]:
    """Minimal counterexamples recorded by the errata suite, printed in the summary."""
    return _COUNTEREXAMPLES


def pytest_sessionfinish(session: pytest.Session) -> None:
    # a pytest-xdist worker hands its counterexamples to the controller, which prints them
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["counterexamples"] = dict(_COUNTEREXAMPLES)


class _Workers:
    """The controller's side under pytest-xdist: the workers' counterexamples, gathered."""

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        _COUNTEREXAMPLES.update(getattr(node, "workeroutput", {}).get("counterexamples", {}))


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_Workers(), "backprop-check-workers")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _COUNTEREXAMPLES:
        terminalreporter.section("minimal counterexamples of the notes' errata")
        for eid, text in sorted(_COUNTEREXAMPLES.items()):
            terminalreporter.line(f"{eid}: {text}")
