"""Every store creates its folder; an explicit --db whose folder is missing is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from servegraph import cli
from servegraph.featurestore.catalog import Catalog
from servegraph.monitoring import db
from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint
from servegraph.storage.rundb import get_run_db


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "not" / "yet" / "home"
    monkeypatch.setenv("SERVEGRAPH_HOME", str(home))
    return home


def test_a_fresh_home_is_created_by_the_monitoring_and_catalog_stores(fresh_home: Path) -> None:
    try:
        EndpointRegistry().register(ModelEndpoint(id="ep", project="p"))
        assert EndpointRegistry().get("ep").project == "p"
    finally:
        db.dispose()
    assert (fresh_home / "servegraph.db").is_file()


def test_a_fresh_home_is_created_by_the_feature_catalog(fresh_home: Path) -> None:
    Catalog().save("feature-sets", "p", "n", "latest", {"x": 1})
    assert (fresh_home / "servegraph.db").is_file()


def test_a_fresh_home_is_created_by_the_run_db(fresh_home: Path) -> None:
    assert get_run_db().list_runs() == []
    assert (fresh_home / "servegraph.db").is_file()


@pytest.mark.parametrize("command", [["get", "runs"], ["logs", "abc"]])
def test_an_explicit_db_in_a_missing_folder_is_an_error_naming_it(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "tpyo"
    assert cli.main([*command, "--db", f"sqlite:///{typo}/servegraph.db"]) == 1
    assert str(typo) in capsys.readouterr().err
    assert not typo.exists()
