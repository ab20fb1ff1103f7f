"""Run one submission in a separate, limited process and bring back plain data.

`_source` reads the submission (a `.py` file, or a notebook's code cells); `_procs`
starts and ends processes; `_wire` is the only format that crosses the boundary (JSON
headers and raw `.npy` arrays, never a pickle); `_worker` is the script that runs inside,
importing nothing of the checker; `_sandbox` ties them together (`Sandbox`).
"""

from checks.grader.sandbox._procs import remove_cgroups
from checks.grader.sandbox._sandbox import (
    HOW_TO_ISOLATE,
    Isolation,
    IsolationUnavailable,
    Loaded,
    LoadError,
    Outcome,
    Sandbox,
    SandboxError,
    probe_isolation,
)
from checks.grader.sandbox._source import SKIP_TAGS, read_source

__all__ = [
    "HOW_TO_ISOLATE",
    "SKIP_TAGS",
    "Isolation",
    "IsolationUnavailable",
    "LoadError",
    "Loaded",
    "Outcome",
    "Sandbox",
    "SandboxError",
    "probe_isolation",
    "read_source",
    "remove_cgroups",
]
