"""Entities, features and value types."""

from __future__ import annotations

import pandas as pd
import pytest

from servegraph.errors import SchemaError
from servegraph.featurestore import Entity, Feature
from servegraph.featurestore.model import compatible, value_type_of


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2], "int"),
        ([1.5], "float"),
        ([True], "bool"),
        (["a"], "str"),
        ([pd.Timestamp("2024-01-01")], "datetime"),
        ([[1]], "object"),
    ],
)
def test_value_type_of(values: list[object], expected: str) -> None:
    assert value_type_of(pd.Series(values)) == expected


def test_bad_value_type_names_it() -> None:
    with pytest.raises(SchemaError, match="'decimal'"):
        Feature("x", "decimal")
    with pytest.raises(SchemaError, match="entity 'k'"):
        Entity("k", "uuid")


def test_compatible_types() -> None:
    assert compatible("float", "int") and compatible("int", "float")
    assert compatible("object", "str")
    assert not compatible("float", "str") and not compatible("str", "int")
