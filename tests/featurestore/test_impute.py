"""Impute policies resolve constants and statistics."""

from __future__ import annotations

import pytest

from servegraph.errors import FeatureNotFoundError, FeatureStoreError
from servegraph.featurestore import ImputePolicy

STATS = {"age": {"mean": 40.0, "50%": 38.0, "max": 90.0}, "tier": {"top": "gold", "count": 4}}


def test_constants_statistics_and_wildcard() -> None:
    policy = ImputePolicy({"*": "$mean", "tier": "$top", "score": 0})
    fills = policy.resolve(
        [("age", "age", STATS), ("tier", "level", STATS), ("score", "score", STATS)]
    )
    assert fills == {"age": 40.0, "score": 0}  # "level" has no rule of its own; "*" skips text
    assert ImputePolicy({"level": "$top"}).resolve([("tier", "level", STATS)]) == {"level": "gold"}
    assert ImputePolicy({"age": "$median"}).resolve([("age", "age", STATS)]) == {"age": 38.0}


def test_missing_statistic_is_an_error_naming_it() -> None:
    with pytest.raises(FeatureStoreError, match=r"'\$std' for feature 'age'"):
        ImputePolicy({"age": "$std"}).resolve([("age", "age", STATS)])
    with pytest.raises(FeatureStoreError, match="ingest first"):
        ImputePolicy({"*": "$mean"}).resolve([("new", "new", {})])
    with pytest.raises(FeatureStoreError, match="impute_policy"):
        ImputePolicy(["$mean"])  # type: ignore[arg-type]


def test_a_rule_for_a_feature_the_vector_lacks_is_an_error_naming_it() -> None:
    with pytest.raises(FeatureNotFoundError, match="'agee'"):
        ImputePolicy({"agee": 0, "*": 1}).resolve([("age", "age", STATS)])
