"""The model endpoint registry on the run database (SQLite here, PostgreSQL too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from servegraph.errors import MonitoringError, NotFoundInStoreError
from servegraph.featurestore.stats import compute_stats
from servegraph.monitoring import db
from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint, endpoints_table

TRAIN = pd.DataFrame({"age": [20.0, 30.0, 40.0, 50.0], "spend": [1.0, 2.0, 2.0, 9.0], "y": [0] * 4})


def test_register_computes_reference_stats_once() -> None:
    registry = EndpointRegistry()
    ep = registry.register(
        ModelEndpoint(id="churn.v1", function="churn", model_name="v1", feature_names=["age"]),
        reference=TRAIN,
    )
    assert ep.reference_stats == compute_stats(TRAIN[["age"]])
    stored = registry.get("churn.v1")
    assert stored.reference_stats == ep.reference_stats and stored.feature_names == ["age"]
    # registering again without reference keeps the stored statistics
    registry.register(ModelEndpoint(id="churn.v1", function="churn", model_uri="store://m"))
    again = registry.get("churn.v1")
    assert again.reference_stats == ep.reference_stats and again.model_uri == "store://m"
    assert again.created == ep.created


def test_list_by_project_and_delete() -> None:
    registry = EndpointRegistry()
    registry.register(ModelEndpoint(id="a", project="p1"))
    registry.register(ModelEndpoint(id="b", project="p2"))
    assert [e.id for e in registry.list()] == ["a", "b"]
    assert [e.id for e in registry.list(project="p2")] == ["b"]
    registry.delete("a")
    with pytest.raises(NotFoundInStoreError, match="'a'"):
        registry.get("a")


def test_bad_registrations_are_named() -> None:
    with pytest.raises(MonitoringError, match="'id'"):
        EndpointRegistry().register(ModelEndpoint(id=""))
    with pytest.raises(MonitoringError, match=r"lacks the features \['height'\]"):
        EndpointRegistry().register(
            ModelEndpoint(id="x", feature_names=["height"]), reference=TRAIN
        )


def test_works_on_postgresql(postgres_url: str, unique: str) -> None:
    registry = EndpointRegistry(postgres_url)
    try:
        registry.register(ModelEndpoint(id=f"pg-{unique}", feature_names=["age"]), reference=TRAIN)
        assert registry.get(f"pg-{unique}").reference_stats["age"]["count"] == 4
        with db.begin(postgres_url) as conn:
            assert sa.inspect(conn).has_table(endpoints_table.name)
    finally:
        registry.delete(f"pg-{unique}")
        db.dispose(postgres_url)


def test_plain_paths_and_postgres_urls_are_read_like_the_run_db(tmp_path: Path) -> None:
    registry = EndpointRegistry(str(tmp_path / "plain.db"))
    registry.register(ModelEndpoint(id="x"))
    assert (tmp_path / "plain.db").exists()
    db.dispose(str(tmp_path / "plain.db"))


class FakeFeatureSet:
    def __init__(self, stats: dict[str, Any]) -> None:
        self.stats = stats


def test_reference_from_a_feature_set(monkeypatch: pytest.MonkeyPatch) -> None:
    import servegraph.featurestore as fs

    stats = compute_stats(TRAIN[["age", "spend"]])
    calls: list[tuple[str, str | None]] = []

    def get_feature_set(name: str, project: str | None = None) -> FakeFeatureSet:
        calls.append((name, project))
        return FakeFeatureSet(stats if name == "customers" else {})

    monkeypatch.setattr(fs, "get_feature_set", get_feature_set, raising=False)
    ep = EndpointRegistry().register(
        ModelEndpoint(id="fs", project="shop", feature_names=["spend"]), feature_set="customers"
    )
    assert calls == [("customers", "shop")]
    assert ep.reference_stats == {"spend": stats["spend"]}
    with pytest.raises(MonitoringError, match="has no statistics"):
        EndpointRegistry().register(ModelEndpoint(id="fs2"), feature_set="empty")
