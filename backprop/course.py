"""One description of a course's network and its conventions: `Course`.

The notes' network is one course among many: other courses lay examples out as rows,
use sigmoid or tanh hidden layers, no ReLU before the softmax, integer labels, a sum
instead of a mean, flat biases, L2 regularisation. A `Course` names those choices, and
`backprop.course_reference.CourseReference` derives from it the reference of every
contract function under that course's conventions. ``Course()`` is the notes' course.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["BIASES", "CHOICES", "PRESETS", "Course", "CourseError"]


class CourseError(ValueError):
    """A course description that cannot be used; the message names the key."""


#: The accepted values of each key, the default (the notes') first.
CHOICES: Mapping[str, tuple[str, ...]] = {
    "layout": ("columns", "rows"),
    "hidden": ("relu", "leaky_relu", "sigmoid", "tanh"),
    "output": ("relu-softmax", "softmax", "sigmoid"),
    "loss": ("notes", "categorical", "binary", "mse"),
    "reduction": ("mean", "sum"),
    "labels": ("one-hot", "integers"),
    "bias": ("(n, 1)", "(1, n)", "(n,)"),
}

#: Other spellings of a bias shape accepted on input.
BIASES: Mapping[str, str] = {"flat": "(n,)", "(n,1)": "(n, 1)", "(1,n)": "(1, n)"}

_SOFTMAX_LOSSES = ("notes", "categorical")


@dataclass(frozen=True)
class Course:
    """The network of an assignment and its conventions; ``Course()`` is the notes'.

    Parameters
    ----------
    layout : {"columns", "rows"}
        Examples as columns (`X` `(n_0, m)`, `W_l` `(n_l, n_{l-1})`, `z = W a + b`) or as
        rows (`X` `(m, n_0)`, `W_l` `(n_{l-1}, n_l)`, `z = a W + b`).
    hidden : {"relu", "leaky_relu", "sigmoid", "tanh"}
        The activation of layers `1..L-1`.
    output : {"relu-softmax", "softmax", "sigmoid"}
        What turns `z_L` into `ŷ`: the notes' ReLU then softmax, a softmax of the logits,
        or an elementwise sigmoid.
    loss : {"notes", "categorical", "binary", "mse"}
        The notes' binary cross-entropy of each softmax output, the categorical
        cross-entropy, the binary cross-entropy of sigmoid outputs, or half the squared
        error `½ Σ (ŷ - y)²`.
    reduction : {"mean", "sum"}
        Over examples: the loss is divided by `m`, or not.
    labels : {"one-hot", "integers"}
        `y` shaped like `ŷ`, or one class index per example, shape `(m,)`.
    bias : {"(n, 1)", "(1, n)", "(n,)"}
        The shape of each `b_l` (``"flat"`` is accepted for ``"(n,)"``).
    l2 : float
        Weight decay: `(l2 / 2) Σ_l ‖W_l‖²` is added to the loss of `backward` (not
        divided by `m`), so that its gradient is `l2 · W_l`.
    l2_biases : bool
        Whether the biases are decayed too.
    layers : tuple of int, optional
        A fixed architecture `(n_0, ..., n_L)`; test points then all use it.
    leaky_slope : float
        The slope of ``leaky_relu`` below 0.

    Notes
    -----
    Invalid combinations are refused here, once, rather than producing a reference
    that no submission could match: a cross-entropy of softmax outputs (``"notes"``,
    ``"categorical"``) needs a softmax output, ``"binary"`` a sigmoid one.
    """

    layout: str = "columns"
    hidden: str = "relu"
    output: str = "relu-softmax"
    loss: str = "notes"
    reduction: str = "mean"
    labels: str = "one-hot"
    bias: str = "(n, 1)"
    l2: float = 0.0
    l2_biases: bool = False
    layers: tuple[int, ...] | None = None
    leaky_slope: float = 0.01

    def __post_init__(self) -> None:
        object.__setattr__(self, "bias", BIASES.get(self.bias, self.bias))
        for key, allowed in CHOICES.items():
            value = getattr(self, key)
            if value not in allowed:
                known = ", ".join(f'"{a}"' for a in allowed)
                raise CourseError(f"`{key}` must be one of {known}, got {value!r}")
        if self.loss in _SOFTMAX_LOSSES and self.output == "sigmoid":
            raise CourseError(
                f'`loss` = "{self.loss}" is a cross-entropy of softmax outputs: it needs '
                '`output` = "softmax" or "relu-softmax", got "sigmoid"'
            )
        if self.loss == "binary" and self.output != "sigmoid":
            raise CourseError(
                '`loss` = "binary" is the cross-entropy of sigmoid outputs: it needs '
                f'`output` = "sigmoid", got "{self.output}"'
            )
        for key in ("l2", "leaky_slope"):
            value = getattr(self, key)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value >= 0:
                raise CourseError(f"`{key}` must be a number ≥ 0, got {value!r}")
            object.__setattr__(self, key, float(value))
        if not isinstance(self.l2_biases, bool):
            raise CourseError(f"`l2_biases` must be true or false, got {self.l2_biases!r}")
        if self.layers is not None:
            layers = self.layers
            if (
                not isinstance(layers, list | tuple)
                or len(layers) < 2
                or not all(isinstance(n, int) and not isinstance(n, bool) for n in layers)
                or min(layers) < 1
            ):
                raise CourseError(
                    "`layers` must be a list of at least 2 positive integers (n_0, ..., n_L), "
                    f"got {layers!r}"
                )
            if layers[-1] < 2:
                raise CourseError(
                    f"`layers` ends with {layers[-1]} output(s): at least 2 are needed (a "
                    "softmax of one class is 1; one sigmoid output is not supported yet)"
                )
            object.__setattr__(self, "layers", tuple(layers))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "network") -> Course:
        """A course from a configuration table; unknown keys name the known ones."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise CourseError(
                f"{source}: unknown key `{unknown[0]}` (known: {', '.join(sorted(known))})"
            )
        try:
            return cls(**data)
        except CourseError as exc:
            raise CourseError(f"{source}: {exc}") from None

    @property
    def is_notes(self) -> bool:
        """Whether this is the notes' course (up to a fixed architecture)."""
        from dataclasses import replace

        return replace(self, layers=None) == Course()

    @property
    def has_last_relu(self) -> bool:
        """Whether ReLU is applied to `z_L` before the output (the notes' convention)."""
        return self.output == "relu-softmax"

    def bias_shape(self, n: int) -> tuple[int, ...]:
        """The shape of a bias of `n` units under this course."""
        return {"(n, 1)": (n, 1), "(1, n)": (1, n), "(n,)": (n,)}[self.bias]


#: The documented presets, by name: the notes; a CS231n-style row-major softmax
#: classifier (flat biases, integer labels, categorical cross-entropy, L2 on the
#: weights); a sigmoid network with half squared error, summed over examples.
PRESETS: Mapping[str, Course] = {
    "notes": Course(),
    "cs231n": Course(
        layout="rows",
        output="softmax",
        loss="categorical",
        labels="integers",
        bias="(n,)",
        l2=0.1,
    ),
    "sigmoid-mse": Course(hidden="sigmoid", output="sigmoid", loss="mse", reduction="sum"),
}
