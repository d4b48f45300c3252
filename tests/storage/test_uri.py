"""The one store:// grammar and the one engine cache per database URL."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import servegraph.storage.engines as engines
import servegraph.storage.uri as uri
from servegraph.errors import DataItemError
from servegraph.storage.uri import StoreUri, make_store_uri, parse_store_uri


def test_doctests() -> None:
    for module in (uri, engines):
        assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("store://models/p/clf", StoreUri("models", "p", "clf", "latest", "")),
        ("store://models/p/clf:v2", StoreUri("models", "p", "clf", "v2", "")),
        ("store://models/p/clf@abc", StoreUri("models", "p", "clf", "latest", "abc")),
        ("store://models/p/clf:prod@abc", StoreUri("models", "p", "clf", "prod", "abc")),
        ("store://feature-vectors/p/v:1", StoreUri("feature-vectors", "p", "v", "1", "")),
    ],
)
def test_parse_and_make_round_trip(text: str, expected: StoreUri) -> None:
    parsed = parse_store_uri(text)
    assert parsed == expected
    assert parse_store_uri(str(parsed)) == parsed
    assert make_store_uri(*expected) == str(parsed)


@pytest.mark.parametrize(
    "text", ["store://nope", "store://models/p", "store://models//k", "store://x/p/k", "s3://b/k"]
)
def test_bad_uris_name_the_grammar(text: str) -> None:
    with pytest.raises(DataItemError, match=r"store://"):
        parse_store_uri(text)


def test_one_engine_per_url_shared_by_run_db_monitoring_and_catalog(tmp_path: Path) -> None:
    from servegraph.featurestore.catalog import Catalog
    from servegraph.monitoring import db as monitoring_db
    from servegraph.storage.rundb import get_run_db

    url = f"sqlite:///{tmp_path}/one.db"
    run_db = get_run_db(url)
    assert monitoring_db.engine(url) is run_db.engine
    assert Catalog(url)._engine is run_db.engine
    assert engines.shared_engine(str(tmp_path / "one.db")) is run_db.engine  # a plain path
    run_db.close()
    assert engines.shared_engine(url) is not run_db.engine  # disposed: a fresh one
    engines.dispose_engine(url)
