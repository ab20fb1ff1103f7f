"""Run one submission in a separate, limited process and bring back plain data.

`_source` reads the submission (a `.py` file, or a notebook's code cells); `_procs`
starts and ends processes; `_wire` is the only format that crosses the boundary (JSON
headers and raw `.npy` arrays, never a pickle); `_worker` is the script that runs inside,
importing nothing of the checker; `_sandbox` ties them together (`Sandbox`).
"""

from checks.grader.sandbox._sandbox import Loaded, LoadError, Outcome, Sandbox, SandboxError
from checks.grader.sandbox._source import SKIP_TAGS, read_source

__all__ = [
    "SKIP_TAGS",
    "LoadError",
    "Loaded",
    "Outcome",
    "Sandbox",
    "SandboxError",
    "read_source",
]
