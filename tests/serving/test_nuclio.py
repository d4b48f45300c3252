"""The Nuclio entry point, driven by nuclio-sdk's test platform."""

from __future__ import annotations

import json
from typing import Any

import nuclio_sdk
import pytest
from nuclio_sdk.test import Platform

from servegraph.errors import ConfigError, DeployError
from servegraph.graph import RootFlowStep, RouterStep
from servegraph.serving import nuclio


@pytest.fixture
def router_spec(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    router = RouterStep(name="router")
    router.add_route("m1", class_name="tests.serving.steps.Sum")
    spec = {"version": "v2", "parameters": {}, "graph": router.to_dict(), "function_uri": "p/fn"}
    monkeypatch.setenv(nuclio.SPEC_ENV, json.dumps(spec))
    return spec


def test_handler_serves_v2_requests(router_spec: dict[str, Any]) -> None:
    platform = Platform()
    event = nuclio_sdk.Event(
        body=json.dumps({"id": "r1", "inputs": [[1, 2]]}).encode(),
        content_type="application/json",
        method="POST",
        path="/v2/models/m1/infer",
    )
    response = platform.call_handler(nuclio.handler, event)
    assert response.status_code == 200 and response.content_type == "application/json"
    assert json.loads(response.body) == {"id": "r1", "model_name": "m1", "outputs": [3]}


def test_handler_turns_errors_into_json(router_spec: dict[str, Any]) -> None:
    platform = Platform()
    event = nuclio_sdk.Event(body=b'{"inputs": [[1]]}', method="POST", path="/v2/models/x/infer")
    response = platform.call_handler(nuclio.handler, event)
    assert response.status_code == 404
    assert "'x'" in json.loads(response.body)["error"]


async def test_async_handler(router_spec: dict[str, Any]) -> None:
    platform = Platform()
    context = platform.context
    nuclio.init_context(context)
    event = nuclio_sdk.Event(
        body=b'{"inputs": [[4, 4]]}', method="POST", path="/v2/models/m1/infer"
    )
    response = await nuclio.handler_async(context, event)
    assert json.loads(response.body)["outputs"] == [8]


class Local:
    def do(self, x: dict[str, Any]) -> dict[str, Any]:
        return {"got": x}


def test_nuclio_init_hook_installs_the_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = RootFlowStep(engine="sync")
    graph.to("Local", name="local").respond()
    monkeypatch.setenv(nuclio.SPEC_ENV, json.dumps({"graph": graph.to_dict()}))
    context = Platform().context
    nuclio.nuclio_init_hook(context, globals(), "serving")
    event = nuclio_sdk.Event(body=b'{"a": 1}', method="POST", path="/")
    response = context.mlrun_handler(context, event)
    assert json.loads(response.body) == {"got": {"a": 1}}
    with pytest.raises(DeployError, match="kind"):
        nuclio.nuclio_init_hook(context, globals(), "job")


@pytest.mark.parametrize("value", [None, "{not json", "[1]"])
def test_bad_spec_environment(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv(nuclio.SPEC_ENV, raising=False)
    else:
        monkeypatch.setenv(nuclio.SPEC_ENV, value)
    with pytest.raises(ConfigError, match=nuclio.SPEC_ENV):
        nuclio.init_context(Platform().context)


def test_handler_serves_oip_binary_tensors(router_spec: dict[str, Any]) -> None:
    import numpy as np

    rows = np.array([[1, 2], [3, 4]], dtype=np.int32)
    head = json.dumps(
        {
            "inputs": [{"name": "x", "shape": [2, 2], "datatype": "INT32",
                        "parameters": {"binary_data_size": rows.nbytes}}],
            "parameters": {"binary_data_output": True},
        }
    ).encode()  # fmt: skip
    event = nuclio_sdk.Event(
        body=head + rows.tobytes(),
        method="POST",
        path="/v2/models/m1/infer",
        headers={"Inference-Header-Content-Length": str(len(head))},
    )
    response = Platform().call_handler(nuclio.handler, event)
    assert response.status_code == 200, response.body
    length = int(response.headers["Inference-Header-Content-Length"])
    doc = json.loads(response.body[:length])
    (output,) = doc["outputs"]
    assert output["shape"] == [2] and output["parameters"]["binary_data_size"] == 16
    assert np.frombuffer(response.body[length:], dtype="<i8").tolist() == [3, 7]
