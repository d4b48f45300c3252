"""The storey, pandas and Dask engines compute the same rows, offline and online,
equal to a pandas rolling-window ground truth (see conftest.rolling_truth)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from servegraph.errors import FeatureStoreError
from servegraph.featurestore import (
    FeatureSet,
    FeatureVector,
    ParquetTarget,
    SQLiteTarget,
    StreamSource,
    get_online_feature_service,
    ingest,
)
from servegraph.featurestore.engines import DaskEngine, IngestEngine, get_engine

from .conftest import make_events, rolling_truth

OPS = ["sum", "count", "avg", "min", "max", "std", "var"]
ENGINES = ["storey", "pandas", "dask"]


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str | IngestEngine:
    if request.param == "dask":
        return DaskEngine(request.getfixturevalue("dask_client"))
    return str(request.param)


def _fset(name: str, windows: tuple[str, ...] = ("1h", "3h")) -> FeatureSet:
    fset = FeatureSet(name, entities=["id"], timestamp_key="time")
    fset.add_aggregation("amount", OPS, list(windows), period="10m")
    fset.set_targets([ParquetTarget(), SQLiteTarget()])
    return fset


def _assert_truth(out: pd.DataFrame, df: pd.DataFrame, windows: tuple[str, ...]) -> None:
    assert len(out) == len(df)
    assert out["time"].tolist() == df["time"].tolist()  # the source's order
    for window in windows:
        for op in OPS:
            expected = rolling_truth(df, "amount", op, window, "10min").to_numpy()
            got = out[f"amount_{op}_{window}"].to_numpy(dtype=float)
            np.testing.assert_allclose(
                got, expected, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=f"{op}_{window}"
            )


def test_sliding_windows_equal_the_ground_truth(engine: str | IngestEngine) -> None:
    df = make_events(n=700, entities=6, seed=3)
    out = ingest(_fset("tx"), df, engine=engine)
    assert out is not None
    _assert_truth(out, df, ("1h", "3h"))


def test_engines_write_the_same_offline_and_online_rows(engine: str | IngestEngine) -> None:
    df = make_events(n=500, entities=7, seed=5)
    reference = ingest(_fset("ref"), df, engine="storey")
    fset = _fset("tx")
    out = ingest(fset, df, engine=engine)
    assert reference is not None and out is not None
    pd.testing.assert_frame_equal(out, reference, rtol=1e-9)

    stored = fset.offline_target().read(fset.key, "time")
    expected = reference.sort_values("time", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(stored[expected.columns], expected, rtol=1e-9)

    FeatureVector("ref-vec", ["ref.*"]).save()
    FeatureVector("tx-vec", ["tx.*"]).save()
    entities = [{"id": i} for i in range(8)]  # 7 has no rows
    ours, theirs = get_online_feature_service("tx-vec"), get_online_feature_service("ref-vec")
    try:
        got, want = ours.get(entities), theirs.get(entities)
    finally:
        ours.close()
        theirs.close()
    assert got[7] == want[7] == dict.fromkeys(want[7])
    for row_got, row_want in zip(got[:7], want[:7], strict=True):
        assert row_got.pop("channel") == row_want.pop("channel")
        assert row_got == pytest.approx(row_want, rel=1e-9)


def test_appends_continue_the_windows_from_stored_rows(engine: str | IngestEngine) -> None:
    df = make_events(n=400, entities=4, seed=8)
    fset = _fset("parts", ("1h",))
    fset.graph.to(name="tag", handler="(dict(event, tagged=True))")
    first = ingest(fset, df.iloc[:250], engine=engine)
    second = ingest(fset, df.iloc[250:], overwrite=False, engine=engine)
    assert first is not None and second is not None
    assert len(second) == 150  # the replayed history is not written again
    assert second["tagged"].all()
    got = pd.concat([first, second], ignore_index=True)
    _assert_truth(got, df, ("1h",))
    assert len(fset.offline_target().read(fset.key, "time")) == 400


def test_fixed_windows_equal_storey(engine: str | IngestEngine) -> None:
    df = make_events(n=400, entities=3, seed=11, hours=60).assign(
        qty=lambda d: np.arange(len(d)) % 7
    )
    df.loc[[5, 77], "amount"] = np.nan  # missing values: counted, sums NaN, min/max skip
    fixed_ops = ["sum", "count", "avg", "min", "max", "std", "var", "sqr", "first", "last"]

    def fset(name: str) -> FeatureSet:
        fs = FeatureSet(name, entities=["id"], timestamp_key="time")
        fs.add_aggregation("amount", fixed_ops, ["1h", "3h", "1d"])
        fs.add_aggregation("qty", ["max", "last", "count"], ["2h"])
        fs.set_targets([ParquetTarget(), SQLiteTarget()])
        return fs

    reference = ingest(fset("ref"), df, engine="storey")
    out = ingest(fset("tx"), df, engine=engine)
    assert reference is not None and out is not None
    pd.testing.assert_frame_equal(out, reference, rtol=1e-9)


def test_steps_run_row_by_row_or_on_the_whole_frame(engine: str | IngestEngine) -> None:
    class Double:  # a frame-capable step: the pandas and Dask engines pass the whole frame
        accepts_frames = True

        def do(self, body: Any) -> Any:
            if isinstance(body, pd.DataFrame):
                return body.assign(double=body["amount"] * 2)
            return dict(body, double=body["amount"] * 2)

    def band(row: dict[str, Any]) -> dict[str, Any]:  # a row step
        row["band"] = "high" if row["amount"] > 50 else "low"
        return row

    df = make_events(n=300, entities=5, seed=2)
    results = []
    for name, eng in [("ref", "storey"), ("tx", engine)]:
        fset = FeatureSet(name, entities=["id"], timestamp_key="time")
        fset.graph.to(class_name=Double(), name="double").to(name="band", handler=band)
        fset.add_aggregation("double", ["sum", "max"], ["1h"], period="10m")
        fset.set_targets([ParquetTarget(), SQLiteTarget()])
        results.append(ingest(fset, df, engine=eng))
    reference, out = results
    assert reference is not None and out is not None
    pd.testing.assert_frame_equal(out, reference)
    assert out["band"].tolist() == np.where(df["amount"] > 50, "high", "low").tolist()


def test_multi_entity_keys(engine: str | IngestEngine) -> None:
    df = make_events(n=300, entities=3, seed=4)
    df["region"] = np.where(np.arange(len(df)) % 2, "eu", "us")

    def fset(name: str) -> FeatureSet:
        fs = FeatureSet(name, entities=["id", "region"], timestamp_key="time")
        fs.add_aggregation("amount", ["sum", "count"], ["1h"], period="10m")
        fs.set_targets([ParquetTarget(), SQLiteTarget()])
        return fs

    reference = ingest(fset("ref"), df, engine="storey")
    out = ingest(fset("tx"), df, engine=engine)
    assert reference is not None and out is not None
    pd.testing.assert_frame_equal(out, reference)


def test_dask_engine_with_worker_processes() -> None:
    df = make_events(n=300, entities=5, seed=6)
    reference = ingest(_fset("ref"), df, engine="pandas")
    fset = _fset("tx")
    out = ingest(fset, df, engine=DaskEngine(n_workers=2, processes=True))
    assert reference is not None and out is not None
    pd.testing.assert_frame_equal(out, reference)
    stored = fset.offline_target().read(fset.key, "time")
    assert len(stored) == len(df)
    root = fset.offline_target().location(fset.key)  # type: ignore[attr-defined]
    assert len(list(root.rglob("part-*.parquet"))) > 1  # written by the workers, in parts


def test_default_engine_and_bad_engine_names() -> None:
    assert get_engine("pandas").name == "pandas"
    with pytest.raises(FeatureStoreError, match="'spark'"):
        ingest(_fset("tx"), make_events(n=10), engine="spark")
    with pytest.raises(FeatureStoreError, match="storey engine"):
        ingest(_fset("tx"), StreamSource("file:///nowhere"), engine="pandas")


def test_feature_steps_give_the_same_rows_on_every_engine(engine: str | IngestEngine) -> None:
    from servegraph.featurestore.steps import DateExtractor, Imputer, MapValues, OneHotEncoder

    df = make_events(n=300, entities=5, seed=2)
    df.loc[[3, 9], "amount"] = np.nan
    results = []
    for name, eng in [("ref", "storey"), ("tx", engine)]:
        fset = FeatureSet(name, entities=["id"], timestamp_key="time")
        fset.graph.to(Imputer(mapping={"amount": 1.0}), name="impute").to(
            OneHotEncoder(mapping={"channel": ["web", "shop", "app"]}), name="onehot"
        ).to(
            MapValues(
                mapping={"channel": {"web": 1, "shop": 2, "app": 3}}, with_original_features=True
            ),
            name="map",
        ).to(DateExtractor(parts=["hour"], timestamp_col="time"), name="dates")
        fset.add_aggregation("amount", ["sum", "max"], ["1h"], period="10m")
        fset.set_targets([ParquetTarget(), SQLiteTarget()])
        results.append(ingest(fset, df, engine=eng))
    reference, out = results
    assert reference is not None and out is not None
    assert out["amount"].isna().sum() == 0  # imputed before the aggregation
    pd.testing.assert_frame_equal(out, reference)
