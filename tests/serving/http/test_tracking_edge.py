"""Over HTTP: a request id no encoder can write is answered, and its record still logged."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

import servegraph
from servegraph.serving.http import create_app
from servegraph.serving.server import GraphServer
from servegraph.serving.v2_serving import V2ModelServer
from servegraph.streams import get_stream


class Echo(V2ModelServer):
    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


async def test_undecodable_request_ids_cost_no_records(tmp_path: Path) -> None:
    url = str(tmp_path / "tracking")
    fn = servegraph.new_function("edge", kind="serving")
    fn.set_topology("router")
    fn.add_model("m", class_name=Echo)
    spec = fn.serving_spec(graph_as_dict=False)
    spec["tracking"] = {"class": "servegraph.monitoring.tracking:StreamTracker",
                        "stream_path": url, "batch": 50}  # fmt: skip
    server = GraphServer(spec)
    server.init_states(namespace=globals())
    async with TestClient(TestServer(create_app(server))) as client:
        body = b'{"inputs": [[1]]}'
        for request_id in (b"ok-1", b"abc\xff\xfe", b"ok-2"):
            reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
            writer.write(
                b"POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                b"Content-Type: application/json\r\nX-Request-Id: " + request_id + b"\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 10)
            writer.close()
            assert b" 200 " in status
        resp = await client.post(
            "/v2/models/m/infer", data='{"id": "\\ud800", "inputs": [[2]]}', headers={
                "Content-Type": "application/json"}
        )  # fmt: skip
        assert resp.status == 200
    stream = get_stream(url)
    records = [r.data for r in await stream.read("check", "c", count=100)]
    await stream.close()
    assert len(records) == 4
    assert records[0]["request_id"] == "ok-1" and records[2]["request_id"] == "ok-2"
    assert "\ufffd" in records[1]["request_id"] and "\ufffd" in records[3]["request_id"]
