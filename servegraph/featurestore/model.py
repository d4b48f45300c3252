"""Entities, features and value types: the schema of a feature set.

>>> Entity("customer_id", "int").to_dict()
{'name': 'customer_id', 'value_type': 'int'}
>>> value_type_of(pd.Series([1.5]))
'float'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from servegraph.errors import SchemaError

VALUE_TYPES = ("int", "float", "str", "bool", "datetime", "object")


def value_type_of(column: pd.Series) -> str:
    """The value type name of a pandas column (one of ``VALUE_TYPES``)."""
    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if pd.api.types.is_integer_dtype(column):
        return "int"
    if pd.api.types.is_float_dtype(column):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime"
    if pd.api.types.is_string_dtype(column):
        return "str"
    # an object column: judge by its values, ignoring gaps (bools with a None stay bool)
    return _INFERRED.get(pd.api.types.infer_dtype(column, skipna=True), "object")


_INFERRED = {
    "boolean": "bool",
    "integer": "int",
    "floating": "float",
    "mixed-integer-float": "float",
    "string": "str",
    "datetime": "datetime",
    "datetime64": "datetime",
}


def _check_value_type(owner: str, name: str, value_type: str | None) -> None:
    if value_type is not None and value_type not in VALUE_TYPES:
        raise SchemaError(
            f"The 'value_type' of {owner} {name!r} must be one of {VALUE_TYPES}. "
            f"Got {value_type!r} instead."
        )


@dataclass
class Entity:
    """The key a feature set is indexed by, e.g. ``Entity("customer_id")``."""

    name: str
    value_type: str | None = None

    def __post_init__(self) -> None:
        _check_value_type("entity", self.name, self.value_type)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Feature:
    """A named, typed column of a feature set, e.g. ``Feature("amount", "float")``."""

    name: str
    value_type: str | None = None

    def __post_init__(self) -> None:
        _check_value_type("feature", self.name, self.value_type)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compatible(declared: str, found: str) -> bool:
    """Whether data of type ``found`` may be stored in a feature declared ``declared``."""
    if declared == found or declared == "object":
        return True
    numeric = {"int", "float", "bool"}
    # an int column with missing values becomes float; a float feature accepts ints
    return declared in {"int", "float"} and found in numeric
