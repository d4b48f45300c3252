"""The real tritonclient (HTTP) against a servegraph server started in the test.

tritonclient is synchronous (gevent), so the client lives in one worker thread
and every call runs there, while the server runs on the test's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import tritonclient.http as triton
from aiohttp.test_utils import TestServer
from sklearn.tree import DecisionTreeClassifier
from tritonclient.utils import InferenceServerException

import servegraph
from servegraph.serving.http import create_app
from servegraph.serving.server import GraphServer
from servegraph.serving.v2_serving import V2ModelServer

X = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], dtype=np.float32)


class Shout(V2ModelServer):
    """BYTES in, BYTES out."""

    def predict(self, request: dict[str, Any]) -> Any:
        return np.array([bytes(v).upper() for v in request["inputs"]], dtype=object)


class Client:
    """Runs tritonclient calls in the one thread that owns the (gevent) client."""

    def __init__(self, url: str) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.url = url
        self.client: Client | None = None

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        def run() -> Any:
            if self.client is None:
                self.client = triton.InferenceServerClient(url=self.url, network_timeout=10)
            return getattr(self.client, method)(*args, **kwargs)

        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.run_in_executor(self.pool, run), 20)

    async def close(self) -> None:
        if self.client is not None:
            await self.call("close")
        self.pool.shutdown()


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    path = tmp_path / "model.pkl"
    joblib.dump(DecisionTreeClassifier().fit(X, [0, 1, 1]), path)
    fn = servegraph.new_function("triton-fn", kind="serving")
    fn.set_topology("router")
    fn.add_model("tree", class_name="SKLearnModelServer", model_path=str(path))
    fn.add_model("shout", class_name=Shout)
    server = GraphServer(fn.serving_spec(graph_as_dict=False))
    server.init_states(namespace=globals())
    async with TestServer(create_app(server), host="127.0.0.1") as http:
        client = Client(f"127.0.0.1:{http.port}")
        yield client
        await client.close()


async def test_health_and_metadata(client: Client) -> None:
    assert await client.call("is_server_live")
    assert await client.call("is_server_ready")
    meta = await client.call("get_server_metadata")
    assert meta["name"] == "servegraph" and "binary_tensor_data" in meta["extensions"]
    model = await client.call("get_model_metadata", "tree")
    assert model["name"] == "tree" and model["inputs"][0]["shape"] == [-1, 2]
    assert await client.call("is_model_ready", "tree")


@pytest.mark.parametrize("binary", [False, True])
async def test_infer_json_and_binary(client: Client, binary: bool) -> None:
    inp = triton.InferInput("inputs", list(X.shape), "FP32")
    inp.set_data_from_numpy(X, binary_data=binary)
    outputs = [triton.InferRequestedOutput("outputs", binary_data=binary)]
    result = await client.call("infer", "tree", [inp], outputs=outputs, request_id="q1")
    assert result.as_numpy("outputs").tolist() == [0, 1, 1]
    response = result.get_response()
    assert response["id"] == "q1" and response["model_name"] == "tree"
    assert ("parameters" in response["outputs"][0]) is binary


async def test_infer_binary_by_default_and_bytes(client: Client) -> None:
    inp = triton.InferInput("inputs", [3, 2], "FP32")
    inp.set_data_from_numpy(X)  # binary, and no outputs named: binary_data_output
    result = await client.call("infer", "tree", [inp])
    assert result.as_numpy("outputs").tolist() == [0, 1, 1]
    words = np.array([b"ab", b"c\x00d"], dtype=object)
    text = triton.InferInput("inputs", [2], "BYTES")
    text.set_data_from_numpy(words)
    result = await client.call("infer", "shout", [text])
    assert result.as_numpy("outputs").tolist() == [b"AB", b"C\x00D"]


async def test_unknown_model_raises_with_404(client: Client) -> None:
    inp = triton.InferInput("inputs", [3, 2], "FP32")
    inp.set_data_from_numpy(X)
    with pytest.raises(InferenceServerException) as info:
        await client.call("infer", "nope", [inp])
    assert info.value.status() == "404" and "'nope'" in info.value.message()
    assert not await client.call("is_model_ready", "nope")
    with pytest.raises(InferenceServerException, match="nope"):
        await client.call("get_model_metadata", "nope")
