"""Multi-function graphs: a queue step cuts the graph, the child consumes the stream.

The root function runs its own steps, pushes to the queue and answers; the
child (``function="worker"``) reads the queue with StreamConsumer and pushes its
results to an output queue; the mock server runs the whole graph in one process.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

import servegraph as sg
from servegraph.errors import DeployError, GraphError
from servegraph.functions.serving import ServingFunction
from servegraph.serving import commands
from servegraph.serving.event import Event
from servegraph.serving.nuclio_spec import SERVING_SPEC_ENV
from servegraph.serving.split import envelope
from servegraph.serving.stream_source import consume
from servegraph.streams import get_stream
from tests.serve_process import serve_process

APP = """
def prep(body):
    return {**body, "prepped": True}


def heavy(body):
    return {**body, "heavy": body["x"] * 10}
"""


def _function(tmp_path: Path, queue: str, out: str) -> ServingFunction:
    (tmp_path / "pipeline_app.py").write_text(APP)
    fn = sg.code_to_function("front", str(tmp_path / "pipeline_app.py"), kind="serving")
    graph = fn.set_topology("flow", engine="async")
    graph.to(name="prep", handler="prep").to(">>", "q", path=queue).to(
        name="heavy", handler="heavy", function="worker"
    ).to(">>", "out", path=out, function="worker")
    fn.add_child_function("worker")
    return fn


async def _drain(url: str, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Read records of ``url`` until ``count`` arrived and nothing more comes for a moment."""
    stream = get_stream(url)
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    quiet_until = None
    try:
        while time.monotonic() < deadline:
            records = await stream.read("test-reader", "r1", count=100, block_ms=200)
            got.extend(r.data for r in records)
            if records:
                await stream.ack("test-reader", [r.offset for r in records])
            if len(got) >= count:
                quiet_until = quiet_until or time.monotonic() + 1.5
                if time.monotonic() > quiet_until:
                    break
    finally:
        await stream.close()
    return got


