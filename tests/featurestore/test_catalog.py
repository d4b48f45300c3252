"""The catalog stores feature-store objects as JSON on the configured database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from servegraph.errors import FeatureSetNotFoundError, FeatureStoreError
from servegraph.featurestore.catalog import Catalog, make_uri, parse_uri


def test_save_load_list_delete() -> None:
    catalog = Catalog()
    uri = catalog.save("feature-sets", "shop", "orders", "v1", {"a": [1, 2]})
    assert uri == "store://feature-sets/shop/orders:v1"
    assert catalog.load("feature-sets", "shop", "orders", "v1") == {"a": [1, 2]}
    catalog.save("feature-sets", "shop", "orders", "v1", {"a": 3})  # replaces
    assert Catalog().load("feature-sets", "shop", "orders", "v1") == {"a": 3}
    assert catalog.list("feature-sets") == [("shop", "orders", "v1")]
    catalog.delete("feature-sets", "shop", "orders", "v1")
    with pytest.raises(FeatureSetNotFoundError, match="store://feature-sets/shop/orders:v1"):
        catalog.load("feature-sets", "shop", "orders", "v1")


def test_catalog_lives_on_the_configured_dbpath(servegraph_home: Path) -> None:
    Catalog().save("feature-vectors", "p", "v", "latest", {})
    with sqlite3.connect(servegraph_home / "servegraph.db") as conn:
        rows = conn.execute("SELECT kind, name FROM featurestore_objects").fetchall()
    conn.close()
    assert rows == [("feature-vectors", "v")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orders", ("default", "orders", "latest")),
        ("orders:v2", ("default", "orders", "v2")),
        ("store://feature-sets/shop/orders", ("shop", "orders", "latest")),
        ("store://feature-sets/shop/orders:v3", ("shop", "orders", "v3")),
    ],
)
def test_parse_uri(text: str, expected: tuple[str, str, str]) -> None:
    assert parse_uri(text, "feature-sets") == expected
    assert make_uri("feature-sets", *expected).endswith(f"/{expected[1]}:{expected[2]}")


@pytest.mark.parametrize("text", ["store://feature-vectors/p/x", "store://feature-sets/x", ":v1"])
def test_bad_uris_are_refused(text: str) -> None:
    with pytest.raises(FeatureStoreError, match=r"store://|empty"):
        parse_uri(text, "feature-sets")
