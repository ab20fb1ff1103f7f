"""`fingerprint`: the shape of a difference, in the vocabulary the grader's diagnoses share."""

from __future__ import annotations

import numpy as np
import pytest

from checks import fingerprint
from checks.findings import DIAGNOSES

R = np.array([[1.0, -2.0, 0.0], [0.5, 3.0, -1.5]])
SQUARE = np.array([[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize(
    ("actual", "expected", "ids", "detail"),
    [
        (R, R, [], None),
        (-R, R, ["sign"], "the negative"),
        (4 * R, R, ["factor-m"], "m = 4 times"),
        (R / 4, R, ["factor-m"], "1/m = 1/4 times"),
        (-4 * R, R, ["factor-m", "sign"], "-m = 4"),
        (2.5 * R, R, ["scaled"], "2.5 times"),
        (R.T, R, ["transposed", "wrong-shape"], "got shape (3, 2), expected (2, 3)"),
        (SQUARE.T, SQUARE, ["transposed"], "transpose"),
        (R[:, :2], R, ["wrong-shape"], "got shape (2, 2), expected (2, 3)"),
        (np.where(R == 0, 7.0, R), R, ["zero-pattern"], "nonzero at 1 entries"),
        (np.where(R > 0, R, 0.0), R, ["zero-pattern"], "0 at 2 entries"),
        (np.where(R == 0, np.nan, R), R, ["not-finite"], "1 NaN"),
        (
            np.array([1.0, 2.0]),
            np.array([[1.0], [2.0]]),
            ["bias-shape", "wrong-shape"],
            "erratum E4",
        ),
    ],
    ids=[
        "same",
        "sign",
        "m",
        "1/m",
        "-m",
        "scaled",
        "transposed",
        "square-transposed",
        "wrong-shape",
        "extra-nonzeros",
        "missing-nonzeros",
        "nan",
        "bias",
    ],
)
def test_known_differences_are_named(
    actual: np.ndarray, expected: np.ndarray, ids: list[str], detail: str | None
) -> None:
    found = fingerprint(actual, expected, m=4)
    assert [f.id for f in found] == ids
    assert all(f.id in DIAGNOSES for f in found)  # one registry for the engine and the grader
    if detail is not None:
        assert detail in " ".join(str(f) for f in found)


def test_without_m_a_factor_is_only_scaled() -> None:
    assert [f.id for f in fingerprint(4 * R, R)] == ["scaled"]


def test_unknown_entries_of_the_truth_are_ignored() -> None:
    truth = R.copy()
    truth[0, 1] = np.nan  # skipped at a kink
    noisy = R.copy()
    noisy[0, 1] = 99.0
    assert fingerprint(noisy, truth) == []
    assert [f.id for f in fingerprint(-noisy, truth)] == ["sign"]


def test_differences_within_the_tolerance_are_no_difference() -> None:
    assert fingerprint(R + 1e-9, R, atol=1e-8) == []
    assert [f.id for f in fingerprint(R + 1e-9, R, atol=0.0, rtol=0.0)] == []  # no shape fits


def test_noise_beyond_the_tolerance_is_not_a_constant_factor() -> None:
    # A factor is named only when ‖G - cR‖ is within the tolerance: 2.5 R plus noise a
    # hundred times the tolerance (rtol 1e-6 of max|R| = 3) is no "scaled" result.
    noise = np.array([[1.0, -1.0, 0.5], [-0.5, 1.0, -1.0]])
    assert [f.id for f in fingerprint(2.5 * R + 3e-9 * noise, R, rtol=1e-6)] == ["scaled"]
    assert "scaled" not in [f.id for f in fingerprint(2.5 * R + 3e-4 * noise, R, rtol=1e-6)]
