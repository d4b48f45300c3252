"""Secret sources: files, environment, dicts; masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from servegraph.errors import RunError
from servegraph.functions.secrets import SecretsStore, parse_secret_option, parse_secrets_file


def test_file_env_and_inline_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secrets.txt"
    path.write_text("# comment\nACCESS_KEY = abc123\n\nOTHER=x=y\n")
    monkeypatch.setenv("SG_TEST_SECRET", "from-env")
    store = SecretsStore()
    store.add_source("file", str(path))
    store.add_source("env", "SG_TEST_SECRET, SG_MISSING")
    store.add_source("inline", {"TOKEN": "tok"})
    assert store.get("ACCESS_KEY") == "abc123" and store.get("OTHER") == "x=y"
    assert store.get("SG_TEST_SECRET") == "from-env" and store.get("SG_MISSING") is None
    assert store.sources() == [
        {"kind": "file", "source": str(path)},
        {"kind": "env", "source": "SG_TEST_SECRET,SG_MISSING"},
        {"kind": "inline", "source": ["TOKEN"]},
    ]
    assert "abc123" not in str(store.sources()) and "tok" not in str(store.sources()[:2])
    assert store.mask("k=abc123 t=tok") == "k=*** t=***"


def test_bad_sources_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="KEY=VALUE"):
        (tmp_path / "bad.txt").write_text("NOEQUALS\n")
        parse_secrets_file(str(tmp_path / "bad.txt"))
    with pytest.raises(RunError, match="cannot be read"):
        parse_secrets_file(str(tmp_path / "missing.txt"))
    with pytest.raises(RunError, match="'vault'"):
        SecretsStore().add_source("vault", "x")
    with pytest.raises(RunError, match="file=PATH"):
        parse_secret_option("secrets.txt")
    assert parse_secret_option("file=a.txt") == ("file", "a.txt")


def test_mask_values_masks_strings_but_not_keys() -> None:
    store = SecretsStore()
    store.add_source("inline", {"K": "state"})
    data = {"state": "state is state", "n": 1, "items": ["state", 2]}
    assert store.mask_values(data) == {"state": "*** is ***", "n": 1, "items": ["***", 2]}


def test_a_secret_logged_as_a_result_is_masked_in_the_record() -> None:
    from servegraph.functions.context import build_context
    from servegraph.storage.rundb import get_run_db

    ctx = build_context("leaky", secrets={"TOKEN": "leaked-value-123"})
    ctx.log_result("oops", "token=leaked-value-123")
    ctx.commit()
    assert ctx.to_dict()["status"]["results"]["oops"] == "token=***"
    assert get_run_db().read_run(ctx.uid, ctx.project)["status"]["results"]["oops"] == "token=***"


def test_a_secret_in_artifact_metadata_never_reaches_the_artifact_table(
    servegraph_home: Path,
) -> None:
    from servegraph.functions.context import build_context
    from servegraph.storage.rundb import get_run_db

    ctx = build_context("leaky", secrets={"TOKEN": "leaked-value-456"})
    ctx.log_artifact("a", body=b"data", labels={"t": "leaked-value-456"},
                     description="made with leaked-value-456")  # fmt: skip
    ctx.log_model("m", body=b"w", metrics={"note": "leaked-value-456"})
    ctx.commit()
    stored = get_run_db().read_artifact("a", project=ctx.project)
    assert stored["metadata"]["labels"] == {"t": "***"}
    assert stored["spec"]["description"] == "made with ***"
    model = get_run_db().read_artifact("m", project=ctx.project)
    assert model["spec"]["metrics"] == {"note": "***"}
    persisted = b"".join(p.read_bytes() for p in servegraph_home.rglob("*") if p.is_file())
    assert b"leaked-value-456" not in persisted
