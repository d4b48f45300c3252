"""Windowed aggregations computed on storey equal a pandas rolling-window ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servegraph.errors import FeatureStoreError
from servegraph.featurestore import FeatureSet, ParquetTarget, SQLiteTarget, ingest
from servegraph.featurestore.aggregation import Aggregation

from .conftest import make_events

PANDAS = {
    "sum": "sum",
    "count": "count",
    "avg": "mean",
    "min": "min",
    "max": "max",
    "std": "std",
    "var": "var",
}


def test_feature_names_follow_storey_naming() -> None:
    agg = Aggregation("amount", ["sum", "std"], ["1h", "2h"], period="10m", name="spend")
    assert agg.feature_names() == ["spend_sum_1h", "spend_std_1h", "spend_sum_2h", "spend_std_2h"]
    assert agg.rename_map()["spend_stddev_1h"] == "spend_std_1h"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"operations": ["median"]}, "'median'"),
        ({"operations": []}, "operations"),
        ({"windows": []}, "windows"),
        ({"windows": ["1x"]}, "1x"),
    ],
)
def test_bad_aggregation_raises_naming_the_value(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "column": "a",
        "operations": ["sum"],
        "windows": ["1h"],
        "period": "10m",
    } | kwargs
    with pytest.raises(FeatureStoreError, match=match):
        Aggregation(**args)  # type: ignore[arg-type]


def test_sliding_windows_equal_pandas_rolling_on_random_data() -> None:
    df = make_events(n=700, entities=6, seed=3)
    fset = FeatureSet("tx", entities=["id"], timestamp_key="time")
    ops = ["sum", "count", "avg", "min", "max", "std", "var"]
    fset.add_aggregation("amount", ops, ["1h", "3h"], period="10m")
    fset.set_targets([ParquetTarget(), SQLiteTarget()])
    out = ingest(fset, df)
    assert out is not None
    assert len(out) == len(df)

    got = out.sort_values(["id", "time"]).reset_index(drop=True)
    # storey slides by whole periods: an event's window covers the buckets of
    # ``period`` ending at its own bucket, i.e. pandas rolling over period-floored time
    truth = df.assign(bucket=df["time"].dt.floor("10min")).sort_values(["id", "time"])
    rolling = truth.set_index("bucket").groupby("id")["amount"]
    for window in ["1h", "3h"]:
        for op in ops:
            expected = getattr(rolling.rolling(window), PANDAS[op])().to_numpy()
            column = got[f"amount_{op}_{window}"].to_numpy(dtype=float)
            if op in ("std", "var"):  # one event in the window: pandas NaN, compare the rest
                mask = ~np.isnan(expected)
                expected, column = expected[mask], column[mask]
            np.testing.assert_allclose(
                column, expected, rtol=1e-9, atol=1e-9, err_msg=f"amount_{op}_{window}"
            )


def test_first_and_last_in_fixed_windows() -> None:
    df = pd.DataFrame(
        {
            "id": [1, 1, 1, 2],
            "time": pd.to_datetime(
                ["2024-01-01 00:10", "2024-01-01 00:50", "2024-01-01 01:20", "2024-01-01 00:30"]
            ),
            "v": [1.0, 2.0, 3.0, 9.0],
        }
    )
    fset = FeatureSet("fx", entities=["id"], timestamp_key="time")
    fset.add_aggregation("v", ["first", "last", "count"], ["1h"])  # fixed hourly windows
    fset.set_targets([ParquetTarget(), SQLiteTarget()])
    out = ingest(fset, df)
    assert out is not None
    rows = out.set_index(["id", "time"])
    assert rows.loc[(1, pd.Timestamp("2024-01-01 00:50")), "v_first_1h"] == 1.0
    assert rows.loc[(1, pd.Timestamp("2024-01-01 00:50")), "v_last_1h"] == 2.0
    # a new fixed window starts at 01:00
    assert rows.loc[(1, pd.Timestamp("2024-01-01 01:20")), "v_first_1h"] == 3.0
    assert rows.loc[(1, pd.Timestamp("2024-01-01 01:20")), "v_count_1h"] == 1.0


def test_appending_ingestion_continues_the_windows() -> None:
    df = make_events(n=400, entities=4, seed=8)
    whole = FeatureSet("whole", entities=["id"], timestamp_key="time")
    whole.add_aggregation("amount", ["sum", "count"], ["1h"], period="10m")
    expected = ingest(whole, df)

    parts = FeatureSet("parts", entities=["id"], timestamp_key="time")
    parts.graph.to(name="tag", handler="(dict(event, tagged=True))")
    parts.add_aggregation("amount", ["sum", "count"], ["1h"], period="10m")
    first = ingest(parts, df.iloc[:250])
    second = ingest(parts, df.iloc[250:], overwrite=False)
    assert expected is not None and first is not None and second is not None
    assert len(second) == 150  # replayed history is not written again
    assert second["tagged"].all()
    got = pd.concat([first, second], ignore_index=True)
    np.testing.assert_allclose(got["amount_sum_1h"], expected["amount_sum_1h"])
    np.testing.assert_allclose(got["amount_count_1h"], expected["amount_count_1h"])
    assert len(parts.offline_target().read(parts.key, "time")) == 400
