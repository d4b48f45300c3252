"""Cell values become plain JSON values for the online stores."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from servegraph.featurestore.targets.base import jsonable


def test_jsonable() -> None:
    assert jsonable(np.int64(3)) == 3 and type(jsonable(np.int64(3))) is int
    assert jsonable(np.float32(0.5)) == 0.5
    assert jsonable(float("nan")) is None
    assert jsonable(pd.NaT) is None
    assert jsonable(None) is None
    assert jsonable(pd.Timestamp("2024-01-01 10:00")) == "2024-01-01T10:00:00"
    assert jsonable(dt.datetime(2024, 1, 1)) == "2024-01-01T00:00:00"
    assert jsonable(np.bool_(True)) is True
    assert jsonable("x") == "x" and jsonable([1]) == [1]
