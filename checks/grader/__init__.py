"""Grade a student's submission: run it in a sandbox, judge what it returns.

`Sandbox` runs one submission (a `.py` file or a notebook) in a separate, limited
process and brings back plain data; verdicts are computed in the checker's process.
"""

from checks.grader._sandbox import Loaded, LoadError, Outcome, Sandbox, SandboxError
from checks.grader._source import SKIP_TAGS

__all__ = ["SKIP_TAGS", "LoadError", "Loaded", "Outcome", "Sandbox", "SandboxError"]
