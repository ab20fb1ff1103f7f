"""The strategies reach the properties they promise, validate their bounds, and shrink."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from backprop.catalog import Point
from checks.strategies import test_points


@given(test_points())
def test_points_meet_every_guarantee(point: Point) -> None:
    cache = point.cache()
    for z in cache.z:
        assert np.all(np.abs(z) > 1e-2)
        assert np.all(np.any(z > 0, axis=1) & np.any(z < 0, axis=1))
        assert np.all(np.any(z > 0, axis=0))
    assert np.all((cache.y_hat >= 1e-2) & (cache.y_hat <= 1 - 1e-2))
    assert np.all(point.Y.sum(axis=1) > 0)
