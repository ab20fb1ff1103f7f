"""Hypothesis strategies of `Course` values and of points in a course's conventions."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from backprop.catalog import Point
from backprop.course import CHOICES, Course
from backprop.course_reference import CourseReference

#: The losses each output admits (`Course` refuses the other combinations).
LOSSES_OF = {
    "relu-softmax": ("notes", "categorical", "mse"),
    "softmax": ("notes", "categorical", "mse"),
    "sigmoid": ("binary", "mse"),
}


@st.composite
def courses(draw: st.DrawFn, **fixed: Any) -> Course:
    """Any valid `Course`; keyword arguments fix some of its keys."""
    values = {key: draw(st.sampled_from(allowed)) for key, allowed in CHOICES.items()}
    values.update({k: v for k, v in fixed.items() if k in CHOICES})
    if "loss" not in fixed:
        values["loss"] = draw(st.sampled_from(LOSSES_OF[values["output"]]))
    values["l2"] = fixed.get("l2", draw(st.sampled_from([0.0, 0.0, 0.3])))
    values["l2_biases"] = fixed.get("l2_biases", draw(st.booleans()))
    return Course(**values)


def in_course(course: Course, point: Point) -> tuple[Any, Any, Any]:
    """`point` (the notes' conventions) as `(params, X, Y)` in `course`'s."""
    return CourseReference(course).from_canonical(point.params, point.X, point.Y)
