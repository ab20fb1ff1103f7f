"""One execution of the student's notebook, shared by the tests that read its outputs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.notebook._notebook import execute, student_at_work


@pytest.fixture(scope="session")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return execute(student_at_work(), tmp_path_factory.mktemp("kernel"))