def _serving(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    env = {e["name"]: e["value"] for e in doc["spec"]["env"]}
    spec: dict[str, Any] = json.loads(env[SERVING_SPEC_ENV])
    return spec


def test_mock_server_runs_the_whole_graph_in_one_process(tmp_path: Path) -> None:
    fn = _function(tmp_path, str(tmp_path / "q"), str(tmp_path / "out"))
    server = fn.to_mock_server()
    assert server.test(body={"x": 2}) == {"x": 2, "prepped": True, "heavy": 20}


def test_exported_root_and_child_specs(tmp_path: Path) -> None:
    queue, out = str(tmp_path / "q"), str(tmp_path / "out")
    fn = _function(tmp_path, queue, out)
    root = _serving(Path(fn.export(tmp_path / "front.yaml")))
    child = _serving(Path(fn.export(tmp_path / "worker.yaml", function="worker")))
    assert (root["current_function"], root["root_function"]) == ("front", "front")
    assert "stream_source" not in root
    assert (child["current_function"], child["stream_source"]) == ("worker", queue)
    assert yaml.safe_load((tmp_path / "worker.yaml").read_text())["metadata"]["name"] == "worker"
    again = ServingFunction.from_dict(fn.to_dict())
    assert again.spec.function_refs == {"worker": {"url": None, "image": None}}


async def test_root_pushes_once_and_answers_child_consumes_once(tmp_path: Path) -> None:
    queue, out = str(tmp_path / "q"), str(tmp_path / "out")
    fn = _function(tmp_path, queue, out)
    root = commands.load_server(fn.export(tmp_path / "front.yaml"))
    child = commands.load_server(fn.export(tmp_path / "worker.yaml", function="worker"))
    for i in range(5):
        response = await root.run_async(Event(body={"x": i}, path="/", id=f"req-{i}"))
        assert response.body == {"x": i, "prepped": True}  # the child's steps did not run here
    await root.run_async(Event(body={"x": 3}, path="/", id="req-3"))  # a retried request
    pushed = await _drain(queue, 5, timeout=5)
    assert sorted(r["_event_id"] for r in pushed) == [f"req-{i}" for i in range(5)]

    # a second copy reaching the queue (another root replica retried it) is run once
    extra = get_stream(queue)
    await extra.push([envelope("req-4", {"x": 4, "prepped": True}, "/")])
    await extra.close()
    driver = await consume(child, get_stream(queue), until_idle=True, block_ms=100)
    assert driver.stats.processed == 6
    results = await _drain(out, 5, timeout=5)
    assert sorted(r["body"]["heavy"] for r in results) == [0, 10, 20, 30, 40]
    await root.close()
    await child.close()


def test_a_child_fed_by_kafka_gets_the_nuclio_trigger_serve_source_reads(tmp_path: Path) -> None:
    fn = _function(tmp_path, "kafka://b1:9092/work", "kafka://b1:9092/done")
    doc = yaml.safe_load(Path(fn.export(tmp_path / "w.yaml", function="worker")).read_text())
    trigger = doc["spec"]["triggers"]["queue"]
    assert trigger["kind"] == "kafka-cluster" and trigger["attributes"]["topics"] == ["work"]
    root = yaml.safe_load(Path(fn.export(tmp_path / "f.yaml")).read_text())
    assert "queue" not in root["spec"]["triggers"]


def test_under_nuclio_a_child_reads_the_queued_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nuclio_sdk
    from nuclio_sdk.test import Platform

    from servegraph.serving import nuclio

    fn = _function(tmp_path, "kafka://b1:9092/work", "")
    fn.spec.graph.steps.pop("out")  # type: ignore[union-attr]
    fn.spec.graph["heavy"].respond()  # type: ignore[index]
    doc = yaml.safe_load(Path(fn.export(tmp_path / "w.yaml", function="worker")).read_text())
    for item in doc["spec"]["env"]:
        monkeypatch.setenv(item["name"], item["value"])
    function_dir = tmp_path / "opt-nuclio"  # Nuclio writes the code as <module>.py there
    function_dir.mkdir()
    source = base64.b64decode(doc["spec"]["build"]["functionSourceCode"]).decode()
    (function_dir / "pipeline_app.py").write_text(source)
    monkeypatch.syspath_prepend(str(function_dir))
    record = json.dumps(envelope("e7", {"x": 7, "prepped": True}, "/")).encode()
    trigger = nuclio_sdk.TriggerInfo("kafka-cluster", "queue")
    response = Platform().call_handler(
        nuclio.handler, nuclio_sdk.Event(body=record, trigger=trigger)
    )
    assert json.loads(response.body) == {"x": 7, "prepped": True, "heavy": 70}


def test_steps_naming_an_undeclared_function_or_a_child_without_queue(tmp_path: Path) -> None:
    fn = sg.new_function("front", kind="serving")
    fn.set_topology("flow").to(name="a", handler="json.dumps", function="nobody")
    with pytest.raises(GraphError, match=r"step 'a' runs in function nobody, .*add_child_function"):
        fn.export(tmp_path / "x.yaml")
    with pytest.raises(GraphError, match="runs in function nobody"):
        fn.deploy()  # before any dashboard is contacted
    fn.add_child_function("nobody")
    with pytest.raises(DeployError, match="fed by one queue step"):
        fn.export(tmp_path / "x.yaml", function="nobody")
    with pytest.raises(DeployError, match="no child function 'other'"):
        fn.export(tmp_path / "x.yaml", function="other")
    with pytest.raises(DeployError, match="must be a code file"):
        fn.add_child_function("w", str(tmp_path / "missing.py"))


def _post_many(base: str, count: int) -> list[dict[str, Any]]:
    answers = []
    for i in [*range(count), 0, count - 1]:  # two retries: same X-Request-Id
        request = urllib.request.Request(
            f"{base}/", data=json.dumps({"x": i}).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-Request-Id": f"req-{i}"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as resp:
            answers.append(json.loads(resp.read()))
    return answers


def _run_split(tmp_path: Path, queue: str, out: str) -> None:
    fn = _function(tmp_path, queue, out)
    empty = tmp_path / "run"
    empty.mkdir()
    fn.export(empty / "front.yaml")
    fn.export(empty / "worker.yaml", function="worker")
    with (
        serve_process(empty / "worker.yaml", empty, http=False),
        serve_process(empty / "front.yaml", empty) as base,
    ):
        answers = _post_many(base, 20)
        assert answers[:20] == [{"x": i, "prepped": True} for i in range(20)]
        results = asyncio.run(_drain(out, 20))
    assert len(results) == 20  # 22 requests, 20 events: each processed once
    assert sorted(r["body"]["heavy"] for r in results) == [i * 10 for i in range(20)]


def test_root_and_child_processes_over_the_file_log(tmp_path: Path) -> None:
    _run_split(tmp_path, f"file://{tmp_path / 'streams' / 'q'}", str(tmp_path / "streams" / "out"))


def test_root_and_child_processes_over_redis(tmp_path: Path, redis_url: str, unique: str) -> None:
    _run_split(tmp_path, f"{redis_url}/q-{unique}", f"{redis_url}/out-{unique}")
