"""``servegraph get models|endpoints|feature-sets|schedules``, ``config`` and the home, run
as a user runs them: the real command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from servegraph.featurestore import Entity, FeatureSet
from servegraph.functions.context import build_context
from servegraph.functions.factory import new_function
from servegraph.functions.project import new_project
from servegraph.monitoring.endpoints import EndpointRegistry, ModelEndpoint


def sg(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servegraph", *args],
        capture_output=True, text=True, timeout=120, cwd=cwd,
        env={**os.environ, "COLUMNS": "100", **env},
    )  # fmt: skip


def test_models_endpoints_feature_sets_and_schedules(tmp_path: Path) -> None:
    ctx = build_context("train", {"metadata": {"project": "churn"}})
    ctx.log_model("clf", body=b"m", model_file="clf.pkl", metrics={"auc": 0.91}, framework="sk")
    ctx.commit(completed=True)
    EndpointRegistry().register(ModelEndpoint(id="ep-1", project="churn", model_name="clf"))
    FeatureSet("orders", entities=[Entity("customer_id")], project="churn").save()
    project = new_project("churn", context=str(tmp_path))
    project.set_function(new_function("trainer", kind="job", command="train.py"))
    project.set_schedule("nightly", "0 2 * * *", function="trainer")

    models = sg("get", "models", "-o", "json")
    assert models.returncode == 0, models.stderr
    (model,) = json.loads(models.stdout)
    assert model["metadata"]["key"] == "clf" and model["spec"]["metrics"] == {"auc": 0.91}
    table = sg("get", "models").stdout
    assert "clf" in table and "auc=0.91" in table

    (endpoint,) = yaml.safe_load(sg("get", "endpoints", "-o", "yaml").stdout)
    assert endpoint["id"] == "ep-1" and endpoint["model_name"] == "clf"
    assert "ep-1" in sg("get", "endpoints").stdout

    (feature_set,) = json.loads(sg("get", "feature-sets", "-o", "json").stdout)
    assert (feature_set["name"], feature_set["entities"]) == ("orders", ["customer_id"])

    (schedule,) = json.loads(sg("get", "schedules", "-o", "json").stdout)
    assert (schedule["name"], schedule["cron"]) == ("nightly", "0 2 * * *")
    assert "0 2 * * *" in sg("get", "schedules").stdout


def test_run_table_gives_state_start_and_name_room_and_shortens_uids() -> None:
    fn = new_function("a-rather-long-run-name", kind="local", command="")
    fn.save()
    ctx = build_context("a-rather-long-run-name", {"metadata": {"project": "p"}})
    ctx.log_result("accuracy", 0.5)
    ctx.commit(completed=True)
    out = sg("get", "runs").stdout
    line = next(line for line in out.splitlines() if ctx.uid[:8] in line)
    assert "completed" in line and "a-rather-long-run-name" in line
    assert ctx.uid not in out  # 32 characters would take the columns' room
    assert str(ctx.to_dict()["status"]["start_time"])[:10] in line
    shown = sg("get", "runs", ctx.uid[:8], "-o", "json")
    assert json.loads(shown.stdout)[0]["metadata"]["uid"] == ctx.uid
    assert sg("logs", ctx.uid[:6]).returncode == 0


def test_functions_all_versions() -> None:
    new_function("versioned", kind="job", command="a.py", project="p").save()
    new_function("versioned", kind="job", command="b.py", project="p").save()
    latest = json.loads(sg("get", "functions", "-o", "json").stdout)
    every = json.loads(sg("get", "functions", "--all-versions", "-o", "json").stdout)
    assert len(latest) == 1 and len(every) == 2


def test_an_empty_listing_names_the_database(tmp_path: Path) -> None:
    result = sg("get", "runs")
    assert result.returncode == 0
    assert "no runs in database sqlite:///" in result.stderr
    assert os.environ["SERVEGRAPH_HOME"] in result.stderr


def test_config_prints_values_and_their_source(tmp_path: Path) -> None:
    stream = "redis://127.0.0.1:6379/sg"
    rows = json.loads(sg("config", "-o", "json", SERVEGRAPH_STREAM_PATH=stream).stdout)
    by_name = {r["setting"]: r for r in rows}
    assert by_name["stream_path"] == {
        "setting": "stream_path", "value": stream, "source": "environment SERVEGRAPH_STREAM_PATH"
    }  # fmt: skip
    assert by_name["home"]["source"] == "environment SERVEGRAPH_HOME"
    assert by_name["dbpath"]["value"].endswith("servegraph.db")
    table = sg("config", SERVEGRAPH_DBPATH="postgresql://me:secret@db/x").stdout
    assert "me:***@db" in table and "secret" not in table


def test_home_is_found_upward_like_git(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVEGRAPH_")}
    project = tmp_path / "proj"
    (project / ".servegraph").mkdir(parents=True)
    deep = project / "src" / "deep"
    deep.mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-m", "servegraph", "config", "-o", "json"],
        capture_output=True, text=True, timeout=120, cwd=deep, env=env,
    )  # fmt: skip
    home = next(r for r in json.loads(result.stdout) if r["setting"] == "home")
    assert home["value"] == str(project / ".servegraph")
    assert home["source"] == f"found .servegraph in parent folder {project}"
