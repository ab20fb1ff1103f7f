"""Check your work in the notebook where you write it, one function at a time.

```python
from checks import notebook as bc

bc.check(dL_dW)             # one function: its verdict, as the grader would give it
bc.check_all(globals())     # every function of the assignment defined so far
```

Each call returns a result (`Result`, or `Results` for all) that Jupyter shows as
HTML: the verdict and points, then, collapsed, the expected and the obtained values on
the smallest failing case, the diagnoses of the mistake and a snippet to reproduce it.
A wrong, raising or missing function is a result (`.passed` is False), never an
exception. The judgement is the grader's own (`checks.grader.judge`), on the same test
points; only the place differs: your functions run in your kernel, not in a sandbox.

`configure("grading.toml")` reads the configuration your course hands out (loss, names,
points); `configure(loss="categorical")` sets keys directly.

When the notebook is graded (`backprop-check notebook.ipynb`), the line that imports
this module gives a stand-in whose checks do nothing (`checks.grader.sandbox._source`),
so the same notebook is submitted unchanged.
"""

from checks.grader.config import Config, ConfigError
from checks.notebook._caller import InProcessCaller
from checks.notebook._check import check, check_all, configuration, configure
from checks.notebook._result import Result, Results

__all__ = [
    "Config",
    "ConfigError",
    "InProcessCaller",
    "Result",
    "Results",
    "check",
    "check_all",
    "configuration",
    "configure",
]
