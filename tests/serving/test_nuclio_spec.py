"""The Nuclio function spec written by fn.export()."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from servegraph.errors import DeployError
from servegraph.serving.nuclio_spec import (
    HANDLER,
    SERVING_SPEC_ENV,
    build_nuclio_spec,
    serving_spec_of,
    to_yaml,
)

GRAPH = {"kind": "router", "routes": {"m1": {"kind": "task", "class_name": "M"}}}


def _fn(**spec: Any) -> dict[str, Any]:
    return {
        "kind": "serving",
        "metadata": {"name": "churn", "project": "demo", "labels": {"team": "ml"}},
        "spec": {"graph": GRAPH, "parameters": {"p": 1}, **spec},
    }


def test_spec_has_runtime_handler_env_build_and_http_trigger() -> None:
    spec = build_nuclio_spec(
        _fn(env=[{"name": "A", "value": "1"}], build={"commands": ["apt-get update"]}),
        namespace="ns",
    )
    assert spec["apiVersion"] == "nuclio.io/v1" and spec["kind"] == "NuclioFunction"
    assert spec["metadata"] == {
        "name": "churn",
        "namespace": "ns",
        "labels": {"team": "ml", "nuclio.io/project-name": "demo"},
    }
    body = spec["spec"]
    assert body["runtime"] == "python:3.11" and body["handler"] == HANDLER
    env = {e["name"]: e["value"] for e in body["env"]}
    assert env["A"] == "1"
    serving = json.loads(env[SERVING_SPEC_ENV])
    assert serving == {
        "version": "v2",
        "parameters": {"p": 1},
        "graph": GRAPH,
        "load_mode": None,
        "verbose": False,
        "function_uri": "demo/churn",
    }
    # servegraph is not on PyPI: no install command unless told how (no made-up pin)
    assert body["build"]["commands"] == ["apt-get update"]
    assert body["triggers"] == {"http": {"kind": "http", "maxWorkers": 4, "attributes": {}}}
    assert "minReplicas" not in body and "resources" not in body


def test_replicas_resources_streams_and_overrides() -> None:
    resources = {"limits": {"cpu": "2", "memory": "1Gi"}}
    spec = build_nuclio_spec(
        _fn(min_replicas=1, max_replicas=2, tracking={"class": "x:Y"}),
        max_replicas=5,
        resources=resources,
        http_port=31000,
        stream_triggers=["kafka://b1:9092,b2:9092/events", {"kind": "cron", "attributes": {}}],
        requirement="servegraph[redis]>=0.1",
        base_image="python:3.11-slim",
    )["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 5)
    assert spec["resources"] == resources
    assert spec["triggers"]["http"]["attributes"] == {"port": 31000}
    assert spec["triggers"]["stream-0"] == {
        "kind": "kafka-cluster",
        "maxWorkers": 8,
        "attributes": {
            "brokers": ["b1:9092", "b2:9092"],
            "topics": ["events"],
            "consumerGroup": "servegraph-serving",
            "initialOffset": "earliest",
        },
    }
    assert spec["triggers"]["stream-1"]["kind"] == "cron"
    assert spec["build"] == {
        "commands": ["pip install 'servegraph[redis]>=0.1'"],
        "baseImage": "python:3.11-slim",
    }
    env = {e["name"]: e["value"] for e in spec["env"]}
    assert json.loads(env[SERVING_SPEC_ENV])["tracking"] == {"class": "x:Y"}


def test_yaml_round_trip() -> None:
    spec = build_nuclio_spec(_fn())
    assert yaml.safe_load(to_yaml(spec)) == spec


def test_explicit_serving_spec_is_used_as_is() -> None:
    serving = {"version": "v2", "graph": {"kind": "flow", "steps": {}}, "parameters": {}}
    spec = build_nuclio_spec({"metadata": {"name": "f"}, "spec": {}}, serving_spec=serving)
    assert json.loads(spec["spec"]["env"][0]["value"]) == serving


@pytest.mark.parametrize(
    ("fn", "kwargs", "match"),
    [
        ({"metadata": {}, "spec": {"graph": GRAPH}}, {}, "metadata.name"),
        ({"metadata": {"name": "f"}, "spec": {}}, {}, "has no graph"),
        (_fn(), {"min_replicas": -1}, "'min_replicas'.*-1"),
        (_fn(), {"min_replicas": 3, "max_replicas": 2}, "must not exceed"),
        (_fn(), {"stream_triggers": ["redis://localhost/s"]}, "'stream_triggers'.*redis"),
        (_fn(), {"stream_triggers": [{"attributes": {}}]}, "'kind'"),
    ],
)
def test_bad_input_raises_deploy_error(
    fn: dict[str, Any], kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(DeployError, match=match):
        build_nuclio_spec(fn, **kwargs)


def test_serving_spec_without_project_uses_the_name() -> None:
    assert (
        serving_spec_of({"metadata": {"name": "f"}, "spec": {"graph": GRAPH}})["function_uri"]
        == "f"
    )
