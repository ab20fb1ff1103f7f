"""The notes' course reproduces the reference; every course's description is validated.

`CourseReference(Course())` must give the results of `backprop.formulas` and
`backprop.network` on every contract function, at test points of depths 1 to 4 under
both of the notes' losses. They are the same operations: agreement is to rounding,
`rtol = 1e-12` (a few hundred ulps; a wrong formula changes an entry by O(1)).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from backprop import CONTRACT
from backprop.catalog import FORMULAS, Point
from backprop.course import PRESETS, Course, CourseError
from backprop.course_reference import CourseReference
from checks.strategies import test_points

RTOL = 1e-12


@given(test_points(max_layers=4))
def test_notes_course_reproduces_the_reference(point: Point) -> None:
    ref = CourseReference(Course(loss=point.kind))
    for fid in CONTRACT:
        entry = FORMULAS[fid]
        for args in entry.sample(point):
            expected = entry.reference(args, point.kind)
            got = getattr(ref, fid)(**args)
            if fid == "backward":
                for (eW, eb), (gW, gb) in zip(expected, got, strict=True):
                    np.testing.assert_allclose(gW, eW, rtol=RTOL, atol=RTOL * np.abs(eW).max())
                    assert gb.shape == eb.shape
                    np.testing.assert_allclose(gb, eb, rtol=RTOL, atol=RTOL * np.abs(eb).max())
            else:
                scale = float(np.max(np.abs(expected), initial=1e-300))
                assert np.shape(got) == np.shape(expected), fid
                np.testing.assert_allclose(got, expected, rtol=RTOL, atol=RTOL * scale, err_msg=fid)


def test_notes_loss_of_the_network_matches() -> None:
    import backprop

    rng = np.random.default_rng(3)
    params = [
        (rng.normal(size=(4, 3)), rng.normal(size=(4, 1))),
        (rng.normal(size=(3, 4)), rng.normal(size=(3, 1))),
    ]
    X = rng.normal(size=(3, 5))
    Y = np.eye(3)[:, rng.integers(0, 3, 5)]
    for kind in ("notes", "categorical"):
        got = CourseReference(Course(loss=kind)).network_loss(params, X, Y)
        np.testing.assert_allclose(got, backprop.network_loss(params, X, Y, kind=kind), rtol=RTOL)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"layout": "diagonal"}, "layout"),
        ({"hidden": "gelu"}, "hidden"),
        ({"output": "sigmoid"}, "loss"),  # the notes' loss needs a softmax
        ({"loss": "binary"}, "loss"),  # binary needs a sigmoid output
        ({"reduction": "median"}, "reduction"),
        ({"labels": "strings"}, "labels"),
        ({"bias": "(n, n)"}, "bias"),
        ({"l2": -1.0}, "l2"),
        ({"l2": "big"}, "l2"),
        ({"l2_biases": 1}, "l2_biases"),
        ({"layers": [4]}, "layers"),
        ({"layers": [4, 0, 3]}, "layers"),
        ({"layers": [4, 1]}, "layers"),
        ({"width": 3}, "width"),
    ],
)
def test_bad_course_names_the_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(CourseError, match=f"`{key}`"):
        Course.from_mapping(data)


def test_flat_bias_spelling_and_presets() -> None:
    assert Course(bias="flat").bias == "(n,)"
    assert Course.from_mapping({}) == Course() == PRESETS["notes"]
    assert Course().is_notes and Course(layers=(3, 4, 2)).is_notes
    assert not PRESETS["cs231n"].is_notes


def test_conversions_name_the_argument() -> None:
    ref = CourseReference(PRESETS["cs231n"])
    params = [(np.zeros((3, 4)), np.zeros(4)), (np.zeros((4, 2)), np.zeros(2))]
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match="`Y` must be 5 integer class indices"):
        ref.backward(params, X, np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"class indices in 0\.\.1"):
        ref.backward(params, X, np.array([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match=r"`b_2` must have shape \(2,\)"):
        ref.backward([params[0], (params[1][0], np.zeros((1, 2)))], X, np.zeros(5, int))
    with pytest.raises(ValueError, match=r"`X` must have shape \(m, n_0\) with n_0 = 3"):
        ref.forward(params, np.zeros((3, 5)))
