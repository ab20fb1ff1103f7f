"""A class of generated submissions: correct, buggy (mutants of the example solution), hostile.

Used by the tests of the command and by `bench/class_batch.py`.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Final

__all__ = ["HOSTILE", "MUTANTS", "SOLUTION", "mutant", "write_class"]

SOLUTION: Final = (Path(__file__).parents[2] / "examples" / "solution.py").read_text(
    encoding="utf-8"
)

# Typical mistakes, each a replacement in the solution's source: (old, new).
MUTANTS: Final[dict[str, tuple[str, str]]] = {
    "relu-mask-at-zero": ("(z > 0).astype(float)", "(z >= 0).astype(float)"),
    "softmax-overflow": ("np.exp(a - a.max(axis=0, keepdims=True))", "np.exp(a)"),
    "softmax-wrong-axis": (
        "e / e.sum(axis=0, keepdims=True)",
        "e / e.sum(axis=1, keepdims=True)",
    ),
    "jacobian-diagonal": (
        "np.diag(y_hat) - np.outer(y_hat, y_hat)",
        "np.diag(y_hat - y_hat**2)",
    ),
    "dyhat-no-mean": (
        "return ((1 - y) / (1 - y_hat) - y / y_hat) / m",
        "return (1 - y) / (1 - y_hat) - y / y_hat",
    ),
    "da-sign": ("return W_next.T @ dL_dz_next", "return -(W_next.T @ dL_dz_next)"),
    "dW-factor-m": ("return dL_dz @ a_prev.T", "return dL_dz @ a_prev.T * dL_dz.shape[1]"),
    "db-shape": ("np.sum(dL_dz, axis=1, keepdims=True)", "np.sum(dL_dz, axis=1)"),
    "relu-in-place": ("return np.maximum(z, 0.0)", "np.maximum(z, 0.0, out=z)\n    return z"),
    "loss-no-mean": (
        "np.sum((1 - y) * np.log(1 - y_hat))) / m",
        "np.sum((1 - y) * np.log(1 - y_hat)))",
    ),
}

HOSTILE: Final[dict[str, str]] = {
    "infinite-loop": "import numpy as np\n\n\ndef relu(z):\n    while True:\n        pass\n\n\n"
    "def relu_mask(z):\n    return (z > 0).astype(float)\n",
    "memory-bomb": "import numpy as np\n\n\ndef relu(z):\n    hoard = []\n    while True:\n"
    "        hoard.append(bytearray(1 << 24))\n\n\ndef relu_mask(z):\n"
    "    return np.ones((1 << 20, 1 << 12))\n",
    "output-flood": "import os\nimport sys\n\nprint('x' * (1 << 22))\n"
    "print('\\x1b[2J' * 1000, file=sys.stderr)\n\n\ndef relu(z):\n"
    "    os.write(1, b'z' * (1 << 22))\n    return z * (z > 0)\n",
    "exit-at-import": "import os\n\nos._exit(0)\n\n\ndef relu(z):\n    return z * (z > 0)\n",
    "syntax-error": "def relu(z)\n    return z * (z > 0)\n",
}


def mutant(*names: str) -> str:
    """The solution with the mistakes `names` (keys of `MUTANTS`)."""
    source = SOLUTION
    for name in names:
        old, new = MUTANTS[name]
        assert old in source, name
        source = source.replace(old, new)
    return source


def write_class(
    folder: Path, *, correct: int, buggy: int, hostile: int, seed: int = 0
) -> list[str]:
    """Write a class into `folder`, one file or one student folder each; return their keys.

    Buggy submissions carry 1 to 3 mistakes drawn from `seed`; hostile ones cycle through
    `HOSTILE`. Every other student submits a folder (as GitHub Classroom or an LMS export
    would), the rest a file.
    """
    draw = random.Random(seed)
    sources = [SOLUTION] * correct
    sources += [mutant(*draw.sample(sorted(MUTANTS), draw.randint(1, 3))) for _ in range(buggy)]
    kinds = sorted(HOSTILE)
    sources += [HOSTILE[kinds[i % len(kinds)]] for i in range(hostile)]
    draw.shuffle(sources)
    folder.mkdir(parents=True, exist_ok=True)
    keys = []
    for i, source in enumerate(sources):
        if i % 2:
            key = f"student{i:03d}"
            (folder / key).mkdir(parents=True)
            (folder / key / "backprop.py").write_text(source, encoding="utf-8")
        else:
            key = f"student{i:03d}.py"
            (folder / key).write_text(source, encoding="utf-8")
        keys.append(key)
    return keys
