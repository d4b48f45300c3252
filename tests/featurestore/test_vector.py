"""Feature vectors: references, resolution against the catalog, persistence."""

from __future__ import annotations

import pytest

from servegraph.errors import FeatureNotFoundError, FeatureSetNotFoundError, FeatureStoreError
from servegraph.featurestore import Feature, FeatureSet, FeatureVector, get_feature_vector
from servegraph.featurestore.vector import parse_feature


def _sets() -> None:
    FeatureSet("a", entities=["k"], features=[Feature("x"), Feature("y")]).save()
    FeatureSet("b", entities=["k"], features=[Feature("x"), Feature("z")]).save()


def test_parse_feature_forms() -> None:
    assert parse_feature("a.x") == ("a", "x", None)
    assert parse_feature("a.*") == ("a", "*", None)
    assert parse_feature("a.x as ax") == ("a", "x", "ax")
    with pytest.raises(FeatureNotFoundError, match="'x'"):
        parse_feature("x")


def test_parts_group_features_by_set() -> None:
    _sets()
    vec = FeatureVector("v", ["a.*", "b.z", "b.x as bx"], label_feature="b.x")
    parts = vec.parts()
    assert [p.fset.name for p in parts] == ["a", "b"]
    assert parts[0].features == [("x", "x"), ("y", "y")]
    assert parts[1].features == [("z", "z"), ("x", "bx")]


def test_duplicate_output_column_asks_for_an_alias() -> None:
    _sets()
    with pytest.raises(FeatureStoreError, match="'x' appears twice"):
        FeatureVector("v", ["a.x", "b.x"]).parts()


def test_unknown_set_and_feature() -> None:
    _sets()
    with pytest.raises(FeatureSetNotFoundError, match="'c'"):
        FeatureVector("v", ["c.x"]).parts()
    with pytest.raises(FeatureNotFoundError, match=r"\['w'\]"):
        FeatureVector("v", ["a.w"]).parts()


def test_save_and_load() -> None:
    vec = FeatureVector("v", ["a.x"], label_feature="b.z", description="d", project="p")
    assert vec.save() == "store://feature-vectors/p/v:latest"
    loaded = get_feature_vector("store://feature-vectors/p/v:latest")
    assert loaded.to_dict() == vec.to_dict()
    with pytest.raises(FeatureSetNotFoundError, match="feature-vectors/default/nope"):
        get_feature_vector("nope")
    with pytest.raises(FeatureStoreError, match="at least one"):
        FeatureVector("v", [])
