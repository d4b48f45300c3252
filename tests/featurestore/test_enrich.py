"""EnrichStep adds online features to event bodies; built the way the graph engines build it."""

from __future__ import annotations

import pandas as pd
import pytest

from servegraph.errors import BadRequestError, EntityError
from servegraph.featurestore import (
    EnrichStep,
    FeatureSet,
    FeatureVector,
    ParquetTarget,
    RedisTarget,
    SQLiteTarget,
    ingest,
)
from servegraph.featurestore.targets import OnlineTarget
from servegraph.graph import RootFlowStep, construct, resolve_class


@pytest.fixture(params=["sqlite", "redis"])
def online(request: pytest.FixtureRequest) -> OnlineTarget:
    if request.param == "sqlite":
        return SQLiteTarget()
    target: RedisTarget = request.getfixturevalue("redis_target")
    return target


def _vector(online: OnlineTarget) -> str:
    fset = FeatureSet("profile", entities=["customer_id"])
    fset.set_targets([ParquetTarget(), online])
    ingest(fset, pd.DataFrame({"customer_id": [1, 2], "age": [30, 50], "spend": [9.5, None]}))
    return FeatureVector("churn", ["profile.age", "profile.spend"]).save()


async def test_enrich_step_from_the_graph_contract(online: OnlineTarget) -> None:
    uri = _vector(online)
    graph = RootFlowStep()
    graph.to(
        "EnrichStep",
        name="enrich",
        feature_vector=uri,
        key="customer_id",
        impute_policy={"spend": 0.0},
    )
    step = graph.steps["enrich"]
    cls = resolve_class(step.class_name)  # type: ignore[attr-defined]
    assert cls is EnrichStep
    obj = construct(cls, step.class_args, context=None, name="enrich")  # type: ignore[attr-defined]
    assert isinstance(obj, EnrichStep)
    try:
        body = await obj.do({"customer_id": 2, "x": 1})
        assert body == {"customer_id": 2, "x": 1, "age": 50, "spend": 0.0}
        assert await obj.do({"customer_id": 1}) == {"customer_id": 1, "age": 30, "spend": 9.5}
        assert await obj.do({"customer_id": 7}) == {"customer_id": 7, "age": None, "spend": 0.0}
    finally:
        await obj.close()


async def test_enrich_step_bad_bodies_name_the_key() -> None:
    step = EnrichStep(name="enrich", feature_vector=_vector(SQLiteTarget()), key="customer_id")
    with pytest.raises(EntityError, match="customer_id"):
        await step.do({"id": 1})
    with pytest.raises(EntityError, match="dict body"):
        await step.do([1, 2])
    await step.close()


def test_enrich_step_needs_vector_and_key() -> None:
    with pytest.raises(EntityError, match="feature_vector"):
        EnrichStep(name="e", key="k")
    with pytest.raises(EntityError, match="'key'"):
        EnrichStep(name="e", feature_vector="v")


async def test_a_body_field_named_like_a_feature_follows_on_conflict() -> None:
    uri = _vector(SQLiteTarget())
    overwrite = EnrichStep(name="e", feature_vector=uri, key="customer_id")
    keep = EnrichStep(name="e", feature_vector=uri, key="customer_id", on_conflict="keep")
    error = EnrichStep(name="e", feature_vector=uri, key="customer_id", on_conflict="error")
    try:
        stored = {"customer_id": 1, "age": 30, "spend": 9.5}
        assert await overwrite.do({"customer_id": 1, "age": 99}) == stored
        kept = await keep.do({"customer_id": 1, "age": 99})
        assert kept == {"customer_id": 1, "age": 99, "spend": 9.5}
        with pytest.raises(BadRequestError, match="age"):
            await error.do({"customer_id": 1, "age": 99})
        assert await error.do({"customer_id": 1}) == stored
    finally:
        for step in (overwrite, keep, error):
            await step.close()


def test_on_conflict_must_be_known() -> None:
    with pytest.raises(EntityError, match="on_conflict"):
        EnrichStep(name="e", feature_vector="v", key="k", on_conflict="merge")
